#include "http/json/read.h"

#include <boost/json/parser.hpp>

#include <charconv>
#include <cmath>

#include "core/duration.h"
#include "core/strings.h"

namespace pc::http {
namespace {

namespace json = boost::json;

core::Error decode_error(std::string_view context, std::string_view detail) {
  std::string message(context);
  message += ": ";
  message += detail;
  return core::make_error(core::Code::kInvalidArgument, std::move(message));
}

// Go's name for a JSON value in UnmarshalTypeError: "number 1.5" for a number that does not
// fit the target, the bare kind otherwise.
std::string go_json_kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "bool";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
    case json::kind::int64: return "number " + std::to_string(v.get_int64());
    case json::kind::uint64: return "number " + std::to_string(v.get_uint64());
    case json::kind::double_: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
      return "number " + std::string(buf, end);
    }
  }
  return "value";
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

char fold(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

core::Error type_error(const json::value& got, std::string_view name, std::string_view go_type,
                       std::string_view context) {
  std::string detail = "json: cannot unmarshal ";
  detail += go_json_kind(got);
  detail += " into Go struct field ";
  detail += name;
  detail += " of type ";
  detail += go_type;
  return decode_error(context, detail);
}

core::Result<json::value> parse_json_body(std::string_view body, std::string_view context) {
  if (is_blank(body)) return decode_error(context, "EOF");
  json::parse_options options;
  options.max_depth = 32;
  json::parser p(json::storage_ptr(), options);
  boost::system::error_code ec;
  // write_some takes the buffer as the whole input and stops after the first complete value,
  // as Go's Decoder does.
  const std::size_t used = p.write_some(body.data(), body.size(), ec);
  if (ec) {
    if (ec == json::error::incomplete) return decode_error(context, "unexpected EOF");
    return decode_error(context,
                        "invalid JSON at offset " + std::to_string(used) + ": " + ec.message());
  }
  return p.release();
}

core::Result<const json::object*> body_object(const json::value& body, std::string_view context) {
  static const json::object kEmpty;
  if (body.is_null()) return &kEmpty;
  if (const json::object* obj = body.if_object()) return obj;
  return decode_error(
      context, "json: cannot unmarshal " + go_json_kind(body) + " into Go value of type object");
}

bool field_name_matches(std::string_view key, std::string_view pascal_name) {
  std::size_t i = 0, j = 0;
  for (;;) {
    while (i < key.size() && key[i] == '_') ++i;
    while (j < pascal_name.size() && pascal_name[j] == '_') ++j;
    if (i == key.size() || j == pascal_name.size()) {
      return i == key.size() && j == pascal_name.size();
    }
    if (fold(key[i]) != fold(pascal_name[j])) return false;
    ++i;
    ++j;
  }
}

const json::value* find_field(const json::object& obj, std::string_view pascal_name) {
  const json::value* found = nullptr;
  for (const auto& member : obj) {
    if (field_name_matches(member.key(), pascal_name)) found = &member.value();
  }
  return found;
}

core::Result<std::optional<std::string>> get_string(const json::object& obj, std::string_view name,
                                                    std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return type_error(*v, name, "string", context);
  const json::string& s = v->get_string();
  return std::optional<std::string>(std::string(s.data(), s.size()));
}

core::Result<std::optional<bool>> get_bool(const json::object& obj, std::string_view name,
                                           std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return type_error(*v, name, "bool", context);
  return std::optional<bool>(v->get_bool());
}

core::Result<std::optional<std::uint64_t>> get_uint64(const json::object& obj,
                                                      std::string_view name,
                                                      std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<std::uint64_t>();
  if (v->is_uint64()) return std::optional<std::uint64_t>(v->get_uint64());
  if (v->is_int64() && v->get_int64() >= 0) {
    return std::optional<std::uint64_t>(static_cast<std::uint64_t>(v->get_int64()));
  }
  return type_error(*v, name, "uint64", context);
}

core::Result<std::optional<std::int64_t>> get_int64(const json::object& obj, std::string_view name,
                                                    std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>();
  if (v->is_int64()) return std::optional<std::int64_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_uint64()));
  }
  return type_error(*v, name, "int64", context);
}

core::Result<std::optional<double>> get_double(const json::object& obj, std::string_view name,
                                               std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<double>();
  if (v->is_number()) return std::optional<double>(v->to_number<double>());
  return type_error(*v, name, "float64", context);
}

core::Result<std::optional<core::Duration>> get_duration(const json::object& obj,
                                                         std::string_view name,
                                                         std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<core::Duration>();
  if (v->is_int64()) return std::optional<core::Duration>(core::Duration(v->get_int64()));
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<core::Duration>(
        core::Duration(static_cast<std::int64_t>(v->get_uint64())));
  }
  if (v->is_string()) {
    std::string_view text(v->get_string().data(), v->get_string().size());
    auto d = core::parse_go_duration(text);
    if (!d) return decode_error(context, d.error().message);  // Go's time: ... text
    return std::optional<core::Duration>(*d);
  }
  return type_error(*v, name, "time.Duration", context);
}

core::Result<std::optional<std::string>> get_bytes(const json::object& obj, std::string_view name,
                                                   std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return type_error(*v, name, "[]uint8", context);
  std::string out;
  std::string_view text(v->get_string().data(), v->get_string().size());
  if (!core::base64_decode(text, out)) return decode_error(context, "illegal base64 data");
  return std::optional<std::string>(std::move(out));
}

core::Result<JsonObjectPtr> get_object(const json::object& obj, std::string_view name,
                                       std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return JsonObjectPtr(nullptr);
  if (!v->is_object()) return type_error(*v, name, "object", context);
  return JsonObjectPtr(&v->get_object());
}

core::Result<JsonArrayPtr> get_array(const json::object& obj, std::string_view name,
                                     std::string_view context) {
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return JsonArrayPtr(nullptr);
  if (!v->is_array()) return type_error(*v, name, "array", context);
  return JsonArrayPtr(&v->get_array());
}

core::Result<std::optional<std::vector<std::string>>> get_string_array(const json::object& obj,
                                                                       std::string_view name,
                                                                       std::string_view context) {
  using Out = std::optional<std::vector<std::string>>;
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return Out();
  if (!v->is_array()) return type_error(*v, name, "[]string", context);
  std::vector<std::string> out;
  out.reserve(v->get_array().size());
  for (const json::value& e : v->get_array()) {
    if (e.is_null()) {
      out.emplace_back();
    } else if (e.is_string()) {
      out.emplace_back(e.get_string().data(), e.get_string().size());
    } else {
      return type_error(e, name, "string", context);
    }
  }
  return Out(std::move(out));
}

core::Result<std::optional<std::map<std::string, std::string>>> get_string_map(
    const json::object& obj, std::string_view name, std::string_view context) {
  using Out = std::optional<std::map<std::string, std::string>>;
  const json::value* v = find_field(obj, name);
  if (v == nullptr || v->is_null()) return Out();
  if (!v->is_object()) return type_error(*v, name, "map[string]string", context);
  std::map<std::string, std::string> out;
  for (const auto& member : v->get_object()) {
    std::string key(member.key());
    if (member.value().is_null()) {
      out[std::move(key)];
    } else if (member.value().is_string()) {
      const json::string& s = member.value().get_string();
      out[std::move(key)] = std::string(s.data(), s.size());
    } else {
      return type_error(member.value(), name, "string", context);
    }
  }
  return Out(std::move(out));
}

}  // namespace pc::http
