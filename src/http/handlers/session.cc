// /v1/session/* — Consul's session endpoints.
#include <boost/json.hpp>

#include <cmath>

#include "core/duration.h"
#include "endpoints/session.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/read.h"

namespace pc::http::handlers {
namespace {

core::Error decode_error(std::string what) {
  return core::make_error(core::Code::kInvalidArgument,
                          std::string(kRequestDecodeFailed) + ": " + what);
}

// Consul's FixupLockDelay: a string is a Go duration, a number is nanoseconds; either one
// below 1000 is taken as seconds (clients send 15 meaning 15s).
core::Result<std::int64_t> lock_delay(const boost::json::value& v) {
  constexpr std::int64_t kSecondsThreshold = 1000;
  std::int64_t ns = 0;
  if (v.is_string()) {
    auto d = core::parse_go_duration(std::string(v.as_string()));
    if (!d) return decode_error(d.error().message);
    ns = d->count();
  } else if (v.is_number()) {
    double n = v.to_number<double>();
    if (!std::isfinite(n)) return type_error(v, "LockDelay", "time.Duration");
    ns = static_cast<std::int64_t>(n);
  } else if (v.is_null()) {
    return std::int64_t{0};
  } else {
    return type_error(v, "LockDelay", "time.Duration");
  }
  if (ns < kSecondsThreshold) ns *= 1000000000LL;
  return ns;
}

core::Result<endpoints::SessionCreateArgs> parse_create(const std::string& body) {
  endpoints::SessionCreateArgs args;
  if (body.empty()) return args;
  auto parsed = parse_json_body(body);
  if (!parsed) return parsed.error();
  if (parsed->is_null()) return args;
  auto object = body_object(*parsed);
  if (!object) return object.error();
  const auto& o = **object;
  for (auto [field, out] : {std::pair<std::string_view, std::string*>{"Name", &args.name},
                            {"Node", &args.node},
                            {"Behavior", &args.behavior},
                            {"TTL", &args.ttl}}) {
    auto v = get_string(o, field);
    if (!v) return v.error();
    if (*v) *out = std::move(**v);
  }
  if (const auto* v = find_field(o, "LockDelay")) {
    auto d = lock_delay(*v);
    if (!d) return d.error();
    args.lock_delay_ns = *d;
  }
  // Consul before 1.7 had only "Checks"; older clients (python-consul) still send it.
  auto node_checks = get_string_array(o, find_field(o, "NodeChecks") ? "NodeChecks" : "Checks");
  if (!node_checks) return node_checks.error();
  if (*node_checks) args.node_checks = std::move(**node_checks);
  auto service_checks = get_array(o, "ServiceChecks");
  if (!service_checks) return service_checks.error();
  if (*service_checks != nullptr) {
    std::vector<state::ServiceCheckRef> refs;
    for (const auto& item : **service_checks) {
      auto obj = body_object(item);
      if (!obj) return obj.error();
      auto id = get_string(**obj, "ID");
      if (!id) return id.error();
      auto ns = get_string(**obj, "Namespace");
      if (!ns) return ns.error();
      refs.push_back(state::ServiceCheckRef{id->value_or(""), ns->value_or("")});
    }
    args.service_checks = std::move(refs);
  }
  return args;
}

Response sessions_json(const std::vector<state::Session>& sessions) {
  JsonWriter w;
  w.begin_array();
  for (const auto& s : sessions) write_session(w, s);
  w.end_array();
  return Response::json(w.take());
}

}  // namespace

void session_create(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto args = parse_create(req.body);
  if (!args) return reply(error_response(args.error()));
  endpoints::session_create(ctx, std::move(*args),
                            [reply = std::move(reply)](core::Result<std::string> r) {
                              if (!r) return reply(rpc_error_response(r.error()));
                              JsonWriter w;
                              w.begin_object();
                              w.key("ID");
                              w.string(*r);
                              w.end_object();
                              reply(Response::json(w.take()));
                            });
}

void session_destroy(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/session/destroy/"));
  if (id.empty()) return reply(Response::text(400, "Missing session"));
  endpoints::session_destroy(ctx, id, [reply = std::move(reply)](core::Result<bool> r) {
    if (!r) return reply(rpc_error_response(r.error()));
    reply(bool_response(*r));
  });
}

void session_renew(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/session/renew/"));
  if (id.empty()) return reply(Response::text(400, "Missing session"));
  auto r = endpoints::session_renew(ctx, id);
  if (!r) return reply(Response::text(404, r.error().message));
  reply(sessions_json(*r));
}

void session_info(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/session/info/"));
  if (id.empty()) return reply(Response::text(400, "Missing session"));
  reply_blocking(req, reply, [&ctx, id](state::WatchSet& ws) {
    auto read = endpoints::session_info(ctx, ws, id);
    return ReadOutcome{read.index, sessions_json(read.sessions)};
  });
}

void session_node(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string node(path_suffix(req, "/v1/session/node/"));
  if (node.empty()) return reply(Response::text(400, "Missing node name"));
  reply_blocking(req, reply, [&ctx, node](state::WatchSet& ws) {
    auto read = endpoints::session_node(ctx, ws, node);
    return ReadOutcome{read.index, sessions_json(read.sessions)};
  });
}

void session_list(endpoints::Context& ctx, const Request& req, Reply reply) {
  reply_blocking(req, reply, [&ctx](state::WatchSet& ws) {
    auto read = endpoints::session_list(ctx, ws);
    return ReadOutcome{read.index, sessions_json(read.sessions)};
  });
}

}  // namespace pc::http::handlers
