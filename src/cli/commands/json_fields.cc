#include "cli/commands/json_fields.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

core::Error wrong_type(std::string_view name, std::string_view want) {
  return bad_response("field " + std::string(name) + ": expected " + std::string(want));
}

}  // namespace

core::Error bad_response(const std::string& why) {
  return core::make_error(core::Code::kCorruption, "Error decoding agent response: " + why);
}

core::Result<json::value> parse_response_json(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return bad_response(ec.message());
  return v;
}

core::Status read_string_field(const json::object& obj, std::string_view name, std::string& out) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return core::ok();
  if (!v->is_string()) return wrong_type(name, "a string");
  out = std::string(v->get_string());
  return core::ok();
}

core::Status read_int_field(const json::object& obj, std::string_view name, std::int64_t& out) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return core::ok();
  if (v->is_int64()) {
    out = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= INT64_MAX) {
    out = static_cast<std::int64_t>(v->get_uint64());
  } else {
    return wrong_type(name, "an integer");
  }
  return core::ok();
}

core::Status read_string_map_field(const json::object& obj, std::string_view name,
                                   std::map<std::string, std::string>& out) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return core::ok();
  if (!v->is_object()) return wrong_type(name, "an object of strings");
  for (const auto& [key, value] : v->get_object()) {
    if (!value.is_string()) return wrong_type(name, "an object of strings");
    out[std::string(key)] = std::string(value.get_string());
  }
  return core::ok();
}

core::Status read_string_list_field(const json::object& obj, std::string_view name,
                                    std::vector<std::string>& out) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return core::ok();
  if (!v->is_array()) return wrong_type(name, "an array of strings");
  for (const json::value& item : v->get_array()) {
    if (!item.is_string()) return wrong_type(name, "an array of strings");
    out.emplace_back(item.get_string());
  }
  return core::ok();
}

}  // namespace pc::cli
