// Coordinates and the Vivaldi client, piece by piece: distance math against figures worked
// out by hand, validity of coordinates from outside, the sort Consul's ?near= does, and
// the client's latency filter, adjustment window, refusals, reset and determinism.
// Convergence on whole topologies is in vivaldi_convergence_test.cc.
#include "gossip/core/coordinate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "gossip/core/vivaldi_client.h"

namespace pc::gossip {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Coordinate at(std::vector<double> vec, double height = 0.0, double adjustment = 0.0) {
  Coordinate c;
  c.vec = std::move(vec);
  c.height = height;
  c.adjustment = adjustment;
  return c;
}

VivaldiConfig three_dimensions() {
  VivaldiConfig config;
  config.dimensionality = 3;
  return config;
}

TEST(Coordinate, DistanceIsEuclideanPlusBothHeights) {
  // (−0.5, 1.3, 2.4) to (1.2, −2.3, 3.4): sqrt(1.7² + 3.6² + 1.0²) = sqrt(16.85).
  Coordinate a = at({-0.5, 1.3, 2.4});
  Coordinate b = at({1.2, -2.3, 3.4});
  const double euclid = std::sqrt(16.85);
  EXPECT_DOUBLE_EQ(a.distance_s(b), euclid);
  EXPECT_DOUBLE_EQ(b.distance_s(a), euclid);
  EXPECT_DOUBLE_EQ(a.distance_s(a), 0.0);
  a.height = 0.7;
  b.height = 0.1;
  EXPECT_DOUBLE_EQ(a.distance_s(b), euclid + 0.8);
  EXPECT_DOUBLE_EQ(a.raw_distance_s(b), euclid + 0.8);
}

TEST(Coordinate, AdjustmentsApplyOnlyWhileTheSumStaysPositive) {
  Coordinate a = at({0.0, 0.0}, 0.0, 0.3);
  Coordinate b = at({3.0, 4.0}, 0.0, -0.1);
  EXPECT_DOUBLE_EQ(a.raw_distance_s(b), 5.0);
  EXPECT_DOUBLE_EQ(a.distance_s(b), 5.2);
  // Adjustments that would take the distance to zero or below are ignored altogether.
  b.adjustment = -5.3;
  EXPECT_DOUBLE_EQ(a.distance_s(b), 5.0);
  b.adjustment = -5.0;  // exactly 5.0 + 0.3 − 5.3 = 0: not positive either
  a.adjustment = 0.0;
  EXPECT_DOUBLE_EQ(a.distance_s(b), 5.0);
  b.adjustment = -4.9;
  EXPECT_NEAR(a.distance_s(b), 0.1, 1e-12);
}

TEST(Coordinate, ProblemsOfCoordinatesFromOutside) {
  Coordinate good = at({0.1, 0.2, 0.3}, 1e-5);
  good.error = 1.5;
  EXPECT_EQ(coordinate_problem(good), "");
  EXPECT_EQ(coordinate_problem(good, 3), "");
  EXPECT_NE(coordinate_problem(good, 8), "") << "dimensionality must match ours";

  for (double bad : {kNaN, kInf, -kInf}) {
    for (int field = 0; field < 4; ++field) {
      Coordinate c = good;
      double* slot[] = {&c.vec[1], &c.error, &c.adjustment, &c.height};
      *slot[field] = bad;
      EXPECT_FALSE(c.finite());
      EXPECT_NE(coordinate_problem(c), "") << "field " << field << " = " << bad;
    }
  }
  Coordinate negative = good;
  negative.error = -0.1;
  EXPECT_NE(coordinate_problem(negative), "");
  negative = good;
  negative.height = -1e-6;
  EXPECT_NE(coordinate_problem(negative), "");
  negative = good;
  negative.adjustment = -0.5;  // adjustments may be negative
  EXPECT_EQ(coordinate_problem(negative), "");

  EXPECT_NE(coordinate_problem(Coordinate{}), "") << "no dimensions";
  Coordinate nine = good;
  nine.vec.assign(kCoordinateDimensionalityMax + 1, 0.0);
  EXPECT_NE(coordinate_problem(nine), "");
  nine.vec.resize(kCoordinateDimensionalityMax);
  EXPECT_EQ(coordinate_problem(nine), "");
}

TEST(Coordinate, RttEstimateInMilliseconds) {
  Coordinate a = at({0.0, 0.0}, 0.001);
  Coordinate b = at({0.003, 0.004}, 0.002);
  ASSERT_TRUE(estimate_rtt_ms(a, b).has_value());
  EXPECT_NEAR(*estimate_rtt_ms(a, b), 8.0, 1e-9);  // 5 ms apart plus 1 + 2 ms of height
  EXPECT_FALSE(estimate_rtt_ms(a, at({0.0, 0.0, 0.0})).has_value()) << "incompatible";
  EXPECT_FALSE(estimate_rtt_ms(a, at({kNaN, 0.0})).has_value());
  EXPECT_FALSE(estimate_rtt_ms(at({1e308, 0.0}), at({-1e308, 0.0})).has_value()) << "overflow";
}

TEST(SortByDistance, NearestFirstStableAndUnknownLast) {
  Coordinate origin = at({0.0, 0.0});
  std::vector<NamedCoordinate> nodes = {
      {"unknown-1", std::nullopt},         {"far", at({0.05, 0.0})},    {"tie-a", at({0.0, 0.01})},
      {"bad-dims", at({0.001, 0.0, 0.0})}, {"near", at({0.001, 0.0})},  {"tie-b", at({-0.01, 0.0})},
      {"not-finite", at({kNaN, 0.0})},     {"unknown-2", std::nullopt}, {"tie-c", at({0.0, -0.01})},
  };
  sort_by_distance(origin, nodes);
  std::vector<std::string> names;
  for (const NamedCoordinate& n : nodes) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"near", "tie-a", "tie-b", "tie-c", "far", "unknown-1",
                                             "bad-dims", "not-finite", "unknown-2"}));
}

TEST(SortByDistance, WithoutAnOriginCoordinateTheOrderIsKept) {
  std::vector<NamedCoordinate> nodes = {{"b", at({0.5})}, {"a", at({0.1})}};
  std::vector<NamedCoordinate> before = nodes;
  sort_by_distance(std::nullopt, nodes);
  EXPECT_EQ(nodes, before);
  sort_by_distance(at({kInf}), nodes);
  EXPECT_EQ(nodes, before);
  sort_by_distance(at({0.0}), nodes);
  EXPECT_EQ(nodes[0].name, "a");
}

TEST(SortByDistance, AnyElementTypeThroughAProjection) {
  struct Service {
    std::string id;
    const Coordinate* node_coordinate;
  };
  Coordinate near = at({0.002});
  Coordinate far = at({0.02});
  std::vector<Service> services = {{"s1", &far}, {"s2", nullptr}, {"s3", &near}};
  Coordinate origin = at({0.0});
  sort_by_distance(&origin, services, [](const Service& s) { return s.node_coordinate; });
  EXPECT_EQ(services[0].id, "s3");
  EXPECT_EQ(services[1].id, "s1");
  EXPECT_EQ(services[2].id, "s2");
}

TEST(VivaldiConfig, DefaultsAreSerfs) {
  VivaldiConfig c;
  EXPECT_EQ(c.dimensionality, 8u);
  EXPECT_EQ(c.error_max, 1.5);
  EXPECT_EQ(c.ce, 0.25);
  EXPECT_EQ(c.cc, 0.25);
  EXPECT_EQ(c.adjustment_window_size, 20u);
  EXPECT_EQ(c.height_min_s, 10.0e-6);
  EXPECT_EQ(c.latency_filter_size, 3u);
  EXPECT_EQ(c.gravity_rho_s, 150.0);
  EXPECT_EQ(vivaldi_config_problem(c), "");

  Coordinate origin = origin_coordinate(c);
  EXPECT_EQ(origin.vec, std::vector<double>(8, 0.0));
  EXPECT_EQ(origin.error, 1.5);
  EXPECT_EQ(origin.adjustment, 0.0);
  EXPECT_EQ(origin.height, 10.0e-6);
  EXPECT_EQ(VivaldiClient(c).coordinate(), origin) << "a fresh client sits at the origin";
}

TEST(VivaldiConfig, ProblemsAreNamed) {
  auto with = [](auto change) {
    VivaldiConfig c;
    change(c);
    return vivaldi_config_problem(c);
  };
  EXPECT_NE(with([](VivaldiConfig& c) { c.dimensionality = 0; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.dimensionality = 9; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.latency_filter_size = 0; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.latency_filter_size = 65; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.adjustment_window_size = 1025; }), "");
  EXPECT_EQ(with([](VivaldiConfig& c) { c.adjustment_window_size = 1024; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.error_max = 0.0; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.ce = 0.0; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.cc = 1.5; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.height_min_s = -1.0; }), "");
  EXPECT_NE(with([](VivaldiConfig& c) { c.gravity_rho_s = kNaN; }), "");
  EXPECT_EQ(with([](VivaldiConfig& c) { c.adjustment_window_size = 0; }), "") << "disables it";
}

TEST(VivaldiClient, MovesAwayFromANodeThatIsFartherThanEstimated) {
  VivaldiClient client(three_dimensions());
  Coordinate other = origin_coordinate(client.config());
  other.vec[2] = 0.001;
  // Measured twice as far as the coordinates say: we move down, away from it.
  auto moved = client.update("node", other, 0.002);
  ASSERT_TRUE(moved);
  EXPECT_LT(moved->vec[2], 0.0);
  EXPECT_EQ(*moved, client.coordinate());
  EXPECT_EQ(client.stats().updates, 1u);
}

TEST(VivaldiClient, LatencyFilterIsTheMedianOfTheLastThreePerNode) {
  VivaldiClient client(VivaldiConfig{});
  EXPECT_DOUBLE_EQ(client.latency_filter("alice", 0.201), 0.201);
  EXPECT_DOUBLE_EQ(client.latency_filter("alice", 0.200), 0.201);  // upper median of two
  EXPECT_DOUBLE_EQ(client.latency_filter("alice", 0.207), 0.201);
  // One slow probe never reaches Vivaldi ...
  EXPECT_DOUBLE_EQ(client.latency_filter("alice", 1.900), 0.207);
  EXPECT_DOUBLE_EQ(client.latency_filter("alice", 0.203), 0.207);
  // ... and leaves the window after three more samples.
  EXPECT_DOUBLE_EQ(client.latency_filter("alice", 0.199), 0.203);
  EXPECT_DOUBLE_EQ(client.latency_filter("alice", 0.211), 0.203);
  // Nodes do not share samples.
  EXPECT_DOUBLE_EQ(client.latency_filter("bob", 0.310), 0.310);
  EXPECT_EQ(client.nodes_tracked(), 2u);
  client.forget_node("alice");
  EXPECT_EQ(client.nodes_tracked(), 1u);
  EXPECT_DOUBLE_EQ(client.latency_filter("alice", 0.888), 0.888);
}

TEST(VivaldiClient, AdjustmentIsHalfTheMeanErrorOverTheWindow) {
  // A near-frozen spring (tiny cc) keeps our point at the origin, so each sample of the
  // window is exactly rtt − raw distance, and the adjustment can be worked out by hand.
  VivaldiConfig config = three_dimensions();
  config.cc = 1e-12;
  config.height_min_s = 0.0;
  config.adjustment_window_size = 4;
  config.latency_filter_size = 1;
  VivaldiClient client(config);
  Coordinate other = origin_coordinate(config);
  other.vec[2] = 0.010;  // 10 ms away by the coordinates

  const double tolerance = 1e-9;
  ASSERT_TRUE(client.update("peer", other, 0.030));  // 20 ms longer than estimated
  EXPECT_NEAR(client.coordinate().adjustment, 0.020 / 8, tolerance);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.update("peer", other, 0.030));
  EXPECT_NEAR(client.coordinate().adjustment, 4 * 0.020 / 8, tolerance);  // window full
  // Accurate samples replace the oldest ones, one by one.
  ASSERT_TRUE(client.update("peer", other, 0.010));
  ASSERT_TRUE(client.update("peer", other, 0.010));
  EXPECT_NEAR(client.coordinate().adjustment, 2 * 0.020 / 8, tolerance);
  // The adjustment takes part in every distance estimate.
  EXPECT_NEAR(client.distance_s(other), 0.010 + 0.005, 1e-6);

  config.adjustment_window_size = 0;
  VivaldiClient off(config);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(off.update("peer", other, 0.030));
  EXPECT_EQ(off.coordinate().adjustment, 0.0);
}

TEST(VivaldiClient, RefusesBadSamplesAndKeepsItsState) {
  VivaldiClient client(three_dimensions());
  Coordinate other = origin_coordinate(client.config());
  other.vec[2] = 0.001;
  ASSERT_TRUE(client.update("node", other, 0.003));
  const Coordinate before = client.coordinate();
  const double distance = client.distance_s(other);

  for (double rtt : {-0.035, -1e-9, 10.5, 1e300, kNaN, kInf, -kInf}) {
    auto r = client.update("other-node", other, rtt);
    ASSERT_FALSE(r) << rtt;
    EXPECT_EQ(r.error().code, core::Code::kInvalidArgument);
  }
  Coordinate not_finite = other;
  not_finite.vec[0] = kNaN;
  Coordinate too_many = other;
  too_many.vec.resize(6, 0.0);
  Coordinate negative_error = other;
  negative_error.error = -1.0;
  for (const Coordinate& bad : {not_finite, too_many, negative_error}) {
    auto r = client.update("other-node", bad, 0.003);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Code::kInvalidArgument) << r.error().message;
    EXPECT_FALSE(client.set_coordinate(bad));
  }
  EXPECT_EQ(client.coordinate(), before);
  EXPECT_EQ(client.distance_s(other), distance);
  EXPECT_EQ(client.nodes_tracked(), 1u) << "a refused sample is not kept for the filter";
  EXPECT_EQ(client.stats().rejected, 10u);
  EXPECT_EQ(client.stats().updates, 1u);

  // The state really is untouched: from here the client goes on exactly like a twin that
  // never saw the refused samples (random draws included).
  VivaldiClient twin(three_dimensions());
  ASSERT_TRUE(twin.update("node", other, 0.003));
  Coordinate coincident = origin_coordinate(client.config());
  coincident.vec = client.coordinate().vec;
  ASSERT_TRUE(client.update("node", coincident, 0.004));
  ASSERT_TRUE(twin.update("node", coincident, 0.004));
  EXPECT_EQ(client.coordinate(), twin.coordinate());
}

TEST(VivaldiClient, ExactlyTenSecondsAndZeroAreAccepted) {
  VivaldiClient client(three_dimensions());
  Coordinate other = origin_coordinate(client.config());
  other.vec[0] = 0.001;
  EXPECT_TRUE(client.update("a", other, kVivaldiRttMaxS));
  // A zero RTT comes from a coarse clock, not from a broken peer: serf keeps it (as 1 µs).
  auto r = client.update("b", other, 0.0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->finite());
  EXPECT_EQ(client.stats().zero_rtts, 1u);
  EXPECT_EQ(client.stats().rejected, 0u);
}

TEST(VivaldiClient, SetCoordinateReplacesIt) {
  VivaldiClient client(three_dimensions());
  Coordinate c = origin_coordinate(client.config());
  c.vec[2] = 99.0;
  ASSERT_TRUE(client.set_coordinate(c));
  EXPECT_EQ(client.coordinate().vec[2], 99.0);
}

TEST(VivaldiClient, ResetsToTheOriginWhenItsCoordinateStopsBeingFinite) {
  VivaldiClient client(three_dimensions());
  // Finite but absurd: gravity's (distance / rho)² overflows to infinity on the next update.
  Coordinate absurd = origin_coordinate(client.config());
  absurd.vec[0] = 1e300;
  ASSERT_TRUE(client.set_coordinate(absurd));
  auto r = client.update("node", origin_coordinate(client.config()), 0.010);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, origin_coordinate(client.config()));
  EXPECT_EQ(client.stats().resets, 1u);
  // And it carries on normally from there.
  Coordinate other = origin_coordinate(client.config());
  other.vec[1] = 0.005;
  ASSERT_TRUE(client.update("node", other, 0.010));
  EXPECT_TRUE(client.coordinate().finite());
  EXPECT_LT(std::abs(client.coordinate().adjustment), 0.010) << "the window restarted";
}

TEST(VivaldiClient, CoincidentNodesSeparateInASeededRandomDirection) {
  auto run = [](std::uint64_t seed) {
    VivaldiConfig config;
    config.seed = seed;
    VivaldiClient client(config);
    // Both at the origin: only a random direction can separate them.
    auto r = client.update("peer", origin_coordinate(config), 0.020);
    EXPECT_TRUE(r);
    return client.coordinate();
  };
  Coordinate a = run(7);
  EXPECT_EQ(a, run(7)) << "equal seeds, equal coordinates";
  EXPECT_NE(a.vec, run(8).vec) << "another seed, another direction";
  double norm = 0.0;
  for (double x : a.vec) norm += x * x;
  EXPECT_GT(std::sqrt(norm), 0.0);
}

}  // namespace
}  // namespace pc::gossip
