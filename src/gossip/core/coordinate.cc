#include "gossip/core/coordinate.h"

#include <cmath>

#include "core/assert.h"

namespace pc::gossip {

bool Coordinate::finite() const {
  for (double v : vec) {
    if (!std::isfinite(v)) return false;
  }
  return std::isfinite(error) && std::isfinite(adjustment) && std::isfinite(height);
}

double Coordinate::raw_distance_s(const Coordinate& other) const {
  PC_ASSERT(compatible_with(other), "coordinates of {} and {} dimensions", vec.size(),
            other.vec.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < vec.size(); ++i) {
    double d = vec[i] - other.vec[i];
    sum += d * d;
  }
  return std::sqrt(sum) + height + other.height;
}

double Coordinate::distance_s(const Coordinate& other) const {
  double raw = raw_distance_s(other);
  double adjusted = raw + adjustment + other.adjustment;
  return adjusted > 0.0 ? adjusted : raw;
}

std::string coordinate_problem(const Coordinate& c) {
  if (c.vec.empty()) return "coordinate without dimensions";
  if (c.vec.size() > kCoordinateDimensionalityMax) return "coordinate has too many dimensions";
  if (!c.finite()) return "coordinate is not finite";
  // Serf checks only finiteness; a client never produces a negative error or height (the
  // height stays at or above height_min), and a negative one from a peer would make
  // distances shrink below zero or swing the spring step's weights.
  if (c.error < 0.0) return "coordinate error is negative";
  if (c.height < 0.0) return "coordinate height is negative";
  return {};
}

std::string coordinate_problem(const Coordinate& c, std::size_t dimensionality) {
  std::string why = coordinate_problem(c);
  if (!why.empty()) return why;
  if (c.vec.size() != dimensionality) {
    return "coordinate has " + std::to_string(c.vec.size()) + " dimensions, not " +
           std::to_string(dimensionality);
  }
  return {};
}

std::optional<double> estimate_rtt_ms(const Coordinate& a, const Coordinate& b) {
  if (!coordinate_problem(a).empty() || !coordinate_problem(b, a.vec.size()).empty()) {
    return std::nullopt;
  }
  double ms = a.distance_s(b) * 1000.0;
  // Finite inputs can still overflow (1e308 apart); an infinite estimate is no estimate.
  if (!std::isfinite(ms)) return std::nullopt;
  return ms;
}

double sort_distance_s(const Coordinate* a, const Coordinate* b) {
  constexpr double kUnknown = std::numeric_limits<double>::infinity();
  if (a == nullptr || b == nullptr) return kUnknown;
  if (!coordinate_problem(*a).empty() || !coordinate_problem(*b, a->vec.size()).empty()) {
    return kUnknown;
  }
  double d = a->distance_s(*b);
  // A NaN would break the sort's ordering; treat it like an unknown coordinate.
  return std::isnan(d) ? kUnknown : d;
}

void sort_by_distance(const std::optional<Coordinate>& origin,
                      std::vector<NamedCoordinate>& nodes) {
  sort_by_distance(origin ? &*origin : nullptr, nodes, [](const NamedCoordinate& n) {
    return n.coordinate ? &*n.coordinate : nullptr;
  });
}

}  // namespace pc::gossip
