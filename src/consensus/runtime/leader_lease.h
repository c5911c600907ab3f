#pragma once
// LeaderLease: how long a Raft leader may answer Consul's default reads from its own state,
// measured in monotonic time rather than in ticks.
//
// Why not ticks: the runtime does not replay ticks it missed ("fell behind: do not burst"),
// so after a stall or a SIGSTOP the leader's tick count has barely moved while the rest of the
// cluster may have elected someone else. Time read from a monotonic clock keeps running
// through a pause, so a paused leader's lease has expired when it wakes up.
//
// The rule. Every heartbeat the leader sends carries a stamp (the core's tick counter) that the
// follower echoes in its response. The runtime records the monotonic time at which it first
// handed a heartbeat with that stamp to the transport (`sent`), so an acknowledged stamp
// names a moment T no later than the follower's receipt. A follower that accepted a heartbeat
// refuses (Pre)Votes while it is in lease: for at least `election_tick - 1` of its own ticks
// after receipt (the first tick may come right after it; ticks never come early: they wait on
// a monotonic clock and are dropped, never bunched, after a stall). So if voters forming a
// quorum (the leader counting as itself, now) each acknowledged a heartbeat sent at or after
// T, no other leader can be elected before T + (election_tick - 1) * tick, and the lease runs
// until T + duration with
//   duration = (election_tick - 1) * tick * kLeaseSafetyPercent / 100.
// The 10 % margin absorbs differences between the servers' clock rates: the followers'
// promise is measured on their clocks, the lease on the leader's (hashicorp/raft keeps its
// LeaderLeaseTimeout at half the heartbeat timeout for the same reason; steady clocks drift
// by parts per million, far inside 10 %).
//
// Pure: no clock, no threads. The owner (ReplicatedLog's Raft thread) passes the times in.
// Thread-safety: none; one owner.
#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "consensus/core/types.h"

namespace pc::consensus {

class LeaderLease {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  // The share of the followers' minimum vote-refusal window the leader relies on.
  static constexpr int kLeaseSafetyPercent = 90;
  // Heartbeat stamps remembered at most; older ones are dropped first. One stamp per tick
  // is the usual rate and a lease spans about election_tick ticks, so this is ample.
  static constexpr std::size_t kStampsMax = 1024;

  // The lease for a runtime ticking every `tick` with followers that wait `election_tick`
  // ticks before an election (zero when election_tick < 2: no lease at all).
  static Clock::duration duration_for(std::chrono::milliseconds tick, int election_tick);

  explicit LeaderLease(Clock::duration duration) : duration_(duration) {}

  Clock::duration duration() const { return duration_; }

  // A heartbeat stamped `stamp` was handed to the transport at `at`. Only the first time
  // per stamp is kept: an acknowledgement of that stamp may answer any of its sends.
  void sent(std::uint64_t stamp, TimePoint at);
  // `peer` acknowledged a heartbeat stamped `stamp` in the current term. Unknown stamps
  // (forgotten, or from before reset()) count for nothing.
  void acked(raft::NodeId peer, std::uint64_t stamp);
  // The leader sent MsgTimeoutNow: the transferee's election bypasses the followers'
  // leases, so no lease holds for the rest of this term.
  void revoke() { revoked_ = true; }
  // A new term, or leadership lost: everything acknowledged so far is void.
  void reset();

  // When the lease ends given the current `voters` (`self` counts as acknowledging at
  // `now`): TimePoint::min() when no quorum acknowledged anything usable, TimePoint::max()
  // when `self` alone is a quorum. The lease holds at `now` iff now < expiry(...).
  TimePoint expiry(const std::vector<raft::NodeId>& voters, raft::NodeId self, TimePoint now) const;

 private:
  Clock::duration duration_;
  std::map<std::uint64_t, TimePoint> sent_;  // by stamp; size <= kStampsMax
  std::map<raft::NodeId, TimePoint> acked_;  // newest acknowledged send time per peer
  bool revoked_ = false;
};

}  // namespace pc::consensus
