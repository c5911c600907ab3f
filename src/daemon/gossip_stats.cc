#include "daemon/gossip_stats.h"

namespace pc::daemon {

std::optional<endpoints::GossipPoolStats> gossip_pool_stats(const gossip::Pool& pool) {
  const std::optional<gossip::Pool::SerfStats> serf = pool.serf_stats();
  if (!serf) return std::nullopt;
  const gossip::Pool::Stats refused = pool.stats();
  endpoints::GossipPoolStats out;
  out.members = serf->members;
  out.failed = serf->failed;
  out.left = serf->left;
  out.health_score = serf->health_score;
  out.encrypted = serf->encrypted;
  out.event_time = serf->event_time;
  out.query_time = serf->query_time;
  out.intent_queue = serf->intent_queue;
  out.event_queue = serf->event_queue;
  out.query_queue = serf->query_queue;
  out.coordinate_resets = serf->coordinate_resets;
  out.refused_decrypt = refused.refused_decrypt;
  out.refused_decode = refused.refused_decode;
  out.refused_core = refused.refused_core;
  return out;
}

}  // namespace pc::daemon
