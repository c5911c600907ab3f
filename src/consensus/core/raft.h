#pragma once
// The Raft state machine (Ongaro & Ousterhout, "In Search of an Understandable Consensus
// Algorithm", and Ongaro's thesis for PreVote, CheckQuorum, leadership transfer, ReadIndex
// and single-server membership changes), in the shape of etcd-io/raft's raft.go.
//
// Pure: no I/O, clock, threads or global randomness. Time is tick(); randomness comes from
// Config::seed; input is step(Message); output is collected in msgs_/read_states_ and in the
// log's unstable part, which RawNode hands to the owner as a Ready.
//
// Thread-safety: none. One owner calls everything, in order.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "consensus/core/conf_change.h"
#include "consensus/core/message.h"
#include "consensus/core/progress.h"
#include "consensus/core/raft_log.h"
#include "consensus/core/storage.h"
#include "core/result.h"
#include "core/split_mix64.h"

namespace pc::consensus::raft {

enum class Role : std::uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view role_name(Role role);

enum class ReadOnlyOption : std::uint8_t {
  // ReadIndex confirms leadership with a heartbeat round to a quorum (Raft thesis §6.4).
  kSafe,
  // The leader answers at once while its lease holds: a quorum acknowledged a heartbeat
  // sent less than an election timeout (minus a tick) ago, so no other leader can have been
  // elected since (followers in lease refuse votes). Falls back to kSafe when the lease
  // lapsed; void after a leadership transfer starts. Safe only while tick rates agree
  // across servers (bounded clock drift). Needs check_quorum. Consul's default read mode
  // relies on a leader lease in the same way. Ticks stop while a process is paused, so an
  // owner that does not replay missed ticks (ReplicatedLog) keeps its lease in monotonic
  // time instead (consensus/runtime/leader_lease.h) and runs kSafe.
  kLeaseBased,
};

struct Config {
  NodeId id = kNoNode;
  // Ticks without hearing from a leader before a follower campaigns; the actual timeout is
  // drawn from [election_tick, 2 * election_tick) so candidates rarely collide (§5.2).
  int election_tick = 10;
  // Ticks between leader heartbeats; must be well below election_tick.
  int heartbeat_tick = 1;
  // Bytes of entries (entry_size) per MsgApp; at least one entry is always sent.
  std::uint64_t max_size_per_msg = 1024 * 1024;
  // MsgApps in flight to one follower in Replicate state before the leader waits.
  std::size_t max_inflight_msgs = 256;
  // Bytes of committed entries handed out in one Ready.
  std::uint64_t max_committed_size_per_ready = 16 * 1024 * 1024;
  // ReadIndex requests held by a new leader until its first commit; beyond this they drop.
  std::size_t max_pending_read_index_msgs = 4096;
  bool pre_vote = true;
  bool check_quorum = true;
  // Followers forward proposals to the leader (MsgProp). Off: propose() fails on followers.
  bool forward_proposals = true;
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  // The owner's applied index at restart (everything up to it is in its state machine).
  std::uint64_t applied = 0;
  // Seeds the randomized election timeout (mixed with the id, so equal seeds still differ).
  std::uint64_t seed = 0;
  // Not owned; must outlive the core.
  const Storage* storage = nullptr;

  core::Status validate() const;
};

// A linearizable read point: once the owner has applied `index`, reads of the state machine
// reflect every write acknowledged before the read_index() call with `context`.
struct ReadState {
  std::uint64_t index = 0;
  std::string context;
  bool operator==(const ReadState&) const = default;
};

struct SoftState {
  NodeId lead = kNoNode;
  Role role = Role::kFollower;
  bool operator==(const SoftState&) const = default;
};

struct NodeStatus {
  NodeId id = kNoNode;
  HardState hard_state;
  SoftState soft_state;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
  NodeId lead_transferee = kNoNode;
  ConfState conf;
  std::map<NodeId, Progress> progress;  // only on the leader
};

// Election jitter, replayable by seed.
using SplitMix64 = core::SplitMix64;

class Raft {
 public:
  explicit Raft(const Config& config);

  void tick();
  // Errors: kNotLeader (proposal with no leader to take it, or forwarding off),
  // kUnavailable (leadership transfer in progress, or a conf change still pending),
  // kInvalidArgument (a conf change that would leave no voter).
  core::Status step(const Message& m);

  // Applies a committed conf change (the owner calls this when it applies the entry).
  ConfState apply_conf_change(const ConfChange& change);
  // The owner persisted the unstable entries (RawNode::advance): a leader now counts its own
  // copy of them toward commitment.
  void on_persisted();

  NodeId id() const { return id_; }
  std::uint64_t term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId lead() const { return lead_; }
  Role role() const { return role_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  bool is_learner() const { return is_learner_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  SoftState soft_state() const { return SoftState{lead_, role_}; }
  NodeStatus status() const;
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  const ProgressTracker& tracker() const { return tracker_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }

  // Output collected since the last Ready.
  std::vector<Message> take_messages() { return std::exchange(msgs_, {}); }
  std::vector<ReadState> take_read_states() { return std::exchange(read_states_, {}); }
  bool has_messages() const { return !msgs_.empty(); }
  bool has_read_states() const { return !read_states_.empty(); }

 private:
  enum class CampaignType : std::uint8_t { kPreElection, kElection, kTransfer };

  // A ReadIndex request waiting for a quorum to acknowledge a heartbeat that carried its
  // context (kSafe, or kLeaseBased when the lease had lapsed).
  struct ReadRequest {
    Message req;
    std::uint64_t index = 0;
    std::vector<NodeId> acks;
  };

  void send(Message m);
  void become_follower(std::uint64_t term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(std::uint64_t term);
  void reset_randomized_election_timeout();
  void campaign(CampaignType type);
  void hup(CampaignType type);
  bool promotable() const;
  bool has_unapplied_conf_changes() const;
  bool past_election_timeout() const { return election_elapsed_ >= randomized_election_timeout_; }

  core::Status step_leader(const Message& m);
  core::Status step_candidate(const Message& m);
  core::Status step_follower(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  void handle_append_response(const Message& m, Progress& pr);
  void handle_heartbeat_response(const Message& m, Progress& pr);
  void handle_transfer_leader(const Message& m, Progress& pr);
  bool restore(const Snapshot& snapshot);

  core::Status append_proposal(const Message& m);
  void append_entries(std::vector<Entry> entries);
  bool maybe_commit();
  void send_append(NodeId to) { maybe_send_append(to, true); }
  bool maybe_send_append(NodeId to, bool send_if_empty);
  void bcast_append();
  void bcast_heartbeat();
  void bcast_heartbeat_with_context(const std::string& context);
  void send_heartbeat(NodeId to, const std::string& context);
  void send_timeout_now(NodeId to);
  void abort_leader_transfer() { lead_transferee_ = kNoNode; }
  void hand_off_leadership();

  bool committed_entry_in_current_term() const;
  // Follower side of the lease: do we refuse (Pre)Votes now?
  bool in_lease() const;
  // Leader side: may a lease-based read be answered without a heartbeat round?
  bool lease_valid() const;
  void handle_read_index(const Message& m);
  void respond_read(const Message& req, std::uint64_t index);
  void release_pending_read_index_messages();

  void switch_to_conf(const ConfState& conf);
  void check_invariants() const;

  NodeId id_;
  std::uint64_t term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;
  Role role_ = Role::kFollower;
  bool is_learner_ = false;
  RaftLog log_;
  ProgressTracker tracker_;
  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;

  NodeId lead_transferee_ = kNoNode;
  // The index of the last conf change appended by this leader (or the last index when it
  // took over, since an unapplied change may hide in the tail). A new one is refused until
  // it is applied: one change at a time.
  std::uint64_t pending_conf_index_ = 0;

  ReadOnlyOption read_only_;
  std::deque<ReadRequest> read_requests_;
  std::vector<Message> pending_read_index_messages_;
  std::size_t max_pending_read_index_msgs_;
  std::size_t max_inflight_;

  // Followers and candidates: ticks since the last valid leader message or the election
  // start. Leaders: ticks since the last CheckQuorum round.
  int election_elapsed_ = 0;
  // Ticks since this core was constructed: its own clock, echoed by heartbeat responses.
  std::uint64_t ticks_ = 0;
  bool restarted_ = false;      // constructed over a non-empty hard state
  bool lease_revoked_ = false;  // a MsgTimeoutNow went out this term
  int heartbeat_elapsed_ = 0;
  int election_timeout_;
  int heartbeat_timeout_;
  int randomized_election_timeout_ = 0;
  bool check_quorum_;
  bool pre_vote_;
  bool forward_proposals_;
  std::uint64_t max_msg_size_;
  SplitMix64 rng_;
};

}  // namespace pc::consensus::raft
