#pragma once
// The one HTTP route table (shared/STYLE.md rule 9).
#include <functional>

#include "endpoints/context.h"
#include "http/router.h"

namespace pc::http {

enum class RouteSet {
  kAll,        // a server: every API path
  kAgentOnly,  // a client agent: what the agent itself holds (/v1/agent/...); it forwards the
               // rest to a server (daemon/client_runtime.h)
};

// Runs a request on the leader when this server is not it; returns false to handle it here
// (this server leads). Paths that act on the leader's own state use it: session renewals,
// which reset the leader's TTL timer.
using LeaderForwarder = std::function<bool(const Request&, Reply&)>;

// Binds the API paths of `which` to their handlers. `ctx` must outlive the router.
void register_routes(Router& router, endpoints::Context& ctx, RouteSet which = RouteSet::kAll,
                     LeaderForwarder to_leader = {});

}  // namespace pc::http
