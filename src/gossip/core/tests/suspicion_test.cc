// The scaling formulas and the suspicion timer, against figures worked out by hand from
// memberlist's and Lifeguard's definitions.
#include "gossip/core/suspicion.h"

#include <gtest/gtest.h>

namespace pc::gossip {
namespace {

TEST(Formulas, SuspicionTimeoutScalesWithLog10OfTheClusterSize) {
  // mult * max(1, log10(n)) * interval.
  EXPECT_EQ(suspicion_timeout_ms(4, 1, 1000), 4000u);
  EXPECT_EQ(suspicion_timeout_ms(4, 10, 1000), 4000u);
  EXPECT_EQ(suspicion_timeout_ms(4, 100, 1000), 8000u);
  EXPECT_EQ(suspicion_timeout_ms(4, 1000, 1000), 12000u);
  EXPECT_EQ(suspicion_timeout_ms(6, 100, 5000), 60000u);  // the WAN profile
}

TEST(Formulas, RetransmitLimitIsMultTimesCeilLog10OfNPlusOne) {
  EXPECT_EQ(retransmit_limit(4, 1), 4);
  EXPECT_EQ(retransmit_limit(4, 9), 4);
  EXPECT_EQ(retransmit_limit(4, 10), 8);
  EXPECT_EQ(retransmit_limit(4, 100), 12);
  EXPECT_EQ(retransmit_limit(4, 1000), 16);
}

TEST(Formulas, PushPullIntervalGrowsPerDoublingPast32Members) {
  EXPECT_EQ(push_pull_interval_scaled_ms(30000, 32), 30000u);
  EXPECT_EQ(push_pull_interval_scaled_ms(30000, 33), 60000u);
  EXPECT_EQ(push_pull_interval_scaled_ms(30000, 64), 60000u);
  EXPECT_EQ(push_pull_interval_scaled_ms(30000, 100), 90000u);
  EXPECT_EQ(push_pull_interval_scaled_ms(30000, 1000), 180000u);
}

TEST(Suspicion, StartsAtMaxAndShrinksLogarithmicallyWithConfirmations) {
  // k = 3, min 2 s, max 30 s: frac(n) = log(n+1)/log(4).
  Suspicion s("a", 3, 2000, 30000, 100);
  EXPECT_EQ(s.deadline_ms(), 100u + 30000);
  EXPECT_FALSE(s.confirm("a")) << "the member that started it is not a confirmation";
  EXPECT_TRUE(s.confirm("b"));
  EXPECT_EQ(s.deadline_ms(), 100u + 16000);  // 30 - 0.5 * 28
  EXPECT_FALSE(s.confirm("b")) << "a repeat is not independent";
  EXPECT_TRUE(s.confirm("c"));
  EXPECT_EQ(s.deadline_ms(), 100u + 7810);  // 30 - 0.79248 * 28, floored
  EXPECT_TRUE(s.confirm("d"));
  EXPECT_EQ(s.deadline_ms(), 100u + 2000);
  EXPECT_FALSE(s.confirm("e")) << "beyond k confirmations nothing changes";
  EXPECT_EQ(s.confirmations(), 3);
}

TEST(Suspicion, WithoutExpectedConfirmationsTheTimeoutIsTheMinimum) {
  Suspicion s("a", 0, 2000, 30000, 0);
  EXPECT_EQ(s.deadline_ms(), 2000u);
  EXPECT_FALSE(s.confirm("b"));
}

TEST(Suspicion, RemainingTimeNeverGoesBelowTheMinimum) {
  EXPECT_EQ(remaining_suspicion_ms(0, 3, 0, 2000, 30000), 30000);
  EXPECT_EQ(remaining_suspicion_ms(3, 3, 0, 2000, 30000), 2000);
  EXPECT_EQ(remaining_suspicion_ms(5, 3, 0, 2000, 30000), 2000);
  EXPECT_EQ(remaining_suspicion_ms(3, 3, 2500, 2000, 30000), -500);
}

TEST(Awareness, ScoreIsClampedAndScalesTimeouts) {
  Awareness a(8);
  EXPECT_EQ(a.scale(500), 500u);
  a.apply_delta(-1);
  EXPECT_EQ(a.score(), 0);
  a.apply_delta(3);
  EXPECT_EQ(a.scale(500), 2000u);
  a.apply_delta(100);
  EXPECT_EQ(a.score(), 7);
  EXPECT_EQ(a.scale(1000), 8000u);
}

}  // namespace
}  // namespace pc::gossip
