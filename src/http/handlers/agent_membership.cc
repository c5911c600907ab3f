// /v1/agent/join, /v1/agent/leave and /v1/agent/force-leave: the agent's gossip membership,
// through endpoints::Membership (the daemon's pools); and /v1/agent/reload, which reads the
// agent's configuration files again (daemon/config_reload.h). Errors are Consul's: a plain
// 500 with the agent's error text (its handlers return the error as is).
#include <string>

#include "endpoints/acl_checks.h"
#include "endpoints/membership.h"
#include "http/acl_auth.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/query.h"

namespace pc::http::handlers {
namespace {

// Consul's `req.URL.Query().Get(name) != ""`: present with a non-empty value (members and
// join read ?wan this way; force-leave only asks whether it is there).
bool query_value_set(const Request& req, std::string_view name) {
  const std::string* v = req.query_param(name);
  return v != nullptr && !v->empty();
}

// join and leave change this agent's own membership: agent:write on its node.
bool may_write_agent(endpoints::Context& ctx, const Request& req, Reply& reply) {
  return require(ctx, req, reply, [&ctx](const endpoints::ResolvedToken& who) {
    return endpoints::require_rule(who, acl::Resource::kAgent, ctx.identity.node_name,
                                   acl::AccessLevel::kWrite);
  });
}

Response no_pools() {
  return Response::text(500, "this agent runs no gossip pool");
}

}  // namespace

void agent_join(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!may_write_agent(ctx, req, reply)) return;
  if (ctx.membership == nullptr) return reply(no_pools());
  const std::string address(path_suffix(req, "/v1/agent/join/"));
  if (address.empty()) return reply(Response::text(400, "Missing address to join"));
  auto joined = ctx.membership->join({address}, query_value_set(req, "wan"));
  if (!joined) return reply(Response::text(500, joined.error().message));
  reply(Response::text(200, ""));
}

void agent_leave(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!may_write_agent(ctx, req, reply)) return;
  if (ctx.membership == nullptr) return reply(no_pools());
  if (auto s = ctx.membership->leave(); !s) return reply(Response::text(500, s.error().message));
  reply(Response::text(200, ""));
}

// Answers once the files are read and their services and checks are on the local agent (the
// catalog follows with anti-entropy, as in Consul).
void agent_reload(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!may_write_agent(ctx, req, reply)) return;
  if (!ctx.reload_config) return reply(Response::text(500, "this agent cannot reload"));
  if (auto s = ctx.reload_config(); !s) return reply(Response::text(500, s.error().message));
  reply(Response::text(200, ""));
}

// Removing another node from the pool is a cluster operation: operator:write, as in Consul.
void agent_force_leave(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!require_operator(ctx, req, reply, true)) return;
  if (ctx.membership == nullptr) return reply(no_pools());
  const std::string node(path_suffix(req, "/v1/agent/force-leave/"));
  if (node.empty()) return reply(Response::text(400, "Missing node name"));
  auto s = ctx.membership->force_leave(node, query_flag(req, "prune"), query_flag(req, "wan"));
  if (!s) return reply(Response::text(500, s.error().message));
  reply(Response::text(200, ""));
}

}  // namespace pc::http::handlers
