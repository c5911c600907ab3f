#pragma once
// Deterministic simulation of a Raft cluster (tigerbeetle VOPR style): N nodes, each a RawNode
// over a MemoryStorage that stands for its disk, a simulated network that drops, delays,
// reorders and duplicates messages and partitions the cluster, and crashes that lose
// everything not persisted (a restarted node is rebuilt from its storage alone). A crash
// that interrupts the disk write of a batch (snapshot, entries, hard state, in that order)
// leaves any prefix of it: a torn tail. The hard state is one record, whole or absent.
//
// The replicated state machine is a KV map of a few keys. Simulated clients propose writes,
// deletes and cas (evaluated when applied; a command the network duplicated is applied
// once, by its id) to random nodes and read keys through ReadIndex;
// each operation is recorded with its invocation and completion (or as unknown when its
// node crashed or lost leadership first), and at the end the history must be linearizable
// (lincheck/checker.h).
//
// Everything random comes from one seed, so a failure replays exactly with that seed.
// Invariants checked while it runs:
//   - Election Safety: at most one leader per term (over the whole run);
//   - State Machine Safety: every node applies the same entry at a given index (and each
//     node applies indexes in order, without gaps);
//   - Log Matching: two logs with the same term at an index agree on every entry up to it;
//   - Leader Completeness: a leader holds every entry known to be committed;
//   - commit indexes never go back, not even across restarts;
//   - ReadIndex answers are linearizable: never below what was committed when the read
//     was issued; and the KV history of every run is linearizable;
// and after healing every fault (liveness phase): a leader is elected, every node applied
// the same sequence, and every proposal that was applied anywhere (acknowledged) is in it.
//
// Thread-safety: none; one Simulation per thread.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "consensus/core/raw_node.h"
#include "core/result.h"
#include "lincheck/history.h"

namespace pc::consensus::raft::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  int nodes = 3;
  int fault_ticks = 400;     // ticks with faults on
  int liveness_ticks = 150;  // ticks after healing everything
  int substeps_per_tick = 10;
  // Network: per-message drop and duplicate probabilities (in 1/1000), latency in substeps.
  int drop_permille = 50;
  int duplicate_permille = 20;
  int latency_min = 1;
  int latency_max = 15;
  // Per tick, in 1/1000: start a partition, heal it, crash a node, restart a crashed node.
  int partition_permille = 15;
  int heal_permille = 40;
  int crash_permille = 8;
  int restart_permille = 60;
  // Per tick, in 1/1000: submit a proposal (to a random up node), request a leader transfer.
  int propose_permille = 400;
  int transfer_permille = 5;
  // Per tick, in 1/1000: a ReadIndex request on a random up node. Each answer must be at
  // least the highest index applied anywhere when the read was issued (a read after a
  // completed write sees it: linearizable reads).
  int read_permille = 150;
  // kLeaseBased: reads answered from the leader lease must be just as linearizable (the
  // simulated servers tick at the same rate, which is what the lease assumes).
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  // Compaction: once this many entries are applied past the snapshot, snapshot and compact
  // (keeping `compact_keep` entries so not every lagging follower needs the snapshot).
  std::uint64_t compact_after = 30;
  std::uint64_t compact_keep = 5;
  // Membership churn: `spare_nodes` more nodes start outside the configuration; per tick,
  // in 1/1000, the leader is asked to add a voter, add a learner or remove a node (any of
  // them, itself included). Keep it off without PreVote/CheckQuorum: a removed node that
  // missed its removal campaigns forever, which only those two stop from disrupting.
  int spare_nodes = 0;
  int conf_change_permille = 0;
  bool pre_vote = true;
  bool check_quorum = true;
  std::uint64_t max_size_per_msg = 256;
  std::size_t max_inflight_msgs = 4;
  // KV clients work on this many keys (few, so operations on one key overlap often).
  int kv_keys = 3;
  // Search steps for the end-of-run linearizability check and for shrinking a failure:
  // steps, not time, so every run replays exactly.
  std::uint64_t kv_check_steps_max = 20'000'000;
  // A deliberate bug, to prove the check can fail: a read answers from the node's map as
  // soon as ReadIndex confirms, without waiting to apply up to the read index.
  bool kv_read_before_apply_for_test = false;
};

struct SimStats {
  std::uint64_t ticks = 0;
  std::uint64_t substeps = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t messages_duplicated = 0;
  std::uint64_t elections = 0;  // terms in which a leader was elected
  std::uint64_t max_term = 0;
  std::uint64_t commits = 0;    // highest index applied anywhere
  std::uint64_t proposals = 0;  // accepted by propose()
  std::uint64_t acknowledged = 0;
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t snapshots_sent = 0;
  std::uint64_t snapshots_applied = 0;
  std::uint64_t transfers = 0;
  std::uint64_t conf_changes = 0;  // proposed and accepted by the leader
  std::uint64_t reads_issued = 0;
  std::uint64_t reads_served = 0;
  std::uint64_t kv_ops_checked = 0;  // operations in the KV histories checked
  std::uint64_t kv_ops_unknown = 0;  // of which with an unknown outcome
  std::uint64_t kv_check_steps = 0;
  std::uint64_t kv_check_timeouts = 0;        // histories the step budget could not decide
  std::uint64_t torn_tails = 0;               // crashes that kept part of an unsynced batch
  std::uint64_t messages_before_persist = 0;  // a leader's, sent before its write

  void add(const SimStats& o);
};

class Simulation {
 public:
  explicit Simulation(SimOptions options);
  ~Simulation();

  // Runs both phases. An error names the violated invariant and the seed.
  core::Status run();
  const SimStats& stats() const { return stats_; }

 private:
  struct Node;
  struct SnapReport {
    NodeId from = kNoNode;  // the leader that sent the snapshot
    NodeId to = kNoNode;
    bool ok = false;
  };
  // A client write, delete or cas waiting for the node it was proposed to to apply it.
  struct PendingWrite {
    std::size_t at = 0;  // its operation in history_
    NodeId node = kNoNode;
    bool via_leader = false;  // proposed to a leader: abandoned if it loses that term
    std::uint64_t term = 0;
  };
  // A client read: ReadIndex issued, then confirmed at `index`, then served once applied.
  struct PendingRead {
    NodeId node = kNoNode;
    std::string key;
    std::uint64_t call_ns = 0;
    std::uint64_t index = 0;
    bool confirmed = false;
  };
  struct InFlight {
    std::uint64_t deliver_at = 0;
    std::uint64_t order = 0;  // random tie-break: same-time messages arrive shuffled
    Message message;
  };

  std::uint64_t rand_below(std::uint64_t n);
  bool chance(int permille) { return static_cast<int>(rand_below(1000)) < permille; }

  void start_node(Node& node);
  void crash(Node& node);
  void persist_prefix(Node& node, const Ready& rd, std::size_t records);
  std::uint64_t stamp();
  void apply_kv(Node& node, const std::string& payload);
  void abandon_deposed(const Node& node);
  void serve_reads(Node& node);
  core::Status check_kv_history();
  void tick_faults();
  void maybe_propose();
  void send(const Message& m);
  void deliver_due();
  core::Status process_readies();
  core::Status handle_ready(Node& node);
  core::Status apply_entry(Node& node, const Entry& e);
  core::Status restore_snapshot(Node& node, const Snapshot& s);
  void maybe_compact(Node& node);
  core::Status check_invariants(bool full);
  core::Status check_log_matching(const Node& a, const Node& b) const;
  core::Status check_leader_completeness(const Node& leader) const;
  core::Status check_final();
  core::Status check_final_state();
  bool connected(NodeId a, NodeId b) const;
  Node* leader();
  void maybe_change_membership();
  void maybe_read();
  core::Error fail(const std::string& what) const;
  std::string dump() const;

  SimOptions options_;
  SplitMix64 rng_;
  SimStats stats_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<InFlight> network_;
  std::uint64_t now_ = 0;  // substeps
  std::uint64_t order_ = 0;
  std::map<NodeId, int> partition_;  // node -> group; empty: fully connected
  bool faults_on_ = true;
  std::uint64_t next_proposal_ = 0;
  // The committed log as applied anywhere: index -> entry. The first node to apply an
  // index records it; every later application must agree.
  std::map<std::uint64_t, Entry> committed_;
  std::set<std::string> acknowledged_;
  std::map<std::uint64_t, NodeId> leader_of_term_;
  std::vector<SnapReport> pending_reports_;
  std::string barrier_;
  // Read context -> the highest index applied anywhere when it was issued.
  std::map<std::string, std::uint64_t> reads_;
  std::uint64_t next_read_ = 0;
  // The KV clients' history, and what is still in flight. Times are substeps scaled to
  // "nanoseconds" (a substep prints as a millisecond) plus a counter, so that every event
  // gets its own time and real-time order within a substep is kept.
  lincheck::History history_;
  std::map<std::uint64_t, PendingWrite> pending_writes_;  // by operation id
  std::map<std::string, PendingRead> pending_reads_;      // by read context
  std::uint64_t clock_ns_ = 0;
};

// The state-machine snapshot encoding of the simulation: a list of strings, each as a u32
// length and bytes. A snapshot holds two: the applied payloads, and the KV map as a list
// key, value, key, value...
std::string encode_payloads(const std::vector<std::string>& payloads);
std::vector<std::string> decode_payloads(const std::string& data);

// A KV command as a proposal payload: "op <id> w <key> <value>", "op <id> d <key>" or
// "op <id> c <key> <expected or -> <value>" (values never contain spaces or equal "-").
struct KvCommand {
  std::uint64_t id = 0;
  char kind = 'w';  // w: write, d: delete, c: cas
  std::string key;
  lincheck::Value expected;  // cas only
  lincheck::Value value;     // nullopt for a delete
};
std::string encode_command(const KvCommand& command);
// nullopt for payloads that are not KV commands (the liveness barrier).
std::optional<KvCommand> decode_command(const std::string& payload);
// Applies `command` to `kv`; false when it is a cas whose expectation did not hold.
bool apply_command(std::map<std::string, std::string>& kv, const KvCommand& command);

}  // namespace pc::consensus::raft::sim
