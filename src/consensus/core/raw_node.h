#pragma once
// The owner's handle on a Raft core (etcd-io/raft rawnode.go): feed it ticks, messages and
// proposals; collect a Ready; carry the Ready out; call advance().
//
// The Ready contract, in this order:
//   1. persist `hard_state` (if set), `entries` and `snapshot` (if set) — durably;
//   2. send `messages` (they may depend on what step 1 made durable: a vote, an
//      acknowledgement of entries) — except when `messages_may_precede_persist`, when
//      sending them before or while step 1 runs is as safe (a leader's messages);
//   3. if `snapshot` is set, restore the state machine from it; then apply
//      `committed_entries` in order (calling apply_conf_change for kConfChange entries);
//   4. hand `read_states` to the waiting readers (serve each once applied >= its index);
//   5. advance(ready).
// Between ready() and advance() call nothing but apply_conf_change().
//
// Thread-safety: none. One owner (the runtime's Raft thread or strand) makes every call.
#include <optional>
#include <string>
#include <vector>

#include "consensus/core/raft.h"

namespace pc::consensus::raft {

struct Ready {
  std::optional<SoftState> soft_state;  // set when leader or role changed
  std::optional<HardState> hard_state;  // set when term, vote or commit changed
  std::vector<Entry> entries;           // to append to stable storage
  std::optional<Snapshot> snapshot;     // to persist and restore
  std::vector<Entry> committed_entries;
  std::vector<Message> messages;
  std::vector<ReadState> read_states;
  // Every message was sent as leader of the same term as the last Ready, with no term or
  // vote change to persist: none of them rests on step 1 (the leader counts its own copy of
  // `entries` only after advance()), so the owner may send them first and write its log
  // while the followers write theirs (thesis §10.2.1).
  bool messages_may_precede_persist = false;

  // True when step 1 needs an fsync: entries, or a term/vote change (a vote must survive a
  // crash, or a node could vote twice in one term). A commit-only change need not be synced.
  bool must_sync(const HardState& previous) const {
    return !entries.empty() || snapshot.has_value() ||
           (hard_state && (hard_state->term != previous.term || hard_state->vote != previous.vote));
  }
};

class RawNode {
 public:
  explicit RawNode(const Config& config);

  // One unit of logical time (the runtime calls it every heartbeat_interval / heartbeat_tick).
  void tick();
  // Starts an election now (with PreVote when configured).
  void campaign();
  // Errors: kNotLeader when there is no leader to take it (or forwarding is off),
  // kUnavailable while a leadership transfer runs.
  core::Status propose(std::string data);
  // Also kUnavailable while a conf change is pending, kInvalidArgument if it removes every
  // voter. The change takes effect when its entry is applied (apply_conf_change).
  core::Status propose_conf_change(const ConfChange& change);
  // A message from a peer. kInvalidArgument for local-only types, responses from nodes not
  // in the configuration, and empty proposals.
  core::Status step(const Message& m);
  core::Status transfer_leadership(NodeId transferee);
  // Requests a linearizable read point; the answer arrives as a ReadState in a later Ready
  // with the same (non-empty, caller-unique) context.
  core::Status read_index(std::string context);
  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);
  ConfState apply_conf_change(const ConfChange& change);
  void report_unreachable(NodeId id);
  void report_snapshot(NodeId id, bool ok);
  // `gone`'s process is known to be dead (a failure detector outside Raft said so): if it is
  // our leader, forget it, so that our lease no longer refuses other nodes' (Pre)Votes and
  // an election can succeed without waiting out the election timeout. Does not campaign.
  // Ignored under lease-based reads, whose safety needs the lease kept.
  void forget_leader(NodeId gone);
  NodeStatus status() const { return raft_.status(); }

  Raft& raft_for_test() { return raft_; }
  const Raft& raft() const { return raft_; }

 private:
  Raft raft_;
  SoftState prev_soft_;
  HardState prev_hard_;
};

}  // namespace pc::consensus::raft
