#pragma once
// Vivaldi network coordinates (as hashicorp/serf's `coordinate` package, which Consul serves
// at /v1/coordinate): a point in a small Euclidean space plus a height, such that the
// distance between two nodes' coordinates estimates the round-trip time between them.
// Every quantity is in seconds, as serf's, so the JSON fields (Vec, Error, Adjustment,
// Height) mean what Consul's do. Pure value code: no state, no randomness.
//
// Coordinates arrive from the network (gossip acks, catalog updates): check them with
// `coordinate_problem()` before doing arithmetic on them; the arithmetic below assumes
// compatible (same dimensionality) coordinates and asserts it.
#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pc::gossip {

// The most dimensions a coordinate may have: serf's (and Consul's) default is 8, and a
// bound keeps a hostile coordinate on the wire small.
inline constexpr std::size_t kCoordinateDimensionalityMax = 8;

struct Coordinate {
  // Vec: the Euclidean part, seconds.
  std::vector<double> vec;
  // Error: the confidence in this coordinate, dimensionless (smaller is better; a fresh
  // coordinate starts at VivaldiConfig::error_max).
  double error = 0.0;
  // Adjustment: seconds added to every distance from this node, learnt from the recent
  // difference between measured and estimated RTTs (it may be negative).
  double adjustment = 0.0;
  // Height: seconds every path to this node pays regardless of direction (its access link).
  double height = 0.0;

  bool operator==(const Coordinate&) const = default;

  // Serf's `IsCompatibleWith`: same number of dimensions.
  bool compatible_with(const Coordinate& other) const { return vec.size() == other.vec.size(); }
  // Serf's `IsValid`: every number finite (no NaN, no infinity).
  bool finite() const;

  // The estimated RTT to `other` in seconds: |vec − other.vec| + both heights, plus both
  // adjustments only when that sum stays positive (serf's rule: a negative adjustment may
  // shorten a distance but never make it zero or negative). Asserts compatibility.
  double distance_s(const Coordinate& other) const;
  // The same without the adjustments (what the adjustment window learns against).
  double raw_distance_s(const Coordinate& other) const;
};

// Why a coordinate from outside cannot be used, or empty if it can: it must be finite,
// have no negative error or height, and have exactly `dimensionality` dimensions (1 to
// kCoordinateDimensionalityMax).
std::string coordinate_problem(const Coordinate& c, std::size_t dimensionality);
// The same for a coordinate of any supported dimensionality (the wire codec's check).
std::string coordinate_problem(const Coordinate& c);

// Consul's `consul rtt` figure: the estimated RTT in milliseconds, or nullopt when either
// coordinate is unusable or they are not compatible (Consul would refuse to compare them).
std::optional<double> estimate_rtt_ms(const Coordinate& a, const Coordinate& b);

// The distance used to sort by nearness (Consul's `lib.ComputeDistance`): seconds, or +inf
// when either coordinate is missing, unusable or incompatible, so such entries sort last.
double sort_distance_s(const Coordinate* a, const Coordinate* b);

// Sorts `items` by estimated RTT from `origin`, as Consul's `?near=` does: a stable sort
// (equal distances keep their order), entries without a usable coordinate last in their
// original order, and no sorting at all when the origin has no coordinate (Consul leaves
// the list as the catalog returned it). `coordinate_of(item)` returns a
// `const Coordinate*` (nullptr: unknown). Distances are computed once per item.
template <typename T, typename CoordinateOf>
void sort_by_distance(const Coordinate* origin, std::vector<T>& items, CoordinateOf coordinate_of) {
  if (origin == nullptr || !origin->finite()) return;
  std::vector<std::pair<double, std::size_t>> keyed;
  keyed.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    keyed.emplace_back(sort_distance_s(origin, coordinate_of(items[i])), i);
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<T> sorted;
  sorted.reserve(items.size());
  for (const auto& [distance, index] : keyed) sorted.push_back(std::move(items[index]));
  items = std::move(sorted);
}

// A node name with its coordinate, if known: the plain form of the above.
struct NamedCoordinate {
  std::string name;
  std::optional<Coordinate> coordinate;
  bool operator==(const NamedCoordinate&) const = default;
};
void sort_by_distance(const std::optional<Coordinate>& origin, std::vector<NamedCoordinate>& nodes);

}  // namespace pc::gossip
