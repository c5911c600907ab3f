#pragma once
// A gossip pool's statistics as /v1/agent/self shows them (endpoints/gossip_stats.h): serf's
// Stats() of the pool and its counters of refused frames.
#include <optional>

#include "endpoints/gossip_stats.h"
#include "gossip/runtime/pool.h"

namespace pc::daemon {

// nullopt when the pool is not running. Waits for the pool's I/O thread: not from it.
std::optional<endpoints::GossipPoolStats> gossip_pool_stats(const gossip::Pool& pool);

}  // namespace pc::daemon
