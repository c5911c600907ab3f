#include "gossip/core/vivaldi_client.h"

#include <algorithm>
#include <cmath>

#include "core/assert.h"

namespace pc::gossip {
namespace {

// Below this (seconds) two points coincide and an RTT counts as zero (serf's threshold).
constexpr double kZeroThreshold = 1.0e-6;

core::Error refused(std::string why) {
  return core::make_error(core::Code::kInvalidArgument, "vivaldi: " + std::move(why));
}

double magnitude(const std::vector<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x * x;
  return std::sqrt(sum);
}

}  // namespace

std::string vivaldi_config_problem(const VivaldiConfig& c) {
  if (c.dimensionality == 0 || c.dimensionality > kCoordinateDimensionalityMax) {
    return "dimensionality must be 1 to " + std::to_string(kCoordinateDimensionalityMax);
  }
  if (c.latency_filter_size == 0 || c.latency_filter_size > kVivaldiLatencyFilterSizeMax) {
    return "latency filter must keep 1 to " + std::to_string(kVivaldiLatencyFilterSizeMax) +
           " samples";
  }
  if (c.adjustment_window_size > kVivaldiAdjustmentWindowSizeMax) {
    return "adjustment window over " + std::to_string(kVivaldiAdjustmentWindowSizeMax);
  }
  if (!(c.error_max > 0.0) || !std::isfinite(c.error_max)) return "error_max must be positive";
  if (!(c.ce > 0.0 && c.ce <= 1.0) || !(c.cc > 0.0 && c.cc <= 1.0)) {
    return "ce and cc must be in (0, 1]";
  }
  if (!(c.height_min_s >= 0.0) || !std::isfinite(c.height_min_s)) {
    return "height_min must not be negative";
  }
  if (!(c.gravity_rho_s > 0.0) || !std::isfinite(c.gravity_rho_s)) {
    return "gravity_rho must be positive";
  }
  return {};
}

Coordinate origin_coordinate(const VivaldiConfig& config) {
  Coordinate c;
  c.vec.assign(config.dimensionality, 0.0);
  c.error = config.error_max;
  c.height = config.height_min_s;
  return c;
}

VivaldiClient::VivaldiClient(const VivaldiConfig& config)
    : config_(config),
      coord_(origin_coordinate(config)),
      origin_(origin_coordinate(config)),
      rng_(config.seed),
      adjustment_samples_(config.adjustment_window_size, 0.0) {
  std::string why = vivaldi_config_problem(config);
  PC_ASSERT(why.empty(), "vivaldi config: {}", why);
}

core::Status VivaldiClient::set_coordinate(const Coordinate& coordinate) {
  std::string why = coordinate_problem(coordinate, config_.dimensionality);
  if (!why.empty()) return refused(why);
  coord_ = coordinate;
  return core::ok();
}

void VivaldiClient::forget_node(std::string_view node) {
  auto it = latency_samples_.find(node);
  if (it != latency_samples_.end()) latency_samples_.erase(it);
}

double VivaldiClient::latency_filter(std::string_view node, double rtt_s) {
  auto it = latency_samples_.find(node);
  if (it == latency_samples_.end()) {
    // Full: drop some other node's samples rather than grow without bound. The owner
    // forgets members that leave, so this only happens under churn beyond the member limit.
    if (latency_samples_.size() >= kVivaldiNodesTrackedMax) {
      latency_samples_.erase(latency_samples_.begin());
    }
    it = latency_samples_.emplace(std::string(node), std::vector<double>{}).first;
  }
  std::vector<double>& samples = it->second;
  samples.push_back(rtt_s);
  if (samples.size() > config_.latency_filter_size) samples.erase(samples.begin());
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  // The upper median for an even count, as serf's sorted[len/2].
  return sorted[sorted.size() / 2];
}

core::Result<Coordinate> VivaldiClient::update(std::string_view node, const Coordinate& other,
                                               double rtt_s) {
  // Everything is checked before anything changes: a refused sample leaves no trace.
  std::string why = coordinate_problem(other, config_.dimensionality);
  if (!why.empty()) {
    ++stats_.rejected;
    return refused(why);
  }
  if (!std::isfinite(rtt_s) || rtt_s < 0.0 || rtt_s > kVivaldiRttMaxS) {
    ++stats_.rejected;
    return refused("round trip time " + std::to_string(rtt_s) + " s is not in [0, 10] s");
  }
  // Serf accepts a zero RTT (coarse monotonic clocks produce them; Consul issue 3789) and
  // treats it as kZeroThreshold in the spring step; we do the same and count it.
  if (rtt_s == 0.0) ++stats_.zero_rtts;

  double filtered_s = latency_filter(node, rtt_s);
  update_vivaldi(other, filtered_s);
  update_adjustment(other, filtered_s);
  update_gravity();
  if (!coord_.finite()) {
    ++stats_.resets;
    coord_ = origin_coordinate(config_);
    // Serf keeps its adjustment samples across a reset; a non-finite one would then poison
    // every later adjustment, so we start that window afresh too.
    std::fill(adjustment_samples_.begin(), adjustment_samples_.end(), 0.0);
    adjustment_index_ = 0;
  }
  ++stats_.updates;
  return coord_;
}

void VivaldiClient::update_vivaldi(const Coordinate& other, double rtt_s) {
  double dist_s = coord_.distance_s(other);
  rtt_s = std::max(rtt_s, kZeroThreshold);
  // How wrong the current estimate is, relative to the sample.
  double wrongness = std::abs(dist_s - rtt_s) / rtt_s;
  // Trust the sample in proportion to how unsure we are compared with the other node.
  double total_error = std::max(coord_.error + other.error, kZeroThreshold);
  double weight = coord_.error / total_error;
  coord_.error = config_.ce * weight * wrongness + coord_.error * (1.0 - config_.ce * weight);
  coord_.error = std::min(coord_.error, config_.error_max);
  double force = config_.cc * weight * (rtt_s - dist_s);
  apply_force(force, other);
}

void VivaldiClient::update_adjustment(const Coordinate& other, double rtt_s) {
  if (config_.adjustment_window_size == 0) return;
  // Against the raw distance: the adjustments themselves must not feed back into it.
  adjustment_samples_[adjustment_index_] = rtt_s - coord_.raw_distance_s(other);
  adjustment_index_ = (adjustment_index_ + 1) % config_.adjustment_window_size;
  double sum = 0.0;
  for (double s : adjustment_samples_) sum += s;
  // Half the mean: the other side of each path applies its own adjustment too.
  coord_.adjustment = sum / (2.0 * static_cast<double>(config_.adjustment_window_size));
}

void VivaldiClient::update_gravity() {
  double dist_s = origin_.distance_s(coord_);
  double ratio = dist_s / config_.gravity_rho_s;
  apply_force(-ratio * ratio, origin_);
}

void VivaldiClient::apply_force(double force, const Coordinate& other) {
  double mag = 0.0;
  std::vector<double> unit = unit_vector_from(other, &mag);
  for (std::size_t i = 0; i < coord_.vec.size(); ++i) coord_.vec[i] += unit[i] * force;
  // Only a real separation says how much of the error is height rather than direction.
  if (mag > kZeroThreshold) {
    coord_.height = (coord_.height + other.height) * force / mag + coord_.height;
    coord_.height = std::max(coord_.height, config_.height_min_s);
  }
}

std::vector<double> VivaldiClient::unit_vector_from(const Coordinate& other, double* mag_out) {
  std::vector<double> v(coord_.vec.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = coord_.vec[i] - other.vec[i];
  double mag = magnitude(v);
  *mag_out = 0.0;
  if (mag > kZeroThreshold) {
    for (double& x : v) x /= mag;
    *mag_out = mag;
    return v;
  }
  // The two points coincide (every fresh node sits at the origin): push in a random
  // direction so nodes spread out instead of moving together.
  for (double& x : v) x = random_unit_interval() - 0.5;
  mag = magnitude(v);
  if (mag > kZeroThreshold) {
    for (double& x : v) x /= mag;
    return v;
  }
  // Vanishingly rare: every random component near 0.5. Any direction will do.
  std::fill(v.begin(), v.end(), 0.0);
  v[0] = 1.0;
  return v;
}

double VivaldiClient::random_unit_interval() {
  // The top 53 bits as a double in [0, 1).
  return static_cast<double>(rng_.next() >> 11) * 0x1.0p-53;
}

}  // namespace pc::gossip
