// /v1/agent/services, service/*, checks, check/*, maintenance — the services and checks this
// agent holds and runs (Consul's agent_endpoint.go). Writes answer once the change is in the
// catalog, so a client that registers and then reads the catalog or health endpoints sees its
// registration.
#include <cstdio>

#include "agent/local_agent.h"
#include "endpoints/acl_agent.h"
#include "endpoints/acl_checks.h"
#include "endpoints/check_filter.h"
#include "endpoints/node_filter.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/agent_definition.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/read.h"
#include "http/query.h"

namespace pc::http::handlers {
namespace {

// Answers an agent write: an error at once, success after the catalog sync.
void reply_after_sync(endpoints::Context& ctx, core::Status st, Reply reply) {
  if (!st) return reply(error_response(st.error()));
  ctx.agent->after_sync([reply = std::move(reply)](core::Status) mutable {
    // A failed sync is retried by anti-entropy; the agent's own state changed, as in Consul.
    reply(Response::text(200, ""));
  });
}

// Consul's api.AgentService as the agent endpoints render it: Tags [] and Meta {} when empty.
void write_agent_service(JsonWriter& w, const state::Service& s, std::string_view datacenter,
                         const std::string* content_hash) {
  w.begin_object();
  if (!s.kind.empty()) w.string_field("Kind", s.kind);
  w.string_field("ID", s.id);
  w.string_field("Service", s.service);
  w.key("Tags");
  write_tags(w, s.tags);
  w.key("Meta");
  w.begin_object();
  for (const auto& [k, v] : s.meta) w.string_field(k, v);
  w.end_object();
  w.number_field("Port", s.port);
  w.string_field("Address", s.address);
  write_service_tagged_addresses_field(w, "TaggedAddresses", s.tagged_addresses);
  w.key("Weights");
  write_weights(w, s.weights);
  w.bool_field("EnableTagOverride", s.enable_tag_override);
  if (content_hash != nullptr) w.string_field("ContentHash", *content_hash);
  w.string_field("Datacenter", datacenter);
  w.end_object();
}

// A stable digest of a rendering (FNV-1a, 64 bits, hex): Consul's ContentHash plays the same
// role, telling a client whether anything changed.
std::string content_hash(std::string_view rendered) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : rendered) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// ?enable=true|false for the maintenance endpoints, with Consul's texts.
core::Result<bool> parse_enable(const Request& req) {
  const std::string* raw = req.query_param("enable");
  if (raw == nullptr)
    return core::make_error(core::Code::kInvalidArgument, "Missing value for enable");
  // Go's strconv.ParseBool.
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (*raw == t) return true;
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (*raw == f) return false;
  }
  return core::make_error(core::Code::kInvalidArgument,
                          "Invalid value for enable: \"" + *raw + "\"");
}

// The checks of a local service's or check's update (Consul's vetServiceUpdate and
// vetCheckUpdate): false after replying with the denial.
bool may_update_service(endpoints::Context& ctx, const Request& req, Reply& reply,
                        std::string_view id) {
  return require(ctx, req, reply, [&ctx, id](const endpoints::ResolvedToken& who) {
    return endpoints::check_agent_service_update(who, ctx.agent->local(), id);
  });
}
bool may_update_check(endpoints::Context& ctx, const Request& req, Reply& reply,
                      std::string_view id) {
  return require(ctx, req, reply, [&ctx, id](const endpoints::ResolvedToken& who) {
    return endpoints::check_agent_check_update(who, ctx.agent->local(), ctx.identity.node_name, id);
  });
}

void update_ttl(endpoints::Context& ctx, const Request& req, std::string_view prefix,
                std::string_view status, Reply reply) {
  std::string id(path_suffix(req, prefix));
  if (!may_update_check(ctx, req, reply, id)) return;
  const std::string* note = req.query_param("note");
  auto st = ctx.agent->update_ttl(id, status, note ? *note : std::string());
  reply_after_sync(ctx, std::move(st), std::move(reply));
}

}  // namespace

void agent_services(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto expr = query_filter(req, endpoints::compile_node_service_filter);
  if (!expr) return reply(bad_request(expr.error().message));
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  std::vector<state::Service> services = ctx.agent->local().services();
  const bool filtered = endpoints::filter_agent_services(*who, services);
  JsonWriter w;
  w.begin_object();
  for (const auto& s : services) {
    if (*expr && !endpoints::node_service_matches(**expr, s)) continue;
    w.key(s.id);
    write_agent_service(w, s, ctx.identity.datacenter, nullptr);
  }
  w.end_object();
  reply(filtered_json(w.take(), filtered));
}

// Blocks on ?hash= (Consul's hash-based blocking for this endpoint) or ?index=, watching the
// agent's local state.
void agent_service(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/agent/service/"));
  // service:read on the service; an unknown ID answers its 404 below.
  if (!require(ctx, req, reply, [&ctx, &id](const endpoints::ResolvedToken& who) {
        auto s = ctx.agent->local().service(id);
        if (!s) return core::ok();
        return endpoints::require_rule(who, acl::Resource::kService, s->service,
                                       acl::AccessLevel::kRead);
      })) {
    return;
  }
  auto options = parse_query_options(req);
  if (!options) return reply(error_response(options.error()));
  const std::string* hash = req.query_param("hash");
  std::string want = hash ? *hash : std::string();
  if (!want.empty()) options->min_index = 1;  // block while the hash is unchanged
  const bool by_hash = !want.empty();
  auto run = [&ctx, id, want, by_hash](state::WatchSet& ws) {
    ctx.agent->local().watch(ws);
    std::uint64_t version = ctx.agent->local().version();
    auto s = ctx.agent->local().service(id);
    if (!s) {
      Response r = Response::text(404, "unknown service ID: " + id);
      return ReadOutcome{by_hash ? 2 : version, std::move(r)};
    }
    JsonWriter plain;
    write_agent_service(plain, *s, ctx.identity.datacenter, nullptr);
    std::string hash = content_hash(plain.take());
    JsonWriter w;
    write_agent_service(w, *s, ctx.identity.datacenter, &hash);
    Response r = Response::json(w.take());
    r.headers.emplace_back("X-Consul-ContentHash", hash);
    std::uint64_t index = by_hash ? (hash == want ? 1 : 2) : version;
    return ReadOutcome{index, std::move(r)};
  };
  reply(blocking_read(*options, std::move(run)));
}

void agent_checks(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto expr = query_filter(req, endpoints::compile_health_check_filter);
  if (!expr) return reply(bad_request(expr.error().message));
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  std::vector<agent::LocalCheck> checks = ctx.agent->local().checks();
  const bool filtered = endpoints::filter_agent_checks(*who, checks);
  JsonWriter w;
  w.begin_object();
  for (const auto& c : checks) {
    if (*expr && !endpoints::health_check_matches(**expr, c.check)) continue;
    w.key(c.check.check_id);
    write_health_check(w, c.check);
  }
  w.end_object();
  reply(filtered_json(w.take(), filtered));
}

void agent_service_register(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto reg = parse_service_definition(req.body);
  if (!reg) return reply(error_response(reg.error()));
  if (!require(ctx, req, reply, [&reg](const endpoints::ResolvedToken& who) {
        return endpoints::check_agent_service_register(who, *reg);
      })) {
    return;
  }
  reg->replace_existing_checks = query_flag(req, "replace-existing-checks");
  reg->token = request_token(req);  // anti-entropy writes the service acting for it
  reply_after_sync(ctx, ctx.agent->add_service(std::move(*reg)), std::move(reply));
}

void agent_service_deregister(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/agent/service/deregister/"));
  if (!may_update_service(ctx, req, reply, id)) return;
  reply_after_sync(ctx, ctx.agent->remove_service(id), std::move(reply));
}

void agent_check_register(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto reg = parse_check_definition(req.body);
  if (!reg) return reply(error_response(reg.error()));
  if (!require(ctx, req, reply, [&ctx, &reg](const endpoints::ResolvedToken& who) {
        return endpoints::check_agent_check_register(who, ctx.agent->local(),
                                                     ctx.identity.node_name, *reg);
      })) {
    return;
  }
  reply_after_sync(ctx, ctx.agent->add_check(std::move(*reg)), std::move(reply));
}

void agent_check_deregister(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/agent/check/deregister/"));
  if (!may_update_check(ctx, req, reply, id)) return;
  reply_after_sync(ctx, ctx.agent->remove_check(id), std::move(reply));
}

void agent_check_pass(endpoints::Context& ctx, const Request& req, Reply reply) {
  update_ttl(ctx, req, "/v1/agent/check/pass/", state::kHealthPassing, std::move(reply));
}
void agent_check_warn(endpoints::Context& ctx, const Request& req, Reply reply) {
  update_ttl(ctx, req, "/v1/agent/check/warn/", state::kHealthWarning, std::move(reply));
}
void agent_check_fail(endpoints::Context& ctx, const Request& req, Reply reply) {
  update_ttl(ctx, req, "/v1/agent/check/fail/", state::kHealthCritical, std::move(reply));
}

void agent_check_update(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto parsed = parse_json_body(req.body);
  if (!parsed) return reply(error_response(parsed.error()));
  auto object = body_object(*parsed);
  if (!object) return reply(error_response(object.error()));
  auto status = get_string(**object, "Status");
  if (!status) return reply(error_response(status.error()));
  auto output = get_string(**object, "Output");
  if (!output) return reply(error_response(output.error()));
  std::string s = status->value_or("");
  if (s != state::kHealthPassing && s != state::kHealthWarning && s != state::kHealthCritical) {
    return reply(bad_request("Invalid check status: '" + s + "'"));
  }
  std::string id(path_suffix(req, "/v1/agent/check/update/"));
  if (!may_update_check(ctx, req, reply, id)) return;
  auto st = ctx.agent->update_ttl(id, s, output->value_or(""));
  reply_after_sync(ctx, std::move(st), std::move(reply));
}

void agent_maintenance(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto enable = parse_enable(req);
  if (!enable) return reply(error_response(enable.error()));
  // Node maintenance adds or removes a node check: node:write on this agent's node.
  if (!require(ctx, req, reply, [&ctx](const endpoints::ResolvedToken& who) {
        return endpoints::require_rule(who, acl::Resource::kNode, ctx.identity.node_name,
                                       acl::AccessLevel::kWrite);
      })) {
    return;
  }
  const std::string* reason = req.query_param("reason");
  auto st = ctx.agent->set_node_maintenance(*enable, reason ? *reason : std::string());
  reply_after_sync(ctx, std::move(st), std::move(reply));
}

void agent_service_maintenance(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/agent/service/maintenance/"));
  if (id.empty()) return reply(bad_request("Missing service ID"));
  auto enable = parse_enable(req);
  if (!enable) return reply(error_response(enable.error()));
  if (!may_update_service(ctx, req, reply, id)) return;
  const std::string* reason = req.query_param("reason");
  auto st = ctx.agent->set_service_maintenance(id, *enable, reason ? *reason : std::string());
  reply_after_sync(ctx, std::move(st), std::move(reply));
}

}  // namespace pc::http::handlers
