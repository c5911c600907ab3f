#pragma once
// The routes every agent answers from its own gossip pools, server or client alike:
// /v1/operator/keyring, /v1/event/fire/<name>, /v1/event/list. Registered next to the
// route table (routes.h) by the daemon, which owns the pools.
#include "endpoints/gossip_ops.h"
#include "http/router.h"

namespace pc::http {

// `ops` must outlive the router.
void register_gossip_routes(Router& router, const endpoints::GossipOps& ops);

}  // namespace pc::http
