// The anti-entropy spread (Consul's agent/ae scaleFactor and stagger).
#include <gtest/gtest.h>

#include <limits>

#include "agent/sync_interval.h"

namespace pc::agent {
namespace {

using std::chrono::minutes;

TEST(SyncInterval, FactorIsOneUpTo128MembersThenGrowsPerDoubling) {
  EXPECT_EQ(sync_scale_factor(0), 1);
  EXPECT_EQ(sync_scale_factor(1), 1);
  EXPECT_EQ(sync_scale_factor(128), 1);
  EXPECT_EQ(sync_scale_factor(129), 2);
  EXPECT_EQ(sync_scale_factor(256), 2);
  EXPECT_EQ(sync_scale_factor(257), 3);
  EXPECT_EQ(sync_scale_factor(512), 3);
  EXPECT_EQ(sync_scale_factor(1000), 4);
  EXPECT_EQ(sync_scale_factor(8192), 7);  // log2(8192) - log2(128) = 6, plus 1
  EXPECT_EQ(sync_scale_factor(8193), 8);
}

TEST(SyncInterval, WaitIsTheIntervalPlusAStaggerWithinFactorTimesTheInterval) {
  const core::Duration interval = minutes(1);
  EXPECT_EQ(full_sync_wait(interval, 5, 0), interval);
  auto max_draw = std::numeric_limits<std::uint64_t>::max();
  for (std::uint64_t draw : {std::uint64_t{1}, std::uint64_t{123456789}, max_draw}) {
    auto small = full_sync_wait(interval, 5, draw);
    EXPECT_GE(small, interval);
    EXPECT_LT(small, 2 * interval);
    auto large = full_sync_wait(interval, 1000, draw);  // factor 4
    EXPECT_GE(large, interval);
    EXPECT_LT(large, 5 * interval);
  }
  // The largest draw lands near the top of the spread, so the spread really is factor × 1m.
  core::Duration spread_top = full_sync_wait(interval, 1000, 4 * 60'000'000'000ull - 1);
  EXPECT_EQ(spread_top, interval + 4 * interval - core::Duration(1));
}

}  // namespace
}  // namespace pc::agent
