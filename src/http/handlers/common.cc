#include "http/handlers/common.h"

#include <boost/json/object.hpp>

#include "endpoints/response_cache.h"
#include "http/errors.h"
#include "http/json/read.h"
#include "http/query.h"

namespace pc::http::handlers {

void reply_blocking(const Request& req, Reply& reply,
                    std::function<ReadOutcome(state::WatchSet&)> run) {
  auto options = parse_query_options(req);
  if (!options) {
    reply(error_response(options.error()));
    return;
  }
  // With one server every mode reads the same committed state; the header still tells the
  // client which mode it got, as Consul's does.
  std::string consistency = options->stale        ? "stale"
                            : options->consistent ? "consistent"
                                                  : "leader";
  reply(blocking_read(*options, [run = std::move(run), consistency](state::WatchSet& ws) {
    ReadOutcome out = run(ws);
    out.response.headers.emplace_back("X-Consul-Effective-Consistency", consistency);
    return out;
  }));
}

std::string rendering_key(const Request& req) {
  std::string key = req.path;
  for (const auto& [k, v] : req.query) {
    if (k == "index" || k == "wait" || k == "stale" || k == "consistent" || k == "cached" ||
        k == "max_stale" || k == "dc") {
      continue;
    }
    key += '\n';
    key += k;
    key += '=';
    key += v;
  }
  return key;
}

ReadOutcome shared_rendering(endpoints::Context& ctx, const std::string& key, std::uint64_t index,
                             const std::function<std::string()>& render) {
  // Below this a rendering costs less than the bookkeeping and the copy out.
  constexpr std::size_t kSharedRenderingMin = 16 * 1024;
  if (ctx.response_cache != nullptr) {
    if (auto body = ctx.response_cache->find(key, index)) {
      return ReadOutcome{index, Response::json(*body)};
    }
  }
  std::string body = render();
  if (ctx.response_cache != nullptr && body.size() >= kSharedRenderingMin) {
    ctx.response_cache->insert(key, index, std::make_shared<const std::string>(body));
  }
  return ReadOutcome{index, Response::json(std::move(body))};
}

Response bool_response(bool value) {
  return Response::json(value ? "true" : "false");
}

std::string_view path_suffix(const Request& req, std::string_view prefix) {
  std::string_view path = req.path;
  if (path.substr(0, prefix.size()) == prefix) path.remove_prefix(prefix.size());
  return path;
}

void write_dir_entry(JsonWriter& w, const state::DirEntry& e, bool with_value) {
  w.begin_object();
  w.key("LockIndex");
  w.number(e.lock_index);
  w.key("Key");
  w.string(e.key);
  w.key("Flags");
  w.number(e.flags);
  w.key("Value");
  // Go marshals a nil []byte as null: Consul stores an empty body as nil.
  if (with_value && !e.value.empty()) {
    w.base64(e.value);
  } else {
    w.null();
  }
  if (!e.session.empty()) {
    w.key("Session");
    w.string(e.session);
  }
  w.key("CreateIndex");
  w.number(e.create_index);
  w.key("ModifyIndex");
  w.number(e.modify_index);
  w.end_object();
}

void write_session(JsonWriter& w, const state::Session& s) {
  w.begin_object();
  w.key("ID");
  w.string(s.id);
  w.key("Name");
  w.string(s.name);
  w.key("Node");
  w.string(s.node);
  w.key("LockDelay");
  w.number(s.lock_delay_ns);
  w.key("Behavior");
  w.string(s.behavior);
  w.key("TTL");
  w.string(s.ttl);
  w.key("NodeChecks");
  if (s.node_checks.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& c : s.node_checks) w.string(c);
    w.end_array();
  }
  w.key("ServiceChecks");
  if (s.service_checks.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& c : s.service_checks) {
      w.begin_object();
      w.key("ID");
      w.string(c.id);
      w.key("Namespace");
      w.string(c.ns);
      w.end_object();
    }
    w.end_array();
  }
  w.key("CreateIndex");
  w.number(s.create_index);
  w.key("ModifyIndex");
  w.number(s.modify_index);
  w.end_object();
}

// Consul's parseMetaFilter: every ?node-meta=key:value, split at the first ':'.
endpoints::NodeMetaFilter node_meta_filter(const Request& req) {
  endpoints::NodeMetaFilter out;
  for (const auto& [k, v] : req.query) {
    if (k != "node-meta") continue;
    auto colon = v.find(':');
    if (colon == std::string::npos) {
      out.emplace_back(v, "");
    } else {
      out.emplace_back(v.substr(0, colon), v.substr(colon + 1));
    }
  }
  return out;
}

core::Result<std::optional<filter::Expression>> query_filter(const Request& req,
                                                             FilterCompiler compile) {
  const std::string* text = req.query_param("filter");
  if (text == nullptr || text->empty()) return std::optional<filter::Expression>();
  auto compiled = compile(*text);
  if (!compiled) return compiled.error();
  return std::optional<filter::Expression>(std::move(*compiled));
}

// Go marshals a nil map as null; the store keeps no distinction, so empty renders null.
void write_map_or_null(JsonWriter& w, const std::map<std::string, std::string>& m) {
  if (m.empty()) return w.null();
  w.begin_object();
  for (const auto& [k, v] : m) w.string_field(k, v);
  w.end_object();
}

void write_tags(JsonWriter& w, const std::vector<std::string>& tags) {
  w.begin_array();  // Consul's edge turns nil tags into []
  for (const auto& t : tags) w.string(t);
  w.end_array();
}

void write_weights(JsonWriter& w, const state::Weights& weights) {
  w.begin_object();
  w.number_field("Passing", weights.passing);
  w.number_field("Warning", weights.warning);
  w.end_object();
}

void write_service_tagged_addresses(JsonWriter& w,
                                    const std::map<std::string, state::ServiceAddress>& m) {
  w.begin_object();
  for (const auto& [name, a] : m) {
    w.key(name);
    w.begin_object();  // structs.ServiceAddress has no JSON tags: "Address", "Port"
    w.string_field("Address", a.address);
    w.number_field("Port", a.port);
    w.end_object();
  }
  w.end_object();
}

core::Status read_service_tagged_addresses(const boost::json::object& service,
                                           std::map<std::string, state::ServiceAddress>& out) {
  auto tagged = get_object(service, "TaggedAddresses");
  if (!tagged) return tagged.error();
  if (*tagged == nullptr) return core::ok();
  for (const auto& member : **tagged) {
    state::ServiceAddress& address = out[std::string(member.key())];
    address = {};
    if (member.value().is_null()) continue;
    const boost::json::object* a = member.value().if_object();
    if (a == nullptr) {
      return type_error(member.value(), "TaggedAddresses", "structs.ServiceAddress");
    }
    auto text = get_string(*a, "Address");
    if (!text) return text.error();
    address.address = text->value_or("");
    auto port = get_int64(*a, "Port");
    if (!port) return port.error();
    address.port = static_cast<int>(port->value_or(0));
  }
  return core::ok();
}

core::Result<std::optional<state::Weights>> read_service_weights(
    const boost::json::object& service) {
  auto weights = get_object(service, "Weights");
  if (!weights) return weights.error();
  if (*weights == nullptr) return std::optional<state::Weights>();
  auto passing = get_int64(**weights, "Passing");
  if (!passing) return passing.error();
  auto warning = get_int64(**weights, "Warning");
  if (!warning) return warning.error();
  // Narrowed as Go's int fields would overflow; the agent refuses out-of-range values first.
  return std::optional<state::Weights>(state::Weights{static_cast<int>(passing->value_or(0)),
                                                      static_cast<int>(warning->value_or(0))});
}

void write_service_tagged_addresses_field(JsonWriter& w, std::string_view name,
                                          const std::map<std::string, state::ServiceAddress>& m) {
  if (m.empty()) return;
  w.key(name);
  write_service_tagged_addresses(w, m);
}

void write_node_fields(JsonWriter& w, const state::Node& n, std::string_view meta_key) {
  w.string_field("ID", n.id);
  w.string_field("Node", n.node);
  w.string_field("Address", n.address);
  w.string_field("Datacenter", n.datacenter);
  w.key("TaggedAddresses");
  write_map_or_null(w, n.tagged_addresses);
  w.key(meta_key);
  write_map_or_null(w, n.meta);
}

void write_node(JsonWriter& w, const state::Node& n) {
  w.begin_object();
  write_node_fields(w, n, "Meta");
  w.number_field("CreateIndex", n.create_index);
  w.number_field("ModifyIndex", n.modify_index);
  w.end_object();
}

void write_node_service(JsonWriter& w, const state::Service& s) {
  w.begin_object();
  if (!s.kind.empty()) w.string_field("Kind", s.kind);  // omitempty in Consul
  w.string_field("ID", s.id);
  w.string_field("Service", s.service);
  w.key("Tags");
  write_tags(w, s.tags);
  w.string_field("Address", s.address);
  write_service_tagged_addresses_field(w, "TaggedAddresses", s.tagged_addresses);
  w.key("Meta");
  write_map_or_null(w, s.meta);
  w.number_field("Port", s.port);
  w.key("Weights");
  write_weights(w, s.weights);
  w.bool_field("EnableTagOverride", s.enable_tag_override);
  w.number_field("CreateIndex", s.create_index);
  w.number_field("ModifyIndex", s.modify_index);
  w.end_object();
}

void write_check_service_node(JsonWriter& w, const endpoints::CheckServiceNode& csn) {
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

void write_health_check(JsonWriter& w, const state::HealthCheck& c) {
  w.begin_object();
  w.string_field("Node", c.node);
  w.string_field("CheckID", c.check_id);
  w.string_field("Name", c.name);
  w.string_field("Status", c.status);
  w.string_field("Notes", c.notes);
  w.string_field("Output", c.output);
  w.string_field("ServiceID", c.service_id);
  w.string_field("ServiceName", c.service_name);
  w.key("ServiceTags");
  write_tags(w, c.service_tags);
  w.string_field("Type", c.type);
  // Consul's HealthCheckDefinition marks every field omitempty, so an unset one is absent.
  w.key("Definition");
  w.begin_object();
  for (const auto& [name, v] :
       {std::pair<const char*, const std::string*>{"HTTP", &c.http},
        {"TCP", &c.tcp},
        {"Interval", &c.interval},
        {"Timeout", &c.timeout},
        {"DeregisterCriticalServiceAfter", &c.deregister_critical_service_after}}) {
    if (!v->empty()) w.string_field(name, *v);
  }
  w.end_object();
  w.number_field("CreateIndex", c.create_index);
  w.number_field("ModifyIndex", c.modify_index);
  w.end_object();
}

}  // namespace pc::http::handlers
