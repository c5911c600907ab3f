// /v1/health/* — Consul's health endpoints (agent/health_endpoint.go), read-only.
#include <string>
#include <vector>

#include "endpoints/acl_filter.h"
#include "endpoints/check_filter.h"
#include "endpoints/coordinate.h"
#include "endpoints/health.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"

namespace pc::http::handlers {
namespace {

Response checks_response(const endpoints::HealthChecks& read) {
  JsonWriter w;
  w.begin_array();  // Consul's edge turns a nil list into []
  for (const auto& c : read.checks) write_health_check(w, c);
  w.end_array();
  return Response::json(w.take());
}

// Go's strconv.ParseBool, which Consul applies to a non-empty ?passing.
std::optional<bool> parse_go_bool(std::string_view v) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (v == t) return true;
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (v == f) return false;
  }
  return std::nullopt;
}

// The three check lists: the path's last part (a node, a service or a state) names what to
// read, ?filter= selects among the checks (and ?node-meta among their nodes, where Consul
// takes it), and the list blocks like every read.
using ChecksRead = endpoints::HealthChecks (*)(const endpoints::Context&, state::WatchSet&,
                                               std::string_view, const endpoints::NodeMetaFilter&,
                                               const filter::Expression*);
void reply_checks(endpoints::Context& ctx, const Request& req, Reply& reply,
                  std::string_view prefix, std::string_view missing, ChecksRead read_checks) {
  std::string name(path_suffix(req, prefix));
  if (name.empty()) return reply(Response::text(400, std::string(missing)));
  auto expr = query_filter(req, endpoints::compile_health_check_filter);
  if (!expr) return reply(bad_request(expr.error().message));
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  reply_blocking(req, reply,
                 [&ctx, name, node_meta = node_meta_filter(req), expr = std::move(*expr),
                  near = near_origin(ctx, req), read_checks, who = *who](state::WatchSet& ws) {
                   auto read = read_checks(ctx, ws, name, node_meta, filter_or_null(expr));
                   if (near) {
                     endpoints::sort_near(
                         ctx.store.snapshot(), *near, read.checks,
                         [](const state::HealthCheck& c) -> const std::string& { return c.node; });
                   }
                   const bool filtered = endpoints::filter_health_checks(who, read.checks);
                   Response r = checks_response(read);
                   if (filtered) r.headers.emplace_back(kResultsFilteredHeader, "true");
                   return ReadOutcome{read.index, std::move(r)};
                 });
}

// Consul's /v1/health/node/:node takes no ?node-meta.
endpoints::HealthChecks node_checks(const endpoints::Context& ctx, state::WatchSet& ws,
                                    std::string_view node, const endpoints::NodeMetaFilter&,
                                    const filter::Expression* expr) {
  return endpoints::health_node_checks(ctx, ws, node, expr);
}

}  // namespace

void health_node_checks(endpoints::Context& ctx, const Request& req, Reply reply) {
  reply_checks(ctx, req, reply, "/v1/health/node/", "Missing node name", node_checks);
}

void health_service_checks(endpoints::Context& ctx, const Request& req, Reply reply) {
  reply_checks(ctx, req, reply, "/v1/health/checks/", "Missing service name",
               endpoints::health_service_checks);
}

void health_checks_in_state(endpoints::Context& ctx, const Request& req, Reply reply) {
  reply_checks(ctx, req, reply, "/v1/health/state/", "Missing check state",
               endpoints::health_checks_in_state);
}

namespace {

std::string render_check_service_nodes(const std::vector<endpoints::CheckServiceNode>& nodes) {
  JsonWriter w;
  // About 600 bytes an entry with two checks: one allocation instead of a doubling series of
  // copies for a large service.
  w.reserve(256 + nodes.size() * 768);
  w.begin_array();
  for (const auto& csn : nodes) write_check_service_node(w, csn);
  w.end_array();
  return w.take();
}

}  // namespace

void health_service_nodes(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string name(path_suffix(req, "/v1/health/service/"));
  if (name.empty()) return reply(Response::text(400, "Missing service name"));
  std::vector<std::string> tags;
  for (const auto& [k, v] : req.query) {
    if (k == "tag") tags.push_back(v);
  }
  // Consul: a bare ?passing means true; any other value must parse as a Go bool.
  bool passing_only = false;
  if (const auto* v = req.query_param("passing"); v != nullptr) {
    auto parsed = v->empty() ? std::optional<bool>(true) : parse_go_bool(*v);
    if (!parsed) return reply(bad_request("Invalid value for ?passing"));
    passing_only = *parsed;
  }
  auto expr = query_filter(req, endpoints::compile_check_service_node_filter);
  if (!expr) return reply(bad_request(expr.error().message));
  auto node_meta = node_meta_filter(req);
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  if (acl_filters(ctx)) {
    // Per-token rows: no shared rendering under ACLs.
    return reply_blocking(
        req, reply,
        [&ctx, name, tags, node_meta, passing_only, near = near_origin(ctx, req),
         expr = std::move(*expr), who = *who](state::WatchSet& ws) {
          ctx.store.watch_service(ws, name);
          state::Snapshot snap = ctx.store.snapshot();
          auto read = endpoints::health_service_nodes(snap, name, tags, node_meta, passing_only,
                                                      filter_or_null(expr));
          if (near) {
            endpoints::sort_near(
                snap, *near, read.nodes,
                [](const auto& csn) -> const std::string& { return csn.node.node; });
          }
          const bool filtered = endpoints::filter_check_service_nodes(who, read.nodes);
          Response r = Response::json(render_check_service_nodes(read.nodes));
          if (filtered) r.headers.emplace_back(kResultsFilteredHeader, "true");
          return ReadOutcome{endpoints::health_service_index(snap, name), std::move(r)};
        });
  }
  reply_blocking(req, reply,
                 [&ctx, key = rendering_key(req), name, tags, node_meta, passing_only,
                  near = near_origin(ctx, req), expr = std::move(*expr)](state::WatchSet& ws) {
                   ctx.store.watch_service(ws, name);
                   state::Snapshot snap = ctx.store.snapshot();
                   const std::uint64_t index = endpoints::health_service_index(snap, name);
                   auto render = [&] {
                     auto read = endpoints::health_service_nodes(
                         snap, name, tags, node_meta, passing_only, filter_or_null(expr));
                     if (near) {
                       endpoints::sort_near(
                           snap, *near, read.nodes,
                           [](const auto& csn) -> const std::string& { return csn.node.node; });
                     }
                     return render_check_service_nodes(read.nodes);
                   };
                   // A ?near= order follows coordinates, which the index does not cover.
                   if (near) return ReadOutcome{index, Response::json(render())};
                   return shared_rendering(ctx, key, index, render);
                 });
}

}  // namespace pc::http::handlers
