#pragma once
// The Vivaldi client: one node's estimate of its own network coordinate, moved by each RTT
// sample to another node (as hashicorp/serf's `coordinate.Client`). Each update runs
// serf's four steps: a per-node median latency filter, the Vivaldi spring step (Dabek et
// al., SIGCOMM 2004), the adjustment window (Lee et al., 2010) and gravity towards the
// origin (Ledlie et al., NSDI 2007). Seconds throughout.
//
// Thread-safety: none; one owner (the gossip strand) makes every call. Randomness (the
// direction to move in when two coordinates coincide) comes from VivaldiConfig::seed, so a
// run replays exactly. Invariant: coordinate() is finite, has config().dimensionality
// dimensions and an error of at most error_max; an update that would make it non-finite
// resets the client to the origin (serf does the same) and counts it in stats().resets.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/split_mix64.h"
#include "gossip/core/coordinate.h"

namespace pc::gossip {

// serf's `DefaultConfig()` (coordinate/config.go), which Consul uses unchanged.
struct VivaldiConfig {
  // 8 dimensions plus the height (Ledlie et al. found more add little).
  std::size_t dimensionality = 8;
  // The error of a fresh coordinate and the cap on it.
  double error_max = 1.5;
  // c_e and c_c of the Vivaldi paper: how far one sample may move the error and the point.
  double ce = 0.25;
  double cc = 0.25;
  // Samples of (measured − estimated) RTT averaged into the adjustment; 0 disables it.
  std::size_t adjustment_window_size = 20;
  // The lowest height (10 µs): heights must stay positive.
  double height_min_s = 10.0e-6;
  // RTT samples per node whose median is used, to ride out a single slow probe.
  std::size_t latency_filter_size = 3;
  // rho: how strongly gravity pulls the coordinate back to the origin (seconds).
  double gravity_rho_s = 150.0;
  // Seeds the random unit vector used when two coordinates coincide.
  std::uint64_t seed = 0;
};

// Bounds on the windows (serf's defaults are 3 and 20): each update sorts the latency
// samples and sums the adjustment window.
inline constexpr std::size_t kVivaldiLatencyFilterSizeMax = 64;
inline constexpr std::size_t kVivaldiAdjustmentWindowSizeMax = 1024;

// Why a configuration cannot be used (empty if it can). Dimensionality 1 to
// kCoordinateDimensionalityMax, a latency filter of 1 to kVivaldiLatencyFilterSizeMax
// samples, an adjustment window of at most kVivaldiAdjustmentWindowSizeMax, positive
// error_max and gravity_rho, ce and cc in (0, 1], a non-negative height_min.
std::string vivaldi_config_problem(const VivaldiConfig& config);

// serf's `NewCoordinate`: the origin, with the maximum error and the minimum height.
Coordinate origin_coordinate(const VivaldiConfig& config);

// Serf refuses RTTs outside [0, 10 s]: a probe ack later than that is no sample.
inline constexpr double kVivaldiRttMaxS = 10.0;
// The most nodes whose recent RTT samples are kept; the owner forgets nodes that leave,
// this bounds the table against anything else.
inline constexpr std::size_t kVivaldiNodesTrackedMax = 65'536;

struct VivaldiStats {
  std::uint64_t updates = 0;    // samples applied
  std::uint64_t rejected = 0;   // samples refused (bad RTT or coordinate): state unchanged
  std::uint64_t resets = 0;     // own coordinate became invalid and was reset to the origin
  std::uint64_t zero_rtts = 0;  // samples of 0 s (coarse clocks): applied as 1 µs, counted
};

class VivaldiClient {
 public:
  // `config` must be valid (vivaldi_config_problem is empty): asserted, it is ours.
  explicit VivaldiClient(const VivaldiConfig& config);

  const Coordinate& coordinate() const { return coord_; }
  const VivaldiConfig& config() const { return config_; }
  const VivaldiStats& stats() const { return stats_; }

  // Applies one RTT sample: `rtt_s` measured to `node`, whose coordinate is `other`.
  // Refuses (kInvalidArgument, nothing changed) an RTT that is negative, not finite or over
  // 10 s, and a coordinate that is not finite or of another dimensionality. Returns the
  // new coordinate.
  core::Result<Coordinate> update(std::string_view node, const Coordinate& other, double rtt_s);

  // Replaces the coordinate (e.g. one restored at startup); refused as in update().
  core::Status set_coordinate(const Coordinate& coordinate);

  // Estimated RTT in seconds to a coordinate of the same dimensionality (asserted).
  double distance_s(const Coordinate& other) const { return coord_.distance_s(other); }

  // Drops the latency samples kept for `node` (it left the cluster).
  void forget_node(std::string_view node);
  std::size_t nodes_tracked() const { return latency_samples_.size(); }

  // The median of the last latency_filter_size samples for `node` including this one:
  // what update() feeds to Vivaldi. Public for tests.
  double latency_filter(std::string_view node, double rtt_s);

 private:
  void update_vivaldi(const Coordinate& other, double rtt_s);
  void update_adjustment(const Coordinate& other, double rtt_s);
  void update_gravity();
  // Moves coord_ by `force` seconds along the unit vector from `other` towards us, and
  // grows our height in proportion (serf's ApplyForce).
  void apply_force(double force, const Coordinate& other);
  std::vector<double> unit_vector_from(const Coordinate& other, double* magnitude);
  double random_unit_interval();

  VivaldiConfig config_;
  Coordinate coord_;
  Coordinate origin_;
  core::SplitMix64 rng_;
  // A ring of the last adjustment_window_size (measured − raw estimate) samples.
  std::vector<double> adjustment_samples_;
  std::size_t adjustment_index_ = 0;
  // Oldest first, at most latency_filter_size per node.
  std::map<std::string, std::vector<double>, std::less<>> latency_samples_;
  VivaldiStats stats_;
};

}  // namespace pc::gossip
