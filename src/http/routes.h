#pragma once
// The one HTTP route table (shared/STYLE.md rule 9).
#include "endpoints/context.h"
#include "http/router.h"

namespace pc::http {

enum class RouteSet {
  kAll,        // a server: every API path
  kAgentOnly,  // a client agent: what the agent itself holds (/v1/agent/...); it forwards the
               // rest to a server (daemon/client_runtime.h)
};

// Binds the API paths of `which` to their handlers. `ctx` must outlive the router.
void register_routes(Router& router, endpoints::Context& ctx, RouteSet which = RouteSet::kAll);

}  // namespace pc::http
