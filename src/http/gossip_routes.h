#pragma once
// The routes every agent answers from its own gossip pools, server or client alike:
// /v1/operator/keyring, /v1/event/fire/<name>, /v1/event/list. Registered next to the
// route table (routes.h) by the daemon, which owns the pools.
#include "endpoints/gossip_ops.h"
#include "http/router.h"

namespace pc::http {

// `ops` must outlive the router. A client agent passes `keyring_forwarder`: its keyring
// operations go to a server, which runs them on the WAN pool and on the LAN pool (that holds
// this client too), as Consul's clients forward them; a local-only list stays here.
// `dc_forwarder` runs the requests whose ?dc= names another datacenter (event fire; a client
// agent: through its server; a server: in that datacenter); unset, they get Consul's 500
// "No path to datacenter". /v1/event/list ignores ?dc= (ignores_datacenter).
void register_gossip_routes(Router& router, const endpoints::GossipOps& ops,
                            Handler keyring_forwarder = nullptr, Handler dc_forwarder = nullptr);

}  // namespace pc::http
