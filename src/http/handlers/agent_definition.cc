#include "http/handlers/agent_definition.h"

#include <boost/json.hpp>

#include "http/handlers/common.h"
#include "http/json/read.h"

namespace pc::http::handlers {
namespace {

namespace json = boost::json;

core::Error bad(std::string message) {
  return core::make_error(core::Code::kInvalidArgument, std::move(message));
}

bool valid_status(std::string_view s) {
  return s == state::kHealthPassing || s == state::kHealthWarning || s == state::kHealthCritical;
}

// Reads `name` as a string into `out` when present.
core::Status read_string(const json::object& o, std::string_view name, std::string& out) {
  auto v = get_string(o, name);
  if (!v) return v.error();
  if (*v) out = std::move(**v);
  return core::ok();
}

core::Status read_duration(const json::object& o, std::string_view name, core::Duration& out) {
  auto v = get_duration(o, name);
  if (!v) return v.error();
  if (*v) out = **v;
  return core::ok();
}

// Header: map[string][]string.
core::Status read_header(const json::object& o, agent::CheckSpec& spec) {
  auto header = get_object(o, "Header");
  if (!header) return header.error();
  if (*header == nullptr) return core::ok();
  for (const auto& [k, v] : **header) {
    if (v.is_null()) continue;
    if (!v.is_array()) return type_error(v, "Header", "[]string");
    auto& values = spec.header[std::string(k)];
    for (const auto& item : v.get_array()) {
      if (!item.is_string()) return type_error(item, "Header", "[]string");
      values.emplace_back(item.get_string());
    }
  }
  return core::ok();
}

// A check kind Consul has and this agent does not run: refused by name.
core::Status refuse_unsupported(const json::object& o) {
  for (auto [field, kind] :
       {std::pair<std::string_view, std::string_view>{"DockerContainerID", "Docker"},
        {"H2PING", "H2PING"},
        {"UDP", "UDP"},
        {"OSService", "OS service"}}) {
    const json::value* v = find_field(o, field);
    if (v == nullptr || v->is_null() || (v->is_string() && v->get_string().empty())) continue;
    return bad("Invalid check: " + std::string(kind) + " checks are not supported by this agent");
  }
  if (const json::value* v = find_field(o, "Script");
      v != nullptr && v->is_string() && !v->get_string().empty()) {
    return bad("Invalid check: Script is no longer supported; give the command as Args");
  }
  return core::ok();
}

// One CheckDefinition object (also a service's CheckType, whose ID field is CheckID).
core::Result<agent::CheckRegistration> parse_check_object(const json::object& o) {
  if (auto st = refuse_unsupported(o); !st) return st.error();
  agent::CheckRegistration reg;
  state::HealthCheck& c = reg.check;
  agent::CheckSpec& spec = reg.spec;
  for (auto [name, out] : {std::pair<std::string_view, std::string*>{"ID", &c.check_id},
                           {"CheckID", &c.check_id},
                           {"Name", &c.name},
                           {"Notes", &c.notes},
                           {"ServiceID", &c.service_id},
                           {"Status", &c.status},
                           {"HTTP", &spec.http},
                           {"Method", &spec.method},
                           {"Body", &spec.body},
                           {"TCP", &spec.tcp},
                           {"GRPC", &spec.grpc},
                           {"AliasNode", &spec.alias_node},
                           {"AliasService", &spec.alias_service},
                           {"TLSServerName", &spec.tls_server_name}}) {
    if (auto st = read_string(o, name, *out); !st) return st.error();
  }
  for (auto [name, out] :
       {std::pair<std::string_view, core::Duration*>{"Interval", &spec.interval},
        {"Timeout", &spec.timeout},
        {"TTL", &spec.ttl},
        {"DeregisterCriticalServiceAfter", &spec.deregister_critical_service_after}}) {
    if (auto st = read_duration(o, name, *out); !st) return st.error();
  }
  for (auto [name, out] :
       {std::pair<std::string_view, bool*>{"TLSSkipVerify", &spec.tls_skip_verify},
        {"DisableRedirects", &spec.disable_redirects},
        {"GRPCUseTLS", &spec.grpc_use_tls}}) {
    auto v = get_bool(o, name);
    if (!v) return v.error();
    if (*v) *out = **v;
  }
  for (std::string_view name : {"Args", "ScriptArgs"}) {
    auto v = get_string_array(o, name);
    if (!v) return v.error();
    if (*v && !(*v)->empty()) spec.args = std::move(**v);
  }
  if (auto st = read_header(o, spec); !st) return st.error();
  return reg;
}

core::Result<const json::object*> parse_object(std::string_view body, json::value& holder) {
  auto parsed = parse_json_body(body);
  if (!parsed) return parsed.error();
  holder = std::move(*parsed);
  return body_object(holder);
}

core::Status read_service_fields(const json::object& o, state::Service& s) {
  for (auto [name, out] : {std::pair<std::string_view, std::string*>{"ID", &s.id},
                           {"Name", &s.service},
                           {"Address", &s.address},
                           {"Kind", &s.kind}}) {
    if (auto st = read_string(o, name, *out); !st) return st;
  }
  auto tags = get_string_array(o, "Tags");
  if (!tags) return tags.error();
  if (*tags) s.tags = std::move(**tags);
  auto meta = get_string_map(o, "Meta");
  if (!meta) return meta.error();
  if (*meta) s.meta = std::move(**meta);
  if (auto st = read_service_tagged_addresses(o, s.tagged_addresses); !st) return st;
  auto port = get_int64(o, "Port");
  if (!port) return port.error();
  if (*port) s.port = static_cast<int>(**port);
  auto eto = get_bool(o, "EnableTagOverride");
  if (!eto) return eto.error();
  if (*eto) s.enable_tag_override = **eto;
  // Consul's agent fills in Weights {1, 1} when none are given.
  s.weights = state::Weights{1, 1};
  auto weights = get_object(o, "Weights");
  if (!weights) return weights.error();
  if (*weights != nullptr) {
    // Consul's structs.ValidateWeights, on the values as sent (before any narrowing).
    for (auto [name, min] :
         {std::pair<std::string_view, std::int64_t>{"Passing", 1}, {"Warning", 0}}) {
      auto v = get_int64(**weights, name);
      if (!v) return v.error();
      std::int64_t n = v->value_or(0);
      if (n < min) {
        return bad(min == 1 ? "Invalid Weights: Passing must be greater than 0"
                            : "Invalid Weights: Warning must be greater or equal than 0");
      }
      if (n > 65535) return bad("Invalid Weights: DNS Weight must be between 0 and 65535");
    }
    auto given = read_service_weights(o);
    if (!given) return given.error();
    s.weights = **given;
  }
  return core::ok();
}

}  // namespace

core::Result<agent::ServiceRegistration> parse_service_definition(std::string_view body) {
  json::value holder;
  auto object = parse_object(body, holder);
  if (!object) return object.error();
  const json::object& o = **object;
  agent::ServiceRegistration reg;
  if (auto st = read_service_fields(o, reg.service); !st) return st.error();
  if (reg.service.service.empty()) return bad("Missing service name");
  if (reg.service.address == "0.0.0.0" || reg.service.address == "::" ||
      reg.service.address == "[::]") {
    return bad("Invalid service address");
  }
  if (!reg.service.kind.empty()) {
    return bad("Invalid service kind: " + reg.service.kind +
               " services are not supported by this agent yet");
  }
  std::vector<const json::object*> checks;
  if (const json::value* check = find_field(o, "Check"); check != nullptr && !check->is_null()) {
    if (!check->is_object()) return type_error(*check, "Check", "structs.CheckType");
    checks.push_back(&check->get_object());
  }
  auto list = get_array(o, "Checks");
  if (!list) return list.error();
  if (*list != nullptr) {
    for (const auto& c : **list) {
      if (c.is_null()) continue;
      if (!c.is_object()) return type_error(c, "Checks", "structs.CheckType");
      checks.push_back(&c.get_object());
    }
  }
  for (const json::object* c : checks) {
    auto check = parse_check_object(*c);
    if (!check) return check.error();
    // Consul skips a check object with no field set (CheckType.Empty).
    if (check->check == state::HealthCheck{} && check->spec == agent::CheckSpec{}) continue;
    if (!check->check.status.empty() && !valid_status(check->check.status)) {
      return bad("Status for checks must 'passing', 'warning', 'critical'");
    }
    reg.checks.push_back(std::move(*check));
  }
  return reg;
}

core::Result<agent::CheckRegistration> parse_check_definition(std::string_view body) {
  json::value holder;
  auto object = parse_object(body, holder);
  if (!object) return object.error();
  auto reg = parse_check_object(**object);
  if (!reg) return reg.error();
  if (reg->check.name.empty()) return bad("Missing check name");
  if (!reg->check.status.empty() && !valid_status(reg->check.status)) {
    return bad("Bad check status");
  }
  return reg;
}

}  // namespace pc::http::handlers
