#include "http/handlers/acl_json.h"

#include <boost/json.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/duration.h"
#include "http/json/read.h"

namespace pc::http::handlers {
namespace {

using core::Code;
using core::make_error;

void write_links(JsonWriter& w, std::string_view name, const std::vector<acl::PolicyLink>& links) {
  if (links.empty()) return;  // omitempty
  w.key(name);
  w.begin_array();
  for (const auto& l : links) {
    w.begin_object();
    w.string_field("ID", l.id);
    w.string_field("Name", l.name);
    w.end_object();
  }
  w.end_array();
}

void write_identities(JsonWriter& w, const std::vector<acl::ServiceIdentity>& services,
                      const std::vector<acl::NodeIdentity>& nodes) {
  if (!services.empty()) {
    w.key("ServiceIdentities");
    w.begin_array();
    for (const auto& s : services) {
      w.begin_object();
      w.string_field("ServiceName", s.service_name);
      if (!s.datacenters.empty()) {
        w.key("Datacenters");
        w.begin_array();
        for (const auto& dc : s.datacenters) w.string(dc);
        w.end_array();
      }
      w.end_object();
    }
    w.end_array();
  }
  if (!nodes.empty()) {
    w.key("NodeIdentities");
    w.begin_array();
    for (const auto& n : nodes) {
      w.begin_object();
      w.string_field("NodeName", n.node_name);
      w.string_field("Datacenter", n.datacenter);
      w.end_object();
    }
    w.end_array();
  }
}

core::Error bad(std::string_view context, std::string what) {
  return make_error(Code::kInvalidArgument, std::string(context) + ": " + what);
}

// [{"ID": "...", "Name": "..."}]
core::Result<std::vector<acl::PolicyLink>> read_links(const boost::json::object& obj,
                                                      std::string_view field,
                                                      std::string_view context) {
  std::vector<acl::PolicyLink> out;
  auto arr = get_array(obj, field, context);
  if (!arr) return arr.error();
  if (*arr == nullptr) return out;
  for (const auto& v : **arr) {
    if (v.is_null()) continue;
    if (!v.is_object()) return type_error(v, field, "structs.ACLTokenPolicyLink", context);
    acl::PolicyLink link;
    auto id = get_string(v.as_object(), "ID", context);
    if (!id) return id.error();
    auto name = get_string(v.as_object(), "Name", context);
    if (!name) return name.error();
    link.id = id->value_or("");
    link.name = name->value_or("");
    out.push_back(std::move(link));
  }
  return out;
}

core::Status read_identities(const boost::json::object& obj, std::string_view context,
                             std::vector<acl::ServiceIdentity>& services,
                             std::vector<acl::NodeIdentity>& nodes) {
  auto sarr = get_array(obj, "ServiceIdentities", context);
  if (!sarr) return sarr.error();
  if (*sarr != nullptr) {
    for (const auto& v : **sarr) {
      if (v.is_null()) continue;
      if (!v.is_object()) return type_error(v, "ServiceIdentities", "structs.ACLServiceIdentity");
      acl::ServiceIdentity s;
      auto name = get_string(v.as_object(), "ServiceName", context);
      if (!name) return name.error();
      auto dcs = get_string_array(v.as_object(), "Datacenters", context);
      if (!dcs) return dcs.error();
      s.service_name = name->value_or("");
      s.datacenters = dcs->value_or(std::vector<std::string>{});
      services.push_back(std::move(s));
    }
  }
  auto narr = get_array(obj, "NodeIdentities", context);
  if (!narr) return narr.error();
  if (*narr != nullptr) {
    for (const auto& v : **narr) {
      if (v.is_null()) continue;
      if (!v.is_object()) return type_error(v, "NodeIdentities", "structs.ACLNodeIdentity");
      acl::NodeIdentity n;
      auto name = get_string(v.as_object(), "NodeName", context);
      if (!name) return name.error();
      auto dc = get_string(v.as_object(), "Datacenter", context);
      if (!dc) return dc.error();
      n.node_name = name->value_or("");
      n.datacenter = dc->value_or("");
      nodes.push_back(std::move(n));
    }
  }
  return core::ok();
}

}  // namespace

std::string rfc3339_nano(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(nanos));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

core::Result<std::int64_t> parse_rfc3339(std::string_view text) {
  auto fail = [&] {
    return make_error(Code::kInvalidArgument,
                      "parsing time \"" + std::string(text) + "\" as RFC 3339: bad format");
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
      used != 19) {
    return fail();
  }
  std::size_t i = 19;
  std::int64_t nanos = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    int digits = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
      if (digits < 9) nanos = nanos * 10 + (t[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return fail();
    for (; digits < 9; ++digits) nanos *= 10;
  }
  std::int64_t offset_s = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(t.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return fail();
    offset_s = (oh * 3600 + om * 60) * (t[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return fail();
  }
  if (i != t.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return fail();
  }
  namespace chr = std::chrono;
  const chr::sys_days date =
      chr::year{y} / chr::month{static_cast<unsigned>(mo)} / chr::day{static_cast<unsigned>(d)};
  const std::int64_t secs = chr::duration_cast<chr::seconds>(date.time_since_epoch()).count() +
                            h * 3600 + mi * 60 + s - offset_s;
  return secs * 1'000'000'000 + nanos;
}

void write_token(JsonWriter& w, const acl::Token& t, bool stub) {
  w.begin_object();
  w.string_field("AccessorID", t.accessor_id);
  w.string_field("SecretID", t.secret_id);
  w.string_field("Description", t.description);
  write_links(w, "Policies", t.policies);
  write_links(w, "Roles", t.roles);
  write_identities(w, t.service_identities, t.node_identities);
  w.bool_field("Local", t.local);
  if (!t.auth_method.empty()) w.string_field("AuthMethod", t.auth_method);
  if (t.expiration_time_unix_ns) {
    w.string_field("ExpirationTime", rfc3339_nano(*t.expiration_time_unix_ns));
  }
  w.string_field("CreateTime", rfc3339_nano(t.create_time_unix_ns));
  w.string_field("Hash", t.hash);
  w.number_field("CreateIndex", t.create_index);
  w.number_field("ModifyIndex", t.modify_index);
  if (stub) w.bool_field("Legacy", false);
  w.end_object();
}

void write_policy(JsonWriter& w, const acl::Policy& p, bool stub) {
  w.begin_object();
  w.string_field("ID", p.id);
  w.string_field("Name", p.name);
  w.string_field("Description", p.description);
  if (!stub) w.string_field("Rules", p.rules);
  if (!p.datacenters.empty()) {
    w.key("Datacenters");
    w.begin_array();
    for (const auto& dc : p.datacenters) w.string(dc);
    w.end_array();
  }
  w.string_field("Hash", p.hash);
  w.number_field("CreateIndex", p.create_index);
  w.number_field("ModifyIndex", p.modify_index);
  w.end_object();
}

void write_role(JsonWriter& w, const acl::Role& r) {
  w.begin_object();
  w.string_field("ID", r.id);
  w.string_field("Name", r.name);
  w.string_field("Description", r.description);
  write_links(w, "Policies", r.policies);
  write_identities(w, r.service_identities, r.node_identities);
  w.string_field("Hash", r.hash);
  w.number_field("CreateIndex", r.create_index);
  w.number_field("ModifyIndex", r.modify_index);
  w.end_object();
}

core::Result<acl::Token> read_token(const boost::json::object& body, std::string_view context) {
  acl::Token t;
  for (auto [field, out] :
       {std::pair{"AccessorID", &t.accessor_id}, std::pair{"SecretID", &t.secret_id},
        std::pair{"Description", &t.description}}) {
    auto v = get_string(body, field, context);
    if (!v) return v.error();
    *out = v->value_or("");
  }
  auto policies = read_links(body, "Policies", context);
  if (!policies) return policies.error();
  t.policies = std::move(*policies);
  auto roles = read_links(body, "Roles", context);
  if (!roles) return roles.error();
  t.roles = std::move(*roles);
  if (auto st = read_identities(body, context, t.service_identities, t.node_identities); !st) {
    return st.error();
  }
  auto local = get_bool(body, "Local", context);
  if (!local) return local.error();
  t.local = local->value_or(false);
  auto ttl = get_duration(body, "ExpirationTTL", context);
  if (!ttl) return ttl.error();
  t.expiration_ttl = ttl->value_or(core::Duration(0));
  auto when = get_string(body, "ExpirationTime", context);
  if (!when) return when.error();
  if (*when && !(*when)->empty()) {
    auto ns = parse_rfc3339(**when);
    if (!ns) return bad(context, ns.error().message);
    t.expiration_time_unix_ns = *ns;
  }
  return t;
}

core::Result<acl::Policy> read_policy(const boost::json::object& body, std::string_view context) {
  acl::Policy p;
  for (auto [field, out] :
       {std::pair{"ID", &p.id}, std::pair{"Name", &p.name},
        std::pair{"Description", &p.description}, std::pair{"Rules", &p.rules}}) {
    auto v = get_string(body, field, context);
    if (!v) return v.error();
    *out = v->value_or("");
  }
  auto dcs = get_string_array(body, "Datacenters", context);
  if (!dcs) return dcs.error();
  p.datacenters = dcs->value_or(std::vector<std::string>{});
  return p;
}

core::Result<acl::Role> read_role(const boost::json::object& body, std::string_view context) {
  acl::Role r;
  for (auto [field, out] : {std::pair{"ID", &r.id}, std::pair{"Name", &r.name},
                            std::pair{"Description", &r.description}}) {
    auto v = get_string(body, field, context);
    if (!v) return v.error();
    *out = v->value_or("");
  }
  auto policies = read_links(body, "Policies", context);
  if (!policies) return policies.error();
  r.policies = std::move(*policies);
  if (auto st = read_identities(body, context, r.service_identities, r.node_identities); !st) {
    return st.error();
  }
  return r;
}

}  // namespace pc::http::handlers
