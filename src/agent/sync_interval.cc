#include "agent/sync_interval.h"

namespace pc::agent {

int sync_scale_factor(std::size_t members) {
  if (members <= sync_scale_threshold) return 1;
  // ceil(log2(n) - log2(128)) in integers: the number of doublings of 128 needed to reach n.
  int doublings = 0;
  for (std::size_t reach = sync_scale_threshold; reach < members; reach *= 2) ++doublings;
  return doublings + 1;
}

core::Duration full_sync_wait(core::Duration interval, std::size_t members, std::uint64_t random) {
  if (interval <= core::Duration::zero()) return interval;
  auto spread = static_cast<std::uint64_t>(interval.count()) *
                static_cast<std::uint64_t>(sync_scale_factor(members));
  return interval + core::Duration(static_cast<core::Duration::rep>(random % spread));
}

}  // namespace pc::agent
