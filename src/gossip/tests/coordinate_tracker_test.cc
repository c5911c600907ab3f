// The runtime's Vivaldi bookkeeping: RTTs from ping send times to ack arrival, samples
// without a send refused, members' coordinates cached and forgotten, the ping table bounded.
#include <gtest/gtest.h>

#include "gossip/runtime/coordinate_tracker.h"

namespace pc::gossip {
namespace {

Coordinate at(double x) {
  VivaldiConfig config;
  Coordinate c = origin_coordinate(config);
  c.vec[0] = x;
  c.error = 0.2;
  return c;
}

TEST(CoordinateTracker, AckAfterPingMovesTheCoordinateAndCachesTheMember) {
  CoordinateTracker t(VivaldiConfig{});
  const Coordinate origin = t.coordinate();
  t.ping_sent(7, 1'000'000);
  auto moved = t.on_ack(AckSample{"b", 7, at(0.010)}, 1'020'000);  // 20 ms
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(*moved, t.coordinate());
  EXPECT_NE(t.coordinate(), origin);
  EXPECT_EQ(t.member_coordinates().at("b"), at(0.010));
  EXPECT_EQ(t.stats().updates, 1u);
  // The same seq again: its send was consumed, so it is no sample.
  EXPECT_FALSE(t.on_ack(AckSample{"b", 7, at(0.010)}, 1'040'000).has_value());
  t.forget("b");
  EXPECT_TRUE(t.member_coordinates().empty());
}

TEST(CoordinateTracker, UnknownSeqAndRefusedSamplesChangeNothing) {
  CoordinateTracker t(VivaldiConfig{});
  const Coordinate origin = t.coordinate();
  EXPECT_FALSE(t.on_ack(AckSample{"b", 3, at(0.01)}, 5).has_value());
  t.ping_sent(4, 0);
  EXPECT_FALSE(t.on_ack(AckSample{"b", 4, at(0.01)}, 11'000'000).has_value());  // 11 s
  t.ping_sent(5, 0);
  Coordinate wrong = at(0.01);
  wrong.vec.resize(3);  // another dimensionality
  EXPECT_FALSE(t.on_ack(AckSample{"c", 5, wrong}, 1000).has_value());
  EXPECT_EQ(t.coordinate(), origin);
  EXPECT_TRUE(t.member_coordinates().empty());
}

TEST(CoordinateTracker, PingTableIsBounded) {
  CoordinateTracker t(VivaldiConfig{});
  for (SeqNo seq = 0; seq < CoordinateTracker::kPingsTrackedMax + 10; ++seq) t.ping_sent(seq, 0);
  EXPECT_FALSE(t.on_ack(AckSample{"b", 0, at(0.01)}, 1000).has_value());  // dropped
  EXPECT_TRUE(t.on_ack(AckSample{"b", CoordinateTracker::kPingsTrackedMax + 9, at(0.01)}, 1000)
                  .has_value());
}

}  // namespace
}  // namespace pc::gossip
