// LeaderLease: the leader lease in monotonic time, from given send times, acknowledgements
// and "now" (no clock, no threads).
#include "consensus/runtime/leader_lease.h"

#include <gtest/gtest.h>

namespace pc::consensus {
namespace {

using namespace std::chrono_literals;
using TimePoint = LeaderLease::TimePoint;

const TimePoint kEpoch = TimePoint() + 1h;  // any fixed point of the steady clock
const std::vector<raft::NodeId> kThree{1, 2, 3};

TEST(LeaderLease, DurationIsNinetyPercentOfTheFollowersMinimumRefusal) {
  // Followers refuse votes for at least election_tick - 1 ticks after a heartbeat (the first
  // tick may follow it at once); the leader relies on 90 % of that.
  EXPECT_EQ(LeaderLease::duration_for(100ms, 10), 810ms);
  EXPECT_EQ(LeaderLease::duration_for(500ms, 10), 4050ms);  // raft_multiplier 5
  EXPECT_EQ(LeaderLease::duration_for(10ms, 10), 81ms);
  EXPECT_EQ(LeaderLease::duration_for(100ms, 1), LeaderLease::Clock::duration::zero());
}

TEST(LeaderLease, AQuorumOfRecentAcknowledgementsHoldsTheLease) {
  LeaderLease lease(810ms);
  lease.sent(7, kEpoch);
  lease.acked(2, 7);
  // Leader (now) + node 2 (sent at kEpoch) are a quorum of three.
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch + 10ms), kEpoch + 810ms);
  // The lease counts from the send, not from the acknowledgement or from now.
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch + 500ms), kEpoch + 810ms);
}

TEST(LeaderLease, NoQuorumNoLease) {
  LeaderLease lease(810ms);
  lease.sent(7, kEpoch);
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch), TimePoint::min());  // nobody acknowledged
  const std::vector<raft::NodeId> five{1, 2, 3, 4, 5};
  lease.acked(2, 7);
  EXPECT_EQ(lease.expiry(five, 1, kEpoch), TimePoint::min());  // 2 of 5
  lease.acked(4, 7);
  EXPECT_EQ(lease.expiry(five, 1, kEpoch), kEpoch + 810ms);  // 3 of 5
}

TEST(LeaderLease, TheQuorumsOldestAcknowledgementBoundsTheLease) {
  LeaderLease lease(810ms);
  const std::vector<raft::NodeId> five{1, 2, 3, 4, 5};
  lease.sent(1, kEpoch);
  lease.sent(2, kEpoch + 100ms);
  lease.sent(3, kEpoch + 200ms);
  lease.acked(2, 1);
  lease.acked(3, 3);
  lease.acked(4, 2);
  // Newest first: self (now), 3 @200, 4 @100, 2 @0: the third (a quorum of five) is @100.
  EXPECT_EQ(lease.expiry(five, 1, kEpoch + 300ms), kEpoch + 100ms + 810ms);
  // Acknowledgements only move forward: an older stamp after a newer one changes nothing.
  lease.acked(3, 1);
  EXPECT_EQ(lease.expiry(five, 1, kEpoch + 300ms), kEpoch + 100ms + 810ms);
}

TEST(LeaderLease, APauseLetsTheLeaseExpire) {
  // The leader sent its last heartbeat round, was acknowledged, then stopped (SIGSTOP, a
  // stalled thread). However few ticks it counted meanwhile, time ran on.
  LeaderLease lease(810ms);
  lease.sent(41, kEpoch);
  lease.acked(2, 41);
  lease.acked(3, 41);
  const TimePoint expiry = lease.expiry(kThree, 1, kEpoch + 5s);
  EXPECT_FALSE(kEpoch + 5s < expiry);
  EXPECT_TRUE(kEpoch + 800ms < expiry);
  // After waking it sends the next stamp; until a quorum answers it, no lease.
  lease.sent(42, kEpoch + 5s);
  EXPECT_FALSE(kEpoch + 5s < lease.expiry(kThree, 1, kEpoch + 5s));
  // A late answer to a send from before the pause does not revive it either.
  lease.acked(2, 41);
  EXPECT_FALSE(kEpoch + 5s < lease.expiry(kThree, 1, kEpoch + 5s));
  lease.acked(3, 42);
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch + 5s + 1ms), kEpoch + 5s + 810ms);
}

TEST(LeaderLease, TheFirstSendOfAStampCounts) {
  // A ReadIndex round can send the same stamp again within a tick; an acknowledgement may
  // answer either send, so the earlier time is the one that is safe to credit.
  LeaderLease lease(810ms);
  lease.sent(5, kEpoch);
  lease.sent(5, kEpoch + 50ms);
  lease.acked(2, 5);
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch + 60ms), kEpoch + 810ms);
}

TEST(LeaderLease, UnknownStampsResetAndRevocationCountForNothing) {
  LeaderLease lease(810ms);
  lease.acked(2, 9);  // never sent (or forgotten)
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch), TimePoint::min());
  lease.sent(9, kEpoch);
  lease.acked(2, 9);
  lease.revoke();  // MsgTimeoutNow went out: the transferee's election ignores leases
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch), TimePoint::min());
  lease.reset();  // a new term
  lease.acked(2, 9);
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch), TimePoint::min());
  lease.sent(10, kEpoch + 100ms);
  lease.acked(3, 10);
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch + 100ms), kEpoch + 100ms + 810ms);
}

TEST(LeaderLease, SendsOlderThanALeaseAreForgotten) {
  LeaderLease lease(810ms);
  lease.sent(1, kEpoch);
  lease.sent(2, kEpoch + 900ms);  // stamp 1 can no longer give a lease that holds now
  lease.acked(2, 1);
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch + 900ms), TimePoint::min());
  for (std::uint64_t s = 3; s < 3 + 2 * LeaderLease::kStampsMax; ++s) {
    lease.sent(s, kEpoch + 900ms);
  }
  lease.acked(3, 3);  // dropped by the bound on remembered stamps
  EXPECT_EQ(lease.expiry(kThree, 1, kEpoch + 900ms), TimePoint::min());
}

TEST(LeaderLease, ASingleVoterAlwaysHoldsItAndANonVoterCountsForNobody) {
  LeaderLease lease(810ms);
  EXPECT_EQ(lease.expiry({1}, 1, kEpoch), TimePoint::max());
  // A leader that removed itself from the voters hands over: its own "now" is not a vote.
  lease.sent(1, kEpoch);
  lease.acked(2, 1);
  EXPECT_EQ(lease.expiry({2, 3, 4}, 1, kEpoch), TimePoint::min());
  lease.acked(3, 1);
  EXPECT_EQ(lease.expiry({2, 3, 4}, 1, kEpoch), kEpoch + 810ms);
}

}  // namespace
}  // namespace pc::consensus
