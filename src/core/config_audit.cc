#include "core/detail/config_audit.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/duration.h"

namespace pc::core::detail {
namespace {

namespace json = boost::json;

enum class AuditKind { kString, kBool, kInt };

struct AuditKey {
  std::string_view name;
  AuditKind kind;
};

constexpr AuditKey kSinkKeys[] = {
    {"type", AuditKind::kString},      {"format", AuditKind::kString},
    {"path", AuditKind::kString},      {"delivery_guarantee", AuditKind::kString},
    {"mode", AuditKind::kString},      {"rotate_duration", AuditKind::kString},
    {"rotate_bytes", AuditKind::kInt}, {"rotate_max_files", AuditKind::kInt},
};

std::string kind_name(const json::value& v) {
  if (v.is_string()) return "string";
  if (v.is_bool()) return "bool";
  if (v.is_number()) return "number";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

std::string expected(const std::string& path, std::string_view what, const json::value& got) {
  return path + ": expected " + std::string(what) + ", got " + kind_name(got);
}

bool is_int(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() &&
         v.get_double() == static_cast<double>(static_cast<std::int64_t>(v.get_double()));
}

std::int64_t int_of(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64())
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v.get_uint64(), INT64_MAX));
  return static_cast<std::int64_t>(v.get_double());
}

std::string check_sink(const json::value& v, const std::string& path) {
  if (!v.is_object()) return expected(path, "an object", v);
  for (const auto& [k, item] : v.get_object()) {
    const std::string key(k);
    const auto spec = std::find_if(std::begin(kSinkKeys), std::end(kSinkKeys),
                                   [&](const AuditKey& s) { return s.name == key; });
    if (spec == std::end(kSinkKeys)) return "unknown key \"" + path + "." + key + "\"";
    const std::string at = path + "." + key;
    switch (spec->kind) {
      case AuditKind::kString:
        if (!item.is_string()) return expected(at, "a string", item);
        break;
      case AuditKind::kBool:
        if (!item.is_bool()) return expected(at, "a boolean", item);
        break;
      case AuditKind::kInt:
        if (!item.is_number()) return expected(at, "a number", item);
        if (!is_int(item)) return at + ": expected an integer";
        if (int_of(item) < 0 || int_of(item) > INT32_MAX) return at + ": value out of range";
        break;
    }
  }
  return "";
}

std::string sink_path(const std::string& name) {
  return "audit.sink[\"" + name + "\"]";
}

Error invalid(std::string message) {
  return make_error(Code::kInvalidArgument, std::move(message));
}

bool octal_mode(std::string_view mode) {
  if (mode.size() < 3 || mode.size() > 4) return false;
  for (char c : mode) {
    if (c < '0' || c > '7') return false;
  }
  return true;
}

Status validate_sink(const AuditSinkConfig& s) {
  const std::string at = sink_path(s.name);
  if (s.type.empty()) return invalid(at + ".type: missing; the only sink type is \"file\"");
  if (s.type != "file") {
    return invalid(at + ".type: unknown sink type \"" + s.type + "\"; the only one is \"file\"");
  }
  if (s.format.empty()) return invalid(at + ".format: missing; the only format is \"json\"");
  if (s.format != "json") {
    return invalid(at + ".format: unknown format \"" + s.format + "\"; the only one is \"json\"");
  }
  if (s.path.empty()) return invalid(at + ".path: missing; a file sink needs a path");
  if (!s.delivery_guarantee.empty() && s.delivery_guarantee != "best-effort") {
    return invalid(at + ".delivery_guarantee: unknown guarantee \"" + s.delivery_guarantee +
                   "\"; the only one is \"best-effort\"");
  }
  if (!octal_mode(s.mode)) {
    return invalid(at + ".mode: \"" + s.mode + "\" is not an octal file mode such as \"0600\"");
  }
  bool has_duration = false;
  if (!s.rotate_duration.empty()) {
    Result<Duration> d = parse_go_duration(s.rotate_duration);
    if (!d) {
      return invalid(at + ".rotate_duration: invalid duration \"" + s.rotate_duration +
                     "\": " + d.error().message);
    }
    if (d->count() < 0) return invalid(at + ".rotate_duration: must not be negative");
    has_duration = d->count() > 0;
  }
  if (!has_duration && s.rotate_bytes == 0) {
    return invalid(at + ": at least one of rotate_duration and rotate_bytes must be set");
  }
  return ok();
}

}  // namespace

std::string check_audit(const json::value& v, const std::string& path) {
  if (!v.is_object()) return expected(path, "an object", v);
  for (const auto& [k, item] : v.get_object()) {
    const std::string key(k);
    if (key == "enabled") {
      if (!item.is_bool()) return expected(path + ".enabled", "a boolean", item);
    } else if (key == "sink") {
      if (!item.is_object()) return expected(path + ".sink", "an object", item);
      for (const auto& [name, sink] : item.get_object()) {
        std::string why = check_sink(sink, sink_path(std::string(name)));
        if (!why.empty()) return why;
      }
    } else {
      return "unknown key \"" + path + "." + key + "\"";
    }
  }
  return "";
}

void decode_audit(const json::object& obj, AuditConfig& out) {
  for (const auto& [k, v] : obj) {
    const std::string_view key = k;
    if (key == "enabled") out.enabled = v.get_bool();
    if (key != "sink") continue;
    for (const auto& [name, sink] : v.get_object()) {
      AuditSinkConfig s;
      s.name = std::string(name);
      for (const auto& [fk, fv] : sink.get_object()) {
        const std::string_view f = fk;
        if (f == "type") s.type = std::string(fv.get_string());
        if (f == "format") s.format = std::string(fv.get_string());
        if (f == "path") s.path = std::string(fv.get_string());
        if (f == "delivery_guarantee") s.delivery_guarantee = std::string(fv.get_string());
        if (f == "mode") s.mode = std::string(fv.get_string());
        if (f == "rotate_duration") s.rotate_duration = std::string(fv.get_string());
        if (f == "rotate_bytes") s.rotate_bytes = static_cast<int>(int_of(fv));
        if (f == "rotate_max_files") s.rotate_max_files = static_cast<int>(int_of(fv));
      }
      if (s.delivery_guarantee.empty()) s.delivery_guarantee = "best-effort";
      out.sinks.push_back(std::move(s));
    }
  }
  std::sort(out.sinks.begin(), out.sinks.end(),
            [](const AuditSinkConfig& a, const AuditSinkConfig& b) { return a.name < b.name; });
}

Status validate_audit(const AuditConfig& audit, bool acl_enabled,
                      std::vector<std::string>& warnings) {
  // Sinks are checked even while disabled: a typo should not wait until the day it is turned on.
  for (const AuditSinkConfig& s : audit.sinks) {
    Status st = validate_sink(s);
    if (!st) return st;
  }
  if (!audit.enabled) return ok();
  if (audit.sinks.empty()) return invalid("audit.enabled: the audit log needs at least one sink");
  if (!acl_enabled) {
    warnings.push_back(
        "audit: ACLs are disabled, so no request resolves to a token and nothing is audited");
  }
  return ok();
}

}  // namespace pc::core::detail
