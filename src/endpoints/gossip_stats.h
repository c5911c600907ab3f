#pragma once
// What /v1/agent/self's "Stats" shows about the agent's gossip pools: Consul's serf_lan and
// serf_wan sections (serf's Stats()), plus the frames each pool refused, by stage. The
// daemon fills it from its pools (gossip::Pool::serf_stats() and stats()); http/ renders it
// with serf's key names. Plain values, so the edge needs no gossip runtime.
#include <cstdint>
#include <optional>

namespace pc::endpoints {

struct GossipPoolStats {
  std::uint64_t members = 0;  // every member the pool holds, failed and left included
  std::uint64_t failed = 0;
  std::uint64_t left = 0;
  std::int64_t health_score = 0;
  bool encrypted = false;
  std::uint64_t event_time = 0;
  std::uint64_t query_time = 0;
  std::uint64_t intent_queue = 0;
  std::uint64_t event_queue = 0;
  std::uint64_t query_queue = 0;
  std::uint64_t coordinate_resets = 0;
  // Frames refused by the keyring (wrong or missing key), the codec, the core: ours, not
  // serf's, so an operator sees a key mismatch without debug logs.
  std::uint64_t refused_decrypt = 0;
  std::uint64_t refused_decode = 0;
  std::uint64_t refused_core = 0;
};

struct GossipStats {
  std::optional<GossipPoolStats> lan;  // every agent that runs its LAN pool
  std::optional<GossipPoolStats> wan;  // servers with a WAN pool only
};

}  // namespace pc::endpoints
