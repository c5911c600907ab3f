#include "core/detail/config_hcl.h"

#include <boost/json.hpp>
#include <charconv>
#include <optional>

#include "core/hcl.h"

namespace pc::core::detail {
namespace {

namespace json = boost::json;

// An integer literal that fits in 64 bits, read exactly (the tree's double would round it).
std::optional<std::int64_t> integer_literal(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return out;
}

// Objects merge key by key; for anything else the later value wins.
void merge_member(json::object& into, std::string_view key, json::value value) {
  auto it = into.find(key);
  if (it == into.end() || !it->value().is_object() || !value.is_object()) {
    into[key] = std::move(value);
    return;
  }
  json::object& target = it->value().get_object();
  for (auto& [k, v] : value.get_object()) merge_member(target, k, std::move(v));
}

// Depth is bounded by the parser (core::limits::hcl_nesting_depth_max).
json::value convert(const hcl::Value& v) {
  switch (v.kind) {
    case hcl::Kind::kNull: return nullptr;
    case hcl::Kind::kBool: return v.boolean;
    case hcl::Kind::kString: return json::string(v.text);
    case hcl::Kind::kNumber:
      if (auto n = integer_literal(v.text)) return *n;
      return v.number;
    case hcl::Kind::kList: {
      json::array out;
      for (const hcl::Value& item : v.list) out.push_back(convert(item));
      return out;
    }
    case hcl::Kind::kObject: {
      json::object out;
      for (const hcl::Member& m : v.object) merge_member(out, m.key, convert(m.value));
      return out;
    }
  }
  return nullptr;
}

}  // namespace

Result<json::value> hcl_config_to_json(std::string_view text) {
  Result<hcl::Value> doc = hcl::parse(text);
  if (!doc) return doc.error();
  return convert(*doc);
}

json::value hcl_value_to_json(const hcl::Value& value) {
  return convert(value);
}

}  // namespace pc::core::detail
