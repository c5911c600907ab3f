#pragma once
// Handlers of the gossip-backed endpoints (gossip_routes.h): Consul's keyring operations and
// user events. Each calls `reply` exactly once, now or later (a keyring query, a parked list).
#include "endpoints/gossip_ops.h"
#include "http/handler.h"

namespace pc::http::handlers {

void operator_keyring(const endpoints::GossipOps& ops, const Request& req, Reply reply);
void event_fire(const endpoints::GossipOps& ops, const Request& req, Reply reply);
void event_list(const endpoints::GossipOps& ops, const Request& req, Reply reply);

}  // namespace pc::http::handlers
