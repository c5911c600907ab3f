// /v1/session/* — Consul's session endpoints.
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/duration.h"
#include "endpoints/acl_checks.h"
#include "endpoints/session.h"
#include "http/acl_auth.h"
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
// below 1000 is taken as seconds (clients send 15 meaning 15s). null keeps the default.
core::Result<std::optional<std::int64_t>> lock_delay(const boost::json::value& v) {
  constexpr std::int64_t kSecondsThreshold = 1000;
  constexpr std::int64_t kNsPerSecond = 1000000000LL;
  std::int64_t ns = 0;
  if (v.is_null()) return std::optional<std::int64_t>();
  if (v.is_string()) {
    auto d = core::parse_go_duration(std::string(v.as_string()));
    if (!d) return decode_error(d.error().message);
    ns = d->count();
  } else if (v.is_number()) {
    double n = v.to_number<double>();
    // Outside int64 (or not finite) is not a duration Go could hold.
    if (!(n > -9.2e18 && n < 9.2e18)) return type_error(v, "LockDelay", "time.Duration");
    ns = static_cast<std::int64_t>(n);
  } else {
    return type_error(v, "LockDelay", "time.Duration");
  }
  if (ns < kSecondsThreshold) {
    if (ns < std::numeric_limits<std::int64_t>::min() / kNsPerSecond) {
      return type_error(v, "LockDelay", "time.Duration");
    }
    ns *= kNsPerSecond;
  }
  return std::optional<std::int64_t>(ns);
}

// Consul's session check defaults (fixupEmptySessionChecks and the legacy "Checks" field):
// NodeChecks and Checks both start as [serfHealth]; an explicit empty Checks empties
// NodeChecks; Checks left at its default defers to NodeChecks; otherwise Checks' entries join
// a non-empty NodeChecks.
std::vector<std::string> session_node_checks(std::optional<std::vector<std::string>> node_checks,
                                             std::optional<std::vector<std::string>> checks) {
  const std::string kSerfHealth = "serfHealth";
  std::vector<std::string> out = node_checks.value_or(std::vector<std::string>{kSerfHealth});
  std::vector<std::string> legacy = checks.value_or(std::vector<std::string>{kSerfHealth});
  if (legacy.empty()) return {};
  if (legacy.size() == 1 && legacy[0] == kSerfHealth) return out;
  if (out.empty()) return out;
  for (auto& c : legacy) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
  }
  return out;
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
                            {"Behavior", &args.behavior},
                            {"TTL", &args.ttl}}) {
    auto v = get_string(o, field);
    if (!v) return v.error();
    if (*v) *out = std::move(**v);
  }
  auto node = get_string(o, "Node");
  if (!node) return node.error();
  args.node = std::move(*node);
  if (const auto* v = find_field(o, "LockDelay")) {
    auto d = lock_delay(*v);
    if (!d) return d.error();
    if (*d) args.lock_delay_ns = **d;
  }
  auto node_checks = get_string_array(o, "NodeChecks");
  if (!node_checks) return node_checks.error();
  auto legacy_checks = get_string_array(o, "Checks");
  if (!legacy_checks) return legacy_checks.error();
  args.node_checks = session_node_checks(std::move(*node_checks), std::move(*legacy_checks));
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

Response sessions_json(const std::vector<state::Session>& sessions, bool filtered = false) {
  JsonWriter w;
  w.begin_array();
  for (const auto& s : sessions) write_session(w, s);
  w.end_array();
  return filtered_json(w.take(), filtered);
}

// The session reads: `read` blocks as usual and the list keeps only sessions whose node the
// token has session:read on.
template <class Read>
void reply_sessions(endpoints::Context& ctx, const Request& req, Reply& reply, Read read) {
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  reply_blocking(req, reply, [read = std::move(read), who = *who](state::WatchSet& ws) {
    endpoints::SessionsRead r = read(ws);
    const bool filtered = endpoints::filter_sessions(who, r.sessions);
    return ReadOutcome{r.index, sessions_json(r.sessions, filtered)};
  });
}

// session:write on the node of an existing session (destroy, renew).
bool may_write_session(endpoints::Context& ctx, const Request& req, Reply& reply,
                       const std::string& id) {
  return require(ctx, req, reply, [&ctx, &id](const endpoints::ResolvedToken& who) {
    return endpoints::check_session_write(who, ctx.store.snapshot(), id);
  });
}

}  // namespace

void session_create(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto args = parse_create(req.body);
  if (!args) return reply(error_response(args.error()));
  // session:write on the node the session is for (this agent's when the body names none).
  const std::string node = args->node.value_or(ctx.identity.node_name);
  if (!require(ctx, req, reply, [&node](const endpoints::ResolvedToken& who) {
        return endpoints::require_rule(who, acl::Resource::kSession, node,
                                       acl::AccessLevel::kWrite);
      })) {
    return;
  }
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
  if (!may_write_session(ctx, req, reply, id)) return;
  endpoints::session_destroy(ctx, id, [reply = std::move(reply)](core::Result<bool> r) {
    if (!r) return reply(rpc_error_response(r.error()));
    reply(bool_response(*r));
  });
}

void session_renew(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/session/renew/"));
  if (id.empty()) return reply(Response::text(400, "Missing session"));
  if (!may_write_session(ctx, req, reply, id)) return;
  auto r = endpoints::session_renew(ctx, id);
  if (!r) return reply(Response::text(404, r.error().message));
  reply(sessions_json(*r));
}

void session_info(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/session/info/"));
  if (id.empty()) return reply(Response::text(400, "Missing session"));
  reply_sessions(ctx, req, reply,
                 [&ctx, id](state::WatchSet& ws) { return endpoints::session_info(ctx, ws, id); });
}

void session_node(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string node(path_suffix(req, "/v1/session/node/"));
  if (node.empty()) return reply(Response::text(400, "Missing node name"));
  reply_sessions(ctx, req, reply, [&ctx, node](state::WatchSet& ws) {
    return endpoints::session_node(ctx, ws, node);
  });
}

void session_list(endpoints::Context& ctx, const Request& req, Reply reply) {
  reply_sessions(ctx, req, reply,
                 [&ctx](state::WatchSet& ws) { return endpoints::session_list(ctx, ws); });
}

}  // namespace pc::http::handlers
