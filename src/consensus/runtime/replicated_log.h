#pragma once
// ReplicatedLog: the Log of a Raft server. It drives the pure core (consensus/core) on one
// thread: ticks, messages from peers and proposals go in; each Ready is carried out in the
// core's order (persist to the WAL, send, restore/apply, answer readers, advance).
//
// - Durability: entries and votes are fdatasynced (one sync per Ready, so concurrent writes
//   share it) before any message that depends on them leaves.
// - Apply: committed entries are applied on the same thread, published once per Ready, and
//   only then acknowledged, so a writer reads its own write (as SingleNodeLog does).
// - Proposals are accepted on the leader only: elsewhere they fail with kNotLeader and
//   leader() tells where the leader is (forwarding is the layer above's business).
// - Bootstrap: a brand-new directory with `bootstrap_voters` writes the same first entries on
//   every server (one conf change per voter, committed), so all start from one configuration.
// - Snapshots: every `snapshot_threshold` applied entries the Fsm's state is captured on the
//   apply thread and serialized on a helper thread, then saved, recorded in the WAL and the
//   log compacted to `trailing_logs` entries behind it. At start the newest snapshot is
//   restored and the WAL's entries after it are replayed.
// - Leader lease (lease_valid): the leader may answer Consul's default reads from its own
//   state while a quorum acknowledged heartbeats it sent less than LeaderLease::duration_for
//   (tick, election_tick) ago, by the monotonic clock (leader_lease.h has the argument), and
//   it has applied an entry of its own term. A partitioned leader loses it within that
//   duration; a paused one finds it expired when it wakes, since the clock ran on.
//   Followers keep their side with the core's CheckQuorum rule (no votes for an election
//   timeout after hearing from the leader) and, after a restart, by ignoring vote requests
//   for one election timeout: they may have acknowledged a leader just before going down.
//
// Threads: propose(), receive(), leader(), last_index(), applied_index(), lease_valid() from
// any thread;
// the Fsm and ProposeDone callbacks run on the Raft thread (pc-raft). The Transport's send()
// is called from that thread and must not block.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "consensus/core/raw_node.h"
#include "consensus/log.h"
#include "consensus/runtime/leader_lease.h"
#include "consensus/runtime/snapshot_store.h"
#include "consensus/wal/env.h"
#include "consensus/wal/wal.h"

namespace pc::consensus {

// Carries messages to other servers. send() must not block (queue and return); messages
// to an unknown or unreachable peer may be dropped: Raft retries.
class RaftTransport {
 public:
  virtual ~RaftTransport() = default;
  virtual void send(std::vector<raft::Message> messages) = 0;
};

struct ReplicatedLogOptions {
  raft::NodeId id = raft::kNoNode;
  // This server's RPC address ("ip:port"), reported by leader() when it leads.
  std::string self_address;
  // Where the WAL (wal/) and the snapshots (snapshots/) live: <data-dir>/raft.
  std::string dir;
  // Voters of a brand-new cluster with their addresses; ignored when `dir` holds state.
  std::map<raft::NodeId, std::string> bootstrap_voters;
  // Raft time: one tick every `tick`; elections after election_tick ticks without a leader
  // (randomized up to twice that), heartbeats every heartbeat_tick ticks.
  std::chrono::milliseconds tick{100};
  int election_tick = 10;
  int heartbeat_tick = 1;
  // Consul's raft_snapshot_threshold and raft_trailing_logs.
  std::uint64_t snapshot_threshold = 16384;
  std::uint64_t trailing_logs = 10240;
  std::size_t snapshots_retained = 2;
  std::uint64_t seed = 0;   // election jitter; 0 draws one from the OS
  wal::Env* env = nullptr;  // null: the real file system
  wal::WalOptions wal_options;
};

class ReplicatedLog final : public Log {
 public:
  ReplicatedLog(ReplicatedLogOptions options, Fsm& fsm, RaftTransport& transport);
  ~ReplicatedLog() override;
  ReplicatedLog(const ReplicatedLog&) = delete;
  ReplicatedLog& operator=(const ReplicatedLog&) = delete;

  // Restores the newest snapshot into the Fsm, opens the WAL (refusing real corruption),
  // replays what follows, bootstraps a new cluster if asked, and starts the Raft thread.
  core::Status start();
  // Stops the thread; proposals not yet applied fail with kUnavailable. Idempotent.
  void stop();
  // True once stop() began: waits (when_leader, when_applied) end at once from then on.
  bool stopping() const;

  // A message from a peer (any thread).
  void receive(raft::Message message);
  // Transport feedback (any thread): `id` could not be reached / a snapshot send ended.
  void report_unreachable(raft::NodeId id);
  void report_snapshot(raft::NodeId id, bool ok);
  // Transport feedback (any thread): `id`'s process is gone (its connection dropped and its
  // port refused a redial). If `id` leads us, forget it and campaign after a short random
  // delay instead of waiting out the election timeout; the other survivors, who saw the same
  // refusal, grant the PreVote. This breaks the followers' promise not to vote within an
  // election timeout of the leader's last heartbeat, which the leader lease rests on; it is
  // sound because the report means the leader's RPC port is closed, and a server whose port
  // is closed holds no lease: its process is gone (a lease lives in memory only; a restarted
  // process starts as a follower), or it is shutting down, and ServerRuntime stops the log,
  // which drops the lease, before it closes the port. What is assumed: nothing between the
  // servers forges a refusal for a live leader (a firewall rule rejecting with a TCP reset);
  // partition with drops. A live leader's next heartbeat makes it our leader again.
  void report_peer_gone(raft::NodeId id);

  void propose(std::string command, ProposeDone done) override;
  LeaderInfo leader() const override;
  std::uint64_t last_index() const override;
  std::uint64_t applied_index() const override;
  std::vector<std::string> voters() const override;

  // Membership, leader only (kNotLeader elsewhere, kUnavailable while a change is pending):
  // `done` runs once the change is applied here.
  void add_voter(raft::NodeId id, std::string address, std::function<void(core::Status)> done);
  void remove_server(raft::NodeId id, std::function<void(core::Status)> done);
  // Operator actions by address (see Log); on a follower they fail with kNotLeader (the
  // ForwardingLog sends them to the leader).
  RaftConfiguration configuration() const override;
  void remove_server(std::string address, OperatorDone done) override;
  void transfer_leadership(std::string address, OperatorDone done) override;
  // Runs `fn` on the Raft thread once this server has applied (and published) `index`.
  void when_applied(std::uint64_t index, std::function<void()> fn);
  // Runs `fn(true)` on the Raft thread once a leader other than `not_this` (kNoNode: any) is
  // known, or `fn(false)` after `within` (rounded to ticks) or at shutdown: how a write that
  // found no usable leader waits out an election (Consul's rpc_hold_timeout).
  void when_leader(raft::NodeId not_this, std::chrono::milliseconds within,
                   std::function<void(bool)> fn);
  // Calls `done` once this server has applied everything committed before the call, as
  // confirmed by a quorum (Raft's ReadIndex, through the leader on a follower): a
  // linearizable read point for ?consistent.
  void read_barrier(OperatorDone done) override;
  // True while this server leads under a valid lease and has applied an entry of its term,
  // so its state holds every write acknowledged before the call (the leader lease above).
  // Cheap (two atomic loads and a clock read); false once stop() began.
  bool lease_valid() const override;
  // How long an acknowledged heartbeat keeps the lease (LeaderLease::duration_for).
  std::chrono::steady_clock::duration lease_duration() const { return lease_duration_; }

  // For operators and tests: the current configuration with addresses, and this node's view.
  struct Status {
    raft::NodeId id = raft::kNoNode;
    raft::NodeId leader = raft::kNoNode;
    raft::Role role = raft::Role::kFollower;
    std::uint64_t term = 0;
    std::uint64_t commit = 0;
    std::uint64_t applied = 0;
    std::uint64_t last_index = 0;
    std::uint64_t snapshot_index = 0;
    raft::ConfState conf;
    std::map<raft::NodeId, std::string> addresses;
    // The leader's view of each peer: match index and recently active.
    std::map<raft::NodeId, std::pair<std::uint64_t, bool>> progress;
  };
  Status status() const;
  // The rpc address of server `id` as the log names it ("" when unknown): what the transport
  // asks for every batch it sends, so it copies nothing else.
  std::string address_of(raft::NodeId id) const;

 private:
  struct Pending {
    std::uint64_t term = 0;
    ProposeDone done;
  };
  struct PendingConf {
    raft::ConfChange change;
    std::function<void(core::Status)> done;
  };
  struct SnapshotDone {
    std::uint64_t index = 0;
    std::uint64_t term = 0;
    raft::ConfState conf;
    core::Result<std::string> data;
  };

  core::Status recover();
  void run();
  void drain_inputs();
  void handle_ready();
  // Whether every committed entry of `rd` was persisted by an earlier Ready (and is not
  // among the entries `rd` persists), so it may be applied before this Ready's fsync.
  bool committed_entries_are_durable(const raft::Ready& rd) const;
  core::Status persist(const raft::Ready& ready);
  void apply(const raft::Ready& ready, std::vector<std::pair<ProposeDone, std::any>>& acks);
  void fail_pending(core::Code code, const std::string& why);
  void start_transfer(const std::string& address, OperatorDone done);
  void end_transfer(core::Status outcome);
  void maybe_snapshot();
  void finish_snapshot(SnapshotDone done);
  void publish_status();
  // Queues transport feedback as a local message, in order with the peer's messages.
  void report(raft::MessageType type, raft::NodeId id, bool reject);
  void peer_gone(raft::NodeId id);
  void maybe_quick_campaign(std::chrono::steady_clock::time_point now);
  // Leader lease bookkeeping (Raft thread): restart it on a new term or lost leadership,
  // note heartbeats (and MsgTimeoutNow) about to leave, republish the expiry.
  void lease_follow_term();
  void lease_note_sent(const std::vector<raft::Message>& messages);
  void refresh_lease();

  const ReplicatedLogOptions options_;
  Fsm& fsm_;
  RaftTransport& transport_;

  // Owned by the Raft thread once started.
  std::unique_ptr<wal::Wal> wal_;
  SnapshotStore snapshots_;
  raft::MemoryStorage storage_;
  std::unique_ptr<raft::RawNode> node_;
  raft::ConfState conf_;  // as of the last applied entry
  std::map<raft::NodeId, std::string> addresses_;
  std::uint64_t applied_ = 0;
  std::uint64_t snapshot_index_ = 0;
  std::map<std::uint64_t, Pending> pending_;  // by log index, leader only
  std::map<std::uint64_t, std::function<void(core::Status)>> pending_conf_;  // by log index
  // Reads waiting for the leader's read point, with the ticks they may still wait: a
  // ReadIndex message lost on the way (or a leader that never answers) must not hold a
  // reader forever.
  struct WaitingRead {
    int ticks_left = 0;
    std::function<void(core::Status)> done;
  };
  std::map<std::string, WaitingRead> reads_waiting_index_;
  std::multimap<std::uint64_t, std::function<void(core::Status)>> reads_waiting_apply_;
  std::multimap<std::uint64_t, std::function<void()>> applied_waiters_;
  struct LeaderWaiter {
    raft::NodeId not_this = raft::kNoNode;
    std::int64_t ticks_left = 0;
    std::function<void(bool)> fn;
  };
  std::vector<LeaderWaiter> leader_waiters_;  // Raft thread only
  void fire_leader_waiters(bool tick);
  std::uint64_t read_counter_ = 0;
  bool snapshot_running_ = false;
  std::thread snapshot_thread_;
  std::chrono::steady_clock::time_point last_leader_contact_;
  // A campaign planned because the leader's process is gone (report_peer_gone), and how many
  // more may follow while no leader emerges (a split vote between two survivors that
  // planned theirs within a round trip of each other).
  std::optional<std::chrono::steady_clock::time_point> quick_campaign_at_;
  int quick_campaigns_left_ = 0;
  raft::SplitMix64 jitter_{1};
  const std::chrono::steady_clock::duration lease_duration_;
  LeaderLease lease_;
  std::uint64_t lease_term_ = 0;  // the term lease_ counts for; 0 while not leading
  bool recovered_state_ = false;  // start() found Raft state on disk (a restart)
  // Until then vote requests are ignored: a restart forgot whether we promised a leader not
  // to vote (its lease may rest on a heartbeat we acknowledged just before going down).
  std::optional<std::chrono::steady_clock::time_point> refuse_votes_until_;

  // Inputs from other threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::deque<raft::Message> inbox_;
  std::deque<std::pair<std::string, ProposeDone>> proposals_;
  std::deque<PendingConf> conf_requests_;
  std::deque<std::function<void(core::Status)>> read_requests_;
  std::deque<std::pair<std::string, OperatorDone>> transfer_requests_;
  // The leadership transfer under way: its target, its callback, and the ticks left.
  raft::NodeId transfer_target_ = raft::kNoNode;
  OperatorDone transfer_done_;
  int transfer_ticks_left_ = 0;
  std::deque<std::pair<std::uint64_t, std::function<void()>>> applied_requests_;
  std::deque<LeaderWaiter> leader_requests_;
  std::optional<SnapshotDone> snapshot_result_;

  // Published for leader()/status() readers (guarded by mu_).
  Status status_;
  std::atomic<std::uint64_t> last_index_{0};
  std::atomic<std::uint64_t> applied_index_{0};
  // The lease's end as steady_clock ticks since its epoch (min: no lease), and whether stop()
  // began (no lease from then on), for lease_valid() readers.
  std::atomic<std::chrono::steady_clock::rep> lease_expiry_{
      std::chrono::steady_clock::time_point::min().time_since_epoch().count()};
  std::atomic<bool> lease_off_{false};

  std::thread thread_;
};

}  // namespace pc::consensus
