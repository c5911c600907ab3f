#include "core/detail/config_services.h"

#include <boost/json.hpp>
#include <charconv>
#include <optional>
#include <span>

#include "core/definition_keys.h"
#include "core/detail/config_hcl.h"

namespace pc::core::detail {
namespace {

namespace json = boost::json;

using Field = DefinitionField;

std::string_view article_name(hcl::Kind kind) {
  switch (kind) {
    case hcl::Kind::kNull: return "null";
    case hcl::Kind::kBool: return "a bool";
    case hcl::Kind::kNumber: return "a number";
    case hcl::Kind::kString: return "a string";
    case hcl::Kind::kList: return "a list";
    case hcl::Kind::kObject: return "an object";
  }
  return "a value";
}

std::optional<std::int64_t> whole_number(const hcl::Value& v) {
  std::string_view text = v.text;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size()) return n;
  // 80.0 is 80 to Consul's decoder; 80.5 is not an integer.
  if (v.number == static_cast<double>(static_cast<std::int64_t>(v.number)) && v.number < 9e18 &&
      v.number > -9e18) {
    return static_cast<std::int64_t>(v.number);
  }
  return std::nullopt;
}

// Translates one definition; errors carry the file, the position and the key's path.
class Translator {
 public:
  explicit Translator(const std::string& file) : file_(file) {}

  Error fail(hcl::Position at, const std::string& why) const {
    return make_error(Code::kInvalidArgument, "Error parsing " + file_ + ": " + hcl::at(at) + why);
  }

  // The object `v` under `specs`; a token found goes to `token` when given.
  Result<json::object> object(const hcl::Value& v, const std::string& path,
                              std::span<const DefinitionKey> specs, std::string* token) {
    if (!v.is_object()) return wrong_type(v, path, "an object");
    json::object out;
    json::array checks;
    bool any_check = false;
    for (const hcl::Member& m : v.object) {
      std::string child = path + "." + m.key;
      const DefinitionKey* spec = find_definition_key(specs, m.key);
      if (spec == nullptr) return fail(m.position, "invalid config key " + child);
      if (m.value.kind == hcl::Kind::kNull) continue;
      if (spec->field == Field::kToken) {
        if (!m.value.is_string()) return wrong_type(m.value, child, "a string");
        if (token != nullptr) *token = m.value.text;
        continue;
      }
      if (spec->field == Field::kCheck || spec->field == Field::kChecks) {
        any_check = true;
        if (auto st = add_checks(m.value, child, checks); !st) return st.error();
        continue;
      }
      Result<json::value> converted = value(m.value, child, spec->field);
      if (!converted) return converted.error();
      out[spec->api_name] = std::move(*converted);
    }
    if (any_check) out["Checks"] = std::move(checks);
    return out;
  }

  // The definitions under one top-level member: an object, a list of objects, or null.
  Status each_definition(const hcl::Member& m, const std::string& path,
                         std::span<const DefinitionKey> specs, std::vector<ConfigDefinition>& out) {
    std::vector<const hcl::Value*> items;
    if (auto st = objects_of(m.value, path, items); !st) return st;
    for (const hcl::Value* item : items) {
      ConfigDefinition def;
      def.file = file_;
      def.line = item->position.line;
      def.column = item->position.column;
      Result<json::object> body = object(*item, path, specs, &def.token);
      if (!body) return body.error();
      def.body = json::serialize(*body);
      out.push_back(std::move(def));
    }
    return ok();
  }

 private:
  Error wrong_type(const hcl::Value& got, const std::string& path, std::string_view want) const {
    return fail(got.position, path + ": expected " + std::string(want) + ", got " +
                                  std::string(article_name(got.kind)));
  }

  // An object stands for itself, a list for its objects (HCL's repeated blocks and JSON's
  // arrays); null elements are skipped.
  Status objects_of(const hcl::Value& v, const std::string& path,
                    std::vector<const hcl::Value*>& out) const {
    if (v.kind == hcl::Kind::kNull) return ok();
    if (v.is_object()) {
      out.push_back(&v);
      return ok();
    }
    if (v.kind != hcl::Kind::kList) return wrong_type(v, path, "an object or a list of objects");
    for (std::size_t i = 0; i < v.list.size(); ++i) {
      const hcl::Value& item = v.list[i];
      if (item.kind == hcl::Kind::kNull) continue;
      if (!item.is_object()) {
        return wrong_type(item, path + "[" + std::to_string(i) + "]", "an object");
      }
      out.push_back(&item);
    }
    return ok();
  }

  Status add_checks(const hcl::Value& v, const std::string& path, json::array& out) {
    std::vector<const hcl::Value*> items;
    if (auto st = objects_of(v, path, items); !st) return st;
    for (const hcl::Value* item : items) {
      // A service's check acts with the service's token; its own is ignored, as in Consul.
      Result<json::object> check = object(*item, path, check_definition_keys(), nullptr);
      if (!check) return check.error();
      out.emplace_back(std::move(*check));
    }
    return ok();
  }

  Result<json::value> value(const hcl::Value& v, const std::string& path, Field field) {
    switch (field) {
      case Field::kString:
        if (!v.is_string()) return wrong_type(v, path, "a string");
        return json::value(json::string(v.text));
      case Field::kBool:
        if (v.kind != hcl::Kind::kBool) return wrong_type(v, path, "a bool");
        return json::value(v.boolean);
      case Field::kInt: {
        if (v.kind != hcl::Kind::kNumber) return wrong_type(v, path, "an integer");
        std::optional<std::int64_t> n = whole_number(v);
        if (!n) return fail(v.position, path + ": expected an integer, got " + v.text);
        return json::value(*n);
      }
      case Field::kDuration:
        if (v.is_string()) return json::value(json::string(v.text));
        if (v.kind == hcl::Kind::kNumber && whole_number(v)) return json::value(*whole_number(v));
        return wrong_type(v, path, "a duration");
      case Field::kStrings: {
        if (v.kind != hcl::Kind::kList) return wrong_type(v, path, "a list of strings");
        json::array out;
        for (const hcl::Value& item : v.list) {
          if (!item.is_string()) return wrong_type(item, path, "a list of strings");
          out.emplace_back(json::string(item.text));
        }
        return json::value(std::move(out));
      }
      case Field::kStringMap: {
        if (!v.is_object()) return wrong_type(v, path, "an object of strings");
        json::object out;
        for (const hcl::Member& m : v.object) {
          if (!m.value.is_string()) return wrong_type(m.value, path + "." + m.key, "a string");
          out[m.key] = json::string(m.value.text);
        }
        return json::value(std::move(out));
      }
      case Field::kAsIs: return hcl_value_to_json(v);
      case Field::kWeights: return wrap(object(v, path, weights_definition_keys(), nullptr));
      case Field::kTaggedAddresses: {
        if (!v.is_object()) return wrong_type(v, path, "an object");
        json::object out;
        for (const hcl::Member& m : v.object) {
          Result<json::object> address =
              object(m.value, path + "." + m.key, tagged_address_definition_keys(), nullptr);
          if (!address) return address.error();
          out[m.key] = std::move(*address);
        }
        return json::value(std::move(out));
      }
      case Field::kToken:
      case Field::kCheck:
      case Field::kChecks: break;  // handled by object()
    }
    return json::value();
  }

  static Result<json::value> wrap(Result<json::object> obj) {
    if (!obj) return obj.error();
    return json::value(std::move(*obj));
  }

  const std::string& file_;
};

}  // namespace

Status read_config_definitions(const hcl::Value& doc, const std::string& file,
                               std::vector<ConfigDefinition>& services,
                               std::vector<ConfigDefinition>& checks) {
  if (!doc.is_object()) return ok();
  Translator t(file);
  for (const hcl::Member& m : doc.object) {
    if (m.key == "service" || m.key == "services") {
      if (auto st = t.each_definition(m, m.key, service_definition_keys(), services); !st)
        return st;
    } else if (m.key == "check" || m.key == "checks") {
      if (auto st = t.each_definition(m, m.key, check_definition_keys(), checks); !st) return st;
    }
  }
  return ok();
}

}  // namespace pc::core::detail
