#pragma once
// The leader's view of each follower (etcd-io/raft tracker/): how far its log matches, what
// to send next, and how much may be in flight. Also the vote and commit quorum arithmetic.
// Thread-safety: none; owned by one Raft.
#include <cstdint>
#include <deque>
#include <map>
#include <string_view>
#include <vector>

#include "consensus/core/types.h"

namespace pc::consensus::raft {

// Flow control for one follower in Replicate state: the last index of each MsgApp sent and
// not yet acknowledged, oldest first, at most `capacity` of them.
class Inflights {
 public:
  explicit Inflights(std::size_t capacity) : capacity_(capacity) {}
  void add(std::uint64_t last_index);
  // Frees every message whose last index is <= `index` (they were acknowledged).
  void free_le(std::uint64_t index);
  void free_first() {
    if (!in_flight_.empty()) in_flight_.pop_front();
  }
  bool full() const { return in_flight_.size() >= capacity_; }
  std::size_t count() const { return in_flight_.size(); }
  void reset() { in_flight_.clear(); }

 private:
  std::size_t capacity_;
  std::deque<std::uint64_t> in_flight_;
};

enum class ProgressState : std::uint8_t {
  // One MsgApp per heartbeat interval until we learn where the logs match.
  kProbe,
  // The logs match at `match`: stream entries optimistically, bounded by Inflights.
  kReplicate,
  // The follower needs a snapshot; nothing else is sent until it is reported done.
  kSnapshot,
};

std::string_view progress_state_name(ProgressState state);

// Invariant: 0 <= match < next.
struct Progress {
  explicit Progress(std::size_t inflight_capacity) : inflights(inflight_capacity) {}

  void become_probe();
  void become_replicate();
  void become_snapshot(std::uint64_t snapshot_index);
  // An acknowledgement up to `index`; true if match moved forward.
  bool maybe_update(std::uint64_t index);
  // A rejection of the MsgApp whose previous index was `rejected`; `match_hint` is where the
  // follower's log may still match. False if the rejection is stale.
  bool maybe_decr_to(std::uint64_t rejected, std::uint64_t match_hint);
  // Records that a MsgApp with `count` entries ending at `last_index` was sent.
  void sent_entries(std::size_t count, std::uint64_t last_index);
  bool is_paused() const;
  void check_invariants() const;

  std::uint64_t match = 0;
  std::uint64_t next = 1;
  ProgressState state = ProgressState::kProbe;
  // kSnapshot: the index of the snapshot being sent.
  std::uint64_t pending_snapshot = 0;
  // Heard from since the last CheckQuorum round (reset by the leader each election timeout).
  bool recent_active = false;
  // kProbe: a MsgApp is outstanding; wait for its answer or the next heartbeat response.
  bool probe_sent = false;
  bool is_learner = false;
  // The leader's tick at which it sent the newest heartbeat this follower acknowledged.
  std::uint64_t lease_ack_tick = 0;
  Inflights inflights;

 private:
  void reset_state(ProgressState state);
};

enum class VoteResult : std::uint8_t { kPending, kWon, kLost };

// Membership, per-node progress and the election in progress. Only voters count for a
// quorum; learners get progress (they receive the log) but never votes.
class ProgressTracker {
 public:
  explicit ProgressTracker(std::size_t inflight_capacity) : inflight_capacity_(inflight_capacity) {}

  // Replaces the membership. Progress of nodes that stay is kept; new nodes start probing
  // at `next_index`.
  void set_conf(const ConfState& conf, std::uint64_t next_index);
  const ConfState& conf() const { return conf_; }
  bool is_voter(NodeId id) const;
  bool is_member(NodeId id) const { return progress_.count(id) != 0; }
  std::size_t quorum() const { return conf_.voters.size() / 2 + 1; }

  Progress* get(NodeId id);
  const Progress* get(NodeId id) const;
  std::map<NodeId, Progress>& all() { return progress_; }
  const std::map<NodeId, Progress>& all() const { return progress_; }

  // The highest index a quorum of voters has matched (0 with no voters).
  std::uint64_t committed() const;
  // True if a quorum of voters has been recently active (the leader counts itself).
  bool quorum_active(NodeId self) const;
  // True if the nodes in `acks` form a quorum of voters.
  bool has_quorum(const std::vector<NodeId>& acks) const;

  void reset_votes() { votes_.clear(); }
  void record_vote(NodeId id, bool granted);
  VoteResult tally(std::size_t* granted, std::size_t* rejected) const;

 private:
  std::size_t inflight_capacity_;
  ConfState conf_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
};

}  // namespace pc::consensus::raft
