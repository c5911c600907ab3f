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

// Runs a request whose ?dc= names another datacenter there and replies with its answer (a
// server: daemon/dc_forward.h). Unset: such a request gets Consul's 500 "No path to
// datacenter".
using DcForwarder = Handler;

// True for the paths that ignore ?dc= as Consul's do: the agent's own API (/v1/agent/...), the
// user events it received (/v1/event/list) and the datacenter lists, which every server
// answers from its WAN pool.
bool ignores_datacenter(std::string_view path);

// Binds the API paths of `which` to their handlers. `ctx` must outlive the router.
void register_routes(Router& router, endpoints::Context& ctx, RouteSet which = RouteSet::kAll,
                     LeaderForwarder to_leader = {}, DcForwarder to_dc = {});

}  // namespace pc::http
