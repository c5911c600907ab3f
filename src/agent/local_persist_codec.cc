#include "agent/local_persist_codec.h"

#include <boost/json.hpp>
#include <limits>

#include "core/duration.h"

namespace pc::agent {
namespace {

namespace json = boost::json;

core::Error corrupt(std::string_view what, std::string_view why) {
  return core::make_error(core::Code::kCorruption, std::string(what) + ": " + std::string(why));
}

// Reads the fields of one JSON object. An absent or null field keeps its default (as Go's
// decoder does); a present one of the wrong type is an error. The first error wins and is
// what error() returns; later reads are no-ops.
class FieldReader {
 public:
  FieldReader(const json::object& object, std::string_view what) : object_(object), what_(what) {}

  const std::optional<core::Error>& error() const { return error_; }

  void string(std::string_view key, std::string& out) {
    if (const json::value* v = get(key)) {
      if (!v->is_string()) return fail(key, "not a string");
      out = std::string(v->get_string());
    }
  }
  void boolean(std::string_view key, bool& out) {
    if (const json::value* v = get(key)) {
      if (!v->is_bool()) return fail(key, "not a boolean");
      out = v->get_bool();
    }
  }
  void integer(std::string_view key, std::int64_t min, std::int64_t max, std::int64_t& out) {
    if (const json::value* v = get(key)) {
      std::int64_t n = 0;
      if (v->is_int64()) {
        n = v->get_int64();
      } else if (v->is_uint64() &&
                 v->get_uint64() <=
                     static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        n = static_cast<std::int64_t>(v->get_uint64());
      } else {
        return fail(key, "not an integer");
      }
      if (n < min || n > max) return fail(key, "out of range");
      out = n;
    }
  }
  void int32(std::string_view key, std::int64_t min, std::int64_t max, int& out) {
    std::int64_t n = out;
    integer(key, min, max, n);
    out = static_cast<int>(n);
  }
  void strings(std::string_view key, std::vector<std::string>& out) {
    if (const json::value* v = get(key)) strings_of(key, *v, out);
  }
  // A list of strings held by `v` (a field's value or an entry of a map under `key`).
  void strings_of(std::string_view key, const json::value& v, std::vector<std::string>& out) {
    if (!v.is_array()) return fail(key, "not an array");
    out.clear();
    for (const json::value& item : v.get_array()) {
      if (!item.is_string()) return fail(key, "holds a non-string");
      out.emplace_back(item.get_string());
    }
  }
  void string_map(std::string_view key, std::map<std::string, std::string>& out) {
    if (const json::object* o = object(key)) {
      out.clear();
      for (const auto& [k, item] : *o) {
        if (!item.is_string()) return fail(key, "holds a non-string");
        out[std::string(k)] = std::string(item.get_string());
      }
    }
  }
  // Go's duration text ("10s") or an integer of nanoseconds, as Consul accepts both.
  void duration(std::string_view key, core::Duration& out) {
    const json::value* v = get(key);
    if (v == nullptr) return;
    if (v->is_string()) {
      auto d = core::parse_go_duration(std::string(v->get_string()));
      if (!d) return fail(key, d.error().message);
      if (d->count() < 0) return fail(key, "negative");
      out = *d;
      return;
    }
    std::int64_t ns = 0;
    integer(key, 0, std::numeric_limits<std::int64_t>::max(), ns);
    if (!error_) out = core::Duration(ns);
  }
  // The object under `key`; nullptr when absent or null (or on an error).
  const json::object* object(std::string_view key) {
    const json::value* v = get(key);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
      fail(key, "not an object");
      return nullptr;
    }
    return &v->get_object();
  }
  void fail(std::string_view key, std::string_view why) {
    if (!error_) error_ = corrupt(what_, "field \"" + std::string(key) + "\": " + std::string(why));
  }

 private:
  const json::value* get(std::string_view key) const {
    if (error_) return nullptr;
    const json::value* v = object_.if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  const json::object& object_;
  std::string_view what_;
  std::optional<core::Error> error_;
};

core::Result<json::object> parse_object(std::string_view text, std::string_view what) {
  if (text.size() > kPersistedFileSizeMax) return corrupt(what, "too large");
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return corrupt(what, "not JSON: " + ec.message());
  if (!v.is_object()) return corrupt(what, "not a JSON object");
  return std::move(v.get_object());
}

json::object encode_service(const state::Service& s) {
  json::object o;
  o["ID"] = s.id;
  o["Service"] = s.service;
  json::array tags;
  for (const auto& t : s.tags) tags.emplace_back(t);
  o["Tags"] = std::move(tags);
  o["Address"] = s.address;
  json::object tagged;
  for (const auto& [k, a] : s.tagged_addresses) {
    tagged[k] = json::object{{"Address", a.address}, {"Port", a.port}};
  }
  o["TaggedAddresses"] = std::move(tagged);
  json::object meta;
  for (const auto& [k, v] : s.meta) meta[k] = v;
  o["Meta"] = std::move(meta);
  o["Port"] = s.port;
  o["Weights"] = json::object{{"Passing", s.weights.passing}, {"Warning", s.weights.warning}};
  o["EnableTagOverride"] = s.enable_tag_override;
  o["Kind"] = s.kind;
  return o;
}

constexpr std::int64_t kPortMax = 65535;
constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();

std::optional<core::Error> decode_service(const json::object& o, state::Service& s) {
  FieldReader r(o, "service file");
  r.string("ID", s.id);
  r.string("Service", s.service);
  r.strings("Tags", s.tags);
  r.string("Address", s.address);
  if (const json::object* tagged = r.object("TaggedAddresses")) {
    for (const auto& [k, v] : *tagged) {
      if (!v.is_object()) {
        r.fail("TaggedAddresses", "holds a non-object");
        break;
      }
      FieldReader a(v.get_object(), "service file tagged address");
      state::ServiceAddress address;
      a.string("Address", address.address);
      a.int32("Port", 0, kPortMax, address.port);
      if (a.error()) return a.error();
      s.tagged_addresses[std::string(k)] = std::move(address);
    }
  }
  r.string_map("Meta", s.meta);
  r.int32("Port", 0, kPortMax, s.port);
  if (const json::object* w = r.object("Weights")) {
    FieldReader wr(*w, "service file weights");
    wr.int32("Passing", 0, kInt32Max, s.weights.passing);
    wr.int32("Warning", 0, kInt32Max, s.weights.warning);
    if (wr.error()) return wr.error();
  }
  r.boolean("EnableTagOverride", s.enable_tag_override);
  r.string("Kind", s.kind);
  if (!r.error() && s.id.empty()) r.fail("ID", "empty");
  return r.error();
}

void put_duration(json::object& o, std::string_view key, core::Duration d) {
  if (d.count() > 0) o[key] = core::format_go_duration(d);
}
void put_string(json::object& o, std::string_view key, const std::string& v) {
  if (!v.empty()) o[key] = v;
}
void put_bool(json::object& o, std::string_view key, bool v) {
  if (v) o[key] = true;
}

json::object encode_spec(const CheckSpec& spec) {
  json::object o;
  put_duration(o, "Interval", spec.interval);
  put_duration(o, "Timeout", spec.timeout);
  put_duration(o, "TTL", spec.ttl);
  put_duration(o, "DeregisterCriticalServiceAfter", spec.deregister_critical_service_after);
  put_string(o, "HTTP", spec.http);
  put_string(o, "Method", spec.method);
  if (!spec.header.empty()) {
    json::object header;
    for (const auto& [k, values] : spec.header) {
      json::array list;
      for (const auto& v : values) list.emplace_back(v);
      header[k] = std::move(list);
    }
    o["Header"] = std::move(header);
  }
  put_string(o, "Body", spec.body);
  put_bool(o, "TLSSkipVerify", spec.tls_skip_verify);
  put_string(o, "TLSServerName", spec.tls_server_name);
  put_bool(o, "DisableRedirects", spec.disable_redirects);
  put_string(o, "TCP", spec.tcp);
  if (!spec.args.empty()) {
    json::array args;
    for (const auto& a : spec.args) args.emplace_back(a);
    o["ScriptArgs"] = std::move(args);
  }
  put_string(o, "GRPC", spec.grpc);
  put_bool(o, "GRPCUseTLS", spec.grpc_use_tls);
  put_string(o, "AliasNode", spec.alias_node);
  put_string(o, "AliasService", spec.alias_service);
  return o;
}

core::Result<CheckSpec> decode_spec(const json::object& o) {
  CheckSpec spec;
  FieldReader r(o, "check file ChkType");
  r.duration("Interval", spec.interval);
  r.duration("Timeout", spec.timeout);
  r.duration("TTL", spec.ttl);
  r.duration("DeregisterCriticalServiceAfter", spec.deregister_critical_service_after);
  r.string("HTTP", spec.http);
  r.string("Method", spec.method);
  if (const json::object* header = r.object("Header")) {
    for (const auto& [k, v] : *header) r.strings_of("Header", v, spec.header[std::string(k)]);
  }
  r.string("Body", spec.body);
  r.boolean("TLSSkipVerify", spec.tls_skip_verify);
  r.string("TLSServerName", spec.tls_server_name);
  r.boolean("DisableRedirects", spec.disable_redirects);
  r.string("TCP", spec.tcp);
  r.strings("ScriptArgs", spec.args);
  r.string("GRPC", spec.grpc);
  r.boolean("GRPCUseTLS", spec.grpc_use_tls);
  r.string("AliasNode", spec.alias_node);
  r.string("AliasService", spec.alias_service);
  if (r.error()) return *r.error();
  // What the file says must still be a check this agent would have registered.
  if (auto st = classify_and_validate(spec); !st) {
    return corrupt("check file ChkType", st.error().message);
  }
  return spec;
}

bool valid_status(std::string_view s) {
  return s == state::kHealthPassing || s == state::kHealthWarning || s == state::kHealthCritical;
}

}  // namespace

std::string encode_persisted_service(const PersistedService& p) {
  json::object o;
  o["Token"] = p.token;
  o["Service"] = encode_service(p.service);
  return json::serialize(o);
}

core::Result<PersistedService> decode_persisted_service(std::string_view text) {
  auto o = parse_object(text, "service file");
  if (!o) return o.error();
  PersistedService p;
  FieldReader r(*o, "service file");
  r.string("Token", p.token);
  const json::object* service = r.object("Service");
  if (r.error()) return *r.error();
  if (service == nullptr) return corrupt("service file", "no Service");
  if (auto e = decode_service(*service, p.service)) return *e;
  return p;
}

std::string encode_persisted_check(const PersistedCheck& p) {
  json::object check;
  check["CheckID"] = p.check.check_id;
  check["Name"] = p.check.name;
  check["Notes"] = p.check.notes;
  check["ServiceID"] = p.check.service_id;
  json::object o;
  o["Check"] = std::move(check);
  if (p.spec) {
    o["ChkType"] = encode_spec(*p.spec);
  } else {
    o["ChkType"] = nullptr;
  }
  return json::serialize(o);
}

core::Result<PersistedCheck> decode_persisted_check(std::string_view text) {
  auto o = parse_object(text, "check file");
  if (!o) return o.error();
  PersistedCheck p;
  FieldReader r(*o, "check file");
  const json::object* check = r.object("Check");
  const json::object* spec = r.object("ChkType");
  if (r.error()) return *r.error();
  if (check == nullptr) return corrupt("check file", "no Check");
  FieldReader c(*check, "check file Check");
  c.string("CheckID", p.check.check_id);
  c.string("Name", p.check.name);
  c.string("Notes", p.check.notes);
  c.string("ServiceID", p.check.service_id);
  if (!c.error() && p.check.check_id.empty()) c.fail("CheckID", "empty");
  if (c.error()) return *c.error();
  if (spec != nullptr) {
    auto s = decode_spec(*spec);
    if (!s) return s.error();
    p.spec = std::move(*s);
  }
  return p;
}

std::string encode_persisted_check_state(const PersistedCheckState& p) {
  json::object o;
  o["CheckID"] = p.check_id;
  o["Status"] = p.status;
  o["Output"] = p.output;
  o["Expires"] = p.expires_unix_s;
  return json::serialize(o);
}

core::Result<PersistedCheckState> decode_persisted_check_state(std::string_view text) {
  auto o = parse_object(text, "check state file");
  if (!o) return o.error();
  PersistedCheckState p;
  FieldReader r(*o, "check state file");
  r.string("CheckID", p.check_id);
  r.string("Status", p.status);
  r.string("Output", p.output);
  r.integer("Expires", 0, std::numeric_limits<std::int64_t>::max(), p.expires_unix_s);
  if (!r.error() && p.check_id.empty()) r.fail("CheckID", "empty");
  if (!r.error() && !valid_status(p.status)) r.fail("Status", "not passing, warning or critical");
  if (r.error()) return *r.error();
  return p;
}

}  // namespace pc::agent
