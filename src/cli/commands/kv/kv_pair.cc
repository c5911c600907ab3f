#include "cli/commands/kv/kv_pair.h"

#include <boost/json.hpp>

#include "core/strings.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

core::Error bad_response(const std::string& why) {
  return core::make_error(core::Code::kCorruption, "Error decoding agent response: " + why);
}

bool read_u64(const json::object& obj, std::string_view name, std::uint64_t& out) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return true;
  if (v->is_uint64()) {
    out = v->get_uint64();
    return true;
  }
  if (v->is_int64() && v->get_int64() >= 0) {
    out = static_cast<std::uint64_t>(v->get_int64());
    return true;
  }
  return false;
}

bool read_string(const json::object& obj, std::string_view name, std::string& out) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_string()) return false;
  out = std::string(v->get_string());
  return true;
}

core::Result<json::value> parse_json(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return bad_response(ec.message());
  return v;
}

}  // namespace

core::Result<std::vector<KvPair>> parse_kv_pairs(std::string_view body) {
  core::Result<json::value> root = parse_json(body);
  if (!root) return root.error();
  if (root->is_null()) return std::vector<KvPair>{};
  if (!root->is_array()) return bad_response("expected a JSON array");
  std::vector<KvPair> pairs;
  for (const json::value& item : root->get_array()) {
    if (!item.is_object()) return bad_response("expected a JSON object in the array");
    const json::object& obj = item.get_object();
    KvPair p;
    std::string value_b64;
    bool ok = read_string(obj, "Key", p.key) && read_string(obj, "Value", value_b64) &&
              read_string(obj, "Session", p.session) &&
              read_u64(obj, "CreateIndex", p.create_index) &&
              read_u64(obj, "ModifyIndex", p.modify_index) &&
              read_u64(obj, "LockIndex", p.lock_index) && read_u64(obj, "Flags", p.flags);
    if (!ok) return bad_response("unexpected field type in a KV pair");
    if (!core::base64_decode(value_b64, p.value)) {
      return bad_response("Value of " + p.key + " is not base64");
    }
    pairs.push_back(std::move(p));
  }
  return pairs;
}

core::Result<std::vector<std::string>> parse_kv_keys(std::string_view body) {
  core::Result<json::value> root = parse_json(body);
  if (!root) return root.error();
  if (root->is_null()) return std::vector<std::string>{};
  if (!root->is_array()) return bad_response("expected a JSON array");
  std::vector<std::string> keys;
  for (const json::value& item : root->get_array()) {
    if (!item.is_string()) return bad_response("expected strings in the array");
    keys.emplace_back(item.get_string());
  }
  return keys;
}

std::string format_kv_detailed(const KvPair& pair, bool base64_value, bool keys_only) {
  // Go's tabwriter (minwidth 0, padding 6) pads the first column to the longest label
  // ("CreateIndex", "ModifyIndex": 11) plus 6.
  constexpr std::size_t kColumn = 11 + 6;
  auto row = [&](std::string_view label, const std::string& value) {
    return std::string(label) + std::string(kColumn - label.size(), ' ') + value;
  };
  std::string out;
  out += row("CreateIndex", std::to_string(pair.create_index)) + "\n";
  out += row("Flags", std::to_string(pair.flags)) + "\n";
  out += row("Key", pair.key) + "\n";
  out += row("LockIndex", std::to_string(pair.lock_index)) + "\n";
  out += row("ModifyIndex", std::to_string(pair.modify_index)) + "\n";
  out += row("Session", pair.session.empty() ? "-" : pair.session) + "\n";
  if (keys_only) return out;
  out += row("Value", base64_value ? core::base64_encode(pair.value) : pair.value);
  return out;
}

std::optional<std::string> kv_key_argument(const std::vector<std::string>& positional,
                                           std::ostream& err) {
  if (positional.size() > 1) {
    err << "Too many arguments (expected 1, got " << positional.size() << ")\n";
    return std::nullopt;
  }
  std::string key = positional.empty() ? "" : positional[0];
  if (!key.empty() && key[0] == '/') key.erase(0, 1);
  return key;
}

}  // namespace pc::cli
