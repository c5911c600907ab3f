#pragma once
// How long anti-entropy waits between full passes, scaled to the cluster (Consul's agent/ae
// scaleFactor and stagger): every agent syncs in full about once a minute in a cluster of up
// to 128 members; past that the spread doubles each time the cluster doubles, so the servers
// see about the same number of full syncs per second whatever the cluster's size.
//
// Pure functions; the caller supplies the member count and the random draw.
#include <cstddef>
#include <cstdint>

#include "core/clock.h"

namespace pc::agent {

// Members up to which the factor is 1 (Consul's scaleThreshold, a power of two).
inline constexpr std::size_t sync_scale_threshold = 128;

// 1 up to sync_scale_threshold members, then 1 + ceil(log2(n) - log2(128)): 2 up to 256,
// 3 up to 512, ... 8 at 8192.
int sync_scale_factor(std::size_t members);

// Consul's wait before the next full pass: interval plus a random stagger within
// factor × interval (lib.RandomStagger), from `random` (any 64-bit draw).
core::Duration full_sync_wait(core::Duration interval, std::size_t members, std::uint64_t random);

}  // namespace pc::agent
