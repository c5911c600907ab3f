#include "gossip/core/suspicion.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/assert.h"

namespace pc::gossip {

std::uint64_t suspicion_timeout_ms(int suspicion_mult, std::size_t members,
                                   std::uint64_t probe_interval_ms) {
  double node_scale =
      std::max(1.0, std::log10(std::max<double>(1.0, static_cast<double>(members))));
  // memberlist rounds the scale to milliseconds before multiplying.
  auto scale_ms = static_cast<std::uint64_t>(node_scale * 1000.0);
  return static_cast<std::uint64_t>(suspicion_mult) * scale_ms * probe_interval_ms / 1000;
}

int retransmit_limit(int retransmit_mult, std::size_t members) {
  double node_scale = std::ceil(std::log10(static_cast<double>(members) + 1.0));
  return retransmit_mult * static_cast<int>(node_scale);
}

std::uint64_t push_pull_interval_scaled_ms(std::uint64_t interval_ms, std::size_t members) {
  constexpr std::size_t kThreshold = 32;
  if (members <= kThreshold) return interval_ms;
  double steps = std::ceil(std::log2(static_cast<double>(members)) - std::log2(kThreshold));
  return interval_ms * (static_cast<std::uint64_t>(steps) + 1);
}

std::int64_t remaining_suspicion_ms(int n, int k, std::uint64_t elapsed_ms, std::uint64_t min_ms,
                                    std::uint64_t max_ms) {
  double frac = std::log(static_cast<double>(n) + 1.0) / std::log(static_cast<double>(k) + 1.0);
  double raw = static_cast<double>(max_ms) - frac * static_cast<double>(max_ms - min_ms);
  auto timeout = static_cast<std::int64_t>(std::floor(raw));
  timeout = std::max(timeout, static_cast<std::int64_t>(min_ms));
  return timeout - static_cast<std::int64_t>(elapsed_ms);
}

Suspicion::Suspicion(std::string from, int k, std::uint64_t min_ms, std::uint64_t max_ms,
                     std::uint64_t start_ms)
    : k_(k), min_ms_(min_ms), max_ms_(max_ms), start_ms_(start_ms) {
  PC_ASSERT(min_ms <= max_ms, "suspicion min {} > max {}", min_ms, max_ms);
  confirmed_.insert(std::move(from));
  deadline_ms_ = start_ms + (k_ < 1 ? min_ms_ : max_ms_);
}

bool Suspicion::confirm(const std::string& from) {
  if (n_ >= k_) return false;
  if (!confirmed_.insert(from).second) return false;
  ++n_;
  // The deadline counts from the start, so a confirmation can make it due at once.
  std::int64_t left = remaining_suspicion_ms(n_, k_, 0, min_ms_, max_ms_);
  deadline_ms_ = start_ms_ + static_cast<std::uint64_t>(std::max<std::int64_t>(left, 0));
  return true;
}

}  // namespace pc::gossip
