// /v1/health/* — Consul's health endpoints (agent/health_endpoint.go), read-only.
#include <string>
#include <vector>

#include "endpoints/health.h"
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

}  // namespace

void health_node_checks(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string node(path_suffix(req, "/v1/health/node/"));
  if (node.empty()) return reply(Response::text(400, "Missing node name"));
  reply_blocking(req, reply, [&ctx, node](state::WatchSet& ws) {
    auto read = endpoints::health_node_checks(ctx, ws, node);
    return ReadOutcome{read.index, checks_response(read)};
  });
}

void health_service_checks(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string name(path_suffix(req, "/v1/health/checks/"));
  if (name.empty()) return reply(Response::text(400, "Missing service name"));
  reply_blocking(req, reply, [&ctx, name](state::WatchSet& ws) {
    auto read = endpoints::health_service_checks(ctx, ws, name);
    return ReadOutcome{read.index, checks_response(read)};
  });
}

void health_checks_in_state(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string status(path_suffix(req, "/v1/health/state/"));
  if (status.empty()) return reply(Response::text(400, "Missing check state"));
  reply_blocking(req, reply, [&ctx, status](state::WatchSet& ws) {
    auto read = endpoints::health_checks_in_state(ctx, ws, status);
    return ReadOutcome{read.index, checks_response(read)};
  });
}

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
  std::optional<filter::Expression> expr;
  if (const auto* text = req.query_param("filter"); text != nullptr && !text->empty()) {
    auto compiled = endpoints::compile_check_service_node_filter(*text);
    if (!compiled) return reply(bad_request(compiled.error().message));
    expr = std::move(*compiled);
  }
  auto node_meta = node_meta_filter(req);
  reply_blocking(req, reply,
                 [&ctx, name, tags, node_meta, passing_only, expr](state::WatchSet& ws) {
                   auto read = endpoints::health_service_nodes(
                       ctx, ws, name, tags, node_meta, passing_only, expr ? &*expr : nullptr);
                   JsonWriter w;
                   w.begin_array();
                   for (const auto& csn : read.nodes) {
                     w.begin_object();
                     w.key("Node");
                     write_node(w, csn.node);
                     w.key("Service");
                     write_node_service(w, csn.service);
                     w.key("Checks");
                     w.begin_array();
                     for (const auto& c : csn.checks) write_health_check(w, c);
                     w.end_array();
                     w.end_object();
                   }
                   w.end_array();
                   return ReadOutcome{read.index, Response::json(w.take())};
                 });
}

}  // namespace pc::http::handlers
