#include "cli/commands/services/service_file.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <span>
#include <sstream>

#include "cli/commands/helpers.h"
#include "core/definition_keys.h"

namespace pc::cli {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

using core::DefinitionField;
using core::DefinitionKey;

// Neither goes into the body: the request's token is the -token flag, and a service's own
// check belongs to that service whatever its ServiceID says (Consul's CheckTypes() leaves it
// out too).
bool dropped(const DefinitionKey& k) {
  return k.field == DefinitionField::kToken || k.api_name == "ServiceID";
}

std::string_view type_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return "string";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::bool_: return "bool";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
    case json::kind::null: return "null";
  }
  return "value";
}

// Turns one definition's config keys into the API body, checking types as it goes.
class Translator {
 public:
  explicit Translator(const std::string& source) : source_(source) {}

  core::Result<json::object> object(const json::value& v, const std::string& path,
                                    std::span<const DefinitionKey> keys) {
    if (!v.is_object()) return wrong_type(path, "an object", v);
    json::object out;
    for (const auto& [key, value] : v.get_object()) {
      std::string child = path + "." + std::string(key);
      const DefinitionKey* spec = core::find_definition_key(keys, key);
      if (spec == nullptr) return fail("invalid config key " + child);
      if (dropped(*spec) || value.is_null()) continue;
      core::Result<json::value> converted = convert(value, child, spec->field);
      if (!converted) return converted.error();
      out[spec->api_name] = std::move(*converted);
    }
    return out;
  }

  core::Error fail(const std::string& why) const {
    return core::make_error(core::Code::kInvalidArgument,
                            "failed to parse " + source_ + ": " + why);
  }

 private:
  core::Error wrong_type(const std::string& path, std::string_view want,
                         const json::value& got) const {
    return fail(path + ": expected " + std::string(want) + ", got " + std::string(type_name(got)));
  }

  core::Result<json::value> convert(const json::value& v, const std::string& path,
                                    DefinitionField field) {
    switch (field) {
      case DefinitionField::kString:
        if (!v.is_string()) return wrong_type(path, "a string", v);
        return v;
      case DefinitionField::kBool:
        if (!v.is_bool()) return wrong_type(path, "a bool", v);
        return v;
      case DefinitionField::kInt: return integer(v, path);
      case DefinitionField::kDuration:
        // Go duration text, or nanoseconds: the API takes both.
        if (v.is_string()) return v;
        if (core::Result<json::value> n = integer(v, path)) return n;
        return wrong_type(path, "a duration", v);
      case DefinitionField::kStrings:
        if (!v.is_array()) return wrong_type(path, "an array of strings", v);
        for (const json::value& item : v.get_array()) {
          if (!item.is_string()) return wrong_type(path, "an array of strings", v);
        }
        return v;
      case DefinitionField::kStringMap:
        if (!v.is_object()) return wrong_type(path, "an object of strings", v);
        for (const auto& [key, item] : v.get_object()) {
          if (!item.is_string()) return wrong_type(path + "." + std::string(key), "a string", item);
        }
        return v;
      case DefinitionField::kAsIs: return v;
      case DefinitionField::kToken: return json::value();
      case DefinitionField::kCheck: return wrap(object(v, path, core::check_definition_keys()));
      case DefinitionField::kChecks: return checks(v, path);
      case DefinitionField::kWeights: return wrap(object(v, path, core::weights_definition_keys()));
      case DefinitionField::kTaggedAddresses: return tagged_addresses(v, path);
    }
    return json::value();
  }

  static core::Result<json::value> wrap(core::Result<json::object> obj) {
    if (!obj) return obj.error();
    return json::value(std::move(*obj));
  }

  core::Result<json::value> integer(const json::value& v, const std::string& path) const {
    if (v.is_int64() || v.is_uint64()) return v;
    // JSON has only numbers; Consul's decoder takes 80.0 as 80 but not 80.5.
    if (v.is_double() &&
        v.get_double() == static_cast<double>(static_cast<std::int64_t>(v.get_double()))) {
      return json::value(static_cast<std::int64_t>(v.get_double()));
    }
    return wrong_type(path, "an integer", v);
  }

  core::Result<json::value> checks(const json::value& v, const std::string& path) {
    if (!v.is_array()) return wrong_type(path, "an array of checks", v);
    json::array out;
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
      const json::value& item = v.get_array()[i];
      if (item.is_null()) continue;
      core::Result<json::object> check =
          object(item, path + "[" + std::to_string(i) + "]", core::check_definition_keys());
      if (!check) return check.error();
      out.emplace_back(std::move(*check));
    }
    return json::value(std::move(out));
  }

  core::Result<json::value> tagged_addresses(const json::value& v, const std::string& path) {
    if (!v.is_object()) return wrong_type(path, "an object", v);
    json::object out;
    for (const auto& [name, addr] : v.get_object()) {
      core::Result<json::object> converted =
          object(addr, path + "." + std::string(name), core::tagged_address_definition_keys());
      if (!converted) return converted.error();
      out[name] = std::move(*converted);
    }
    return json::value(std::move(out));
  }

  const std::string& source_;
};

core::Result<ServiceDefinition> definition(Translator& t, const json::value& v,
                                           const std::string& path) {
  core::Result<json::object> body = t.object(v, path, core::service_definition_keys());
  if (!body) return body.error();
  ServiceDefinition def;
  if (const json::value* id = body->if_contains("ID")) def.id = std::string(id->get_string());
  if (const json::value* n = body->if_contains("Name")) def.name = std::string(n->get_string());
  // api.AgentServiceRegistration marshals these two without omitempty.
  if (!body->contains("Check")) (*body)["Check"] = nullptr;
  if (!body->contains("Checks")) (*body)["Checks"] = nullptr;
  def.body = std::move(*body);
  return def;
}

// "syntax error at line 3, column 7": where boost::json stopped.
std::string json_error(std::string_view text, const boost::system::error_code& ec,
                       std::size_t consumed) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < consumed && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return ec.message() + " at line " + std::to_string(line) + ", column " + std::to_string(column);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

core::Error hcl_error(const std::string& path) {
  return core::make_error(core::Code::kInvalidArgument,
                          "failed to parse " + path +
                              ": HCL is not supported yet; write the service definition as "
                              "JSON in a .json file");
}

core::Status read_file(const std::string& path, std::ostream& warnings,
                       std::vector<ServiceDefinition>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::make_error(core::Code::kIoError, "config: Open failed on " + path + ". open " +
                                                      path + ": " + go_errno_text(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return core::make_error(core::Code::kIoError, "config: failed to read " + path);
  }
  core::Result<std::vector<ServiceDefinition>> defs =
      services_from_json(text.str(), path, warnings);
  if (!defs) return defs.error();
  for (ServiceDefinition& d : *defs) out.push_back(std::move(d));
  return core::ok();
}

core::Status read_path(const std::string& path, std::ostream& warnings,
                       std::vector<ServiceDefinition>& out) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec) {
    return core::make_error(core::Code::kIoError, "config: Open failed on " + path + ". open " +
                                                      path + ": " + go_errno_text(ec.value()));
  }
  if (!fs::is_directory(status)) {
    if (ends_with(path, ".hcl")) return hcl_error(path);
    if (!ends_with(path, ".json")) {
      return core::make_error(core::Code::kInvalidArgument,
                              "file " + path + " has unknown extension; must be .json");
    }
    return read_file(path, warnings, out);
  }
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
    if (!entry.is_directory(ec)) files.push_back(entry.path().string());
  }
  if (ec) {
    return core::make_error(core::Code::kIoError,
                            "config: Readdir failed on " + path + ". " + go_errno_text(ec.value()));
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    if (ends_with(file, ".hcl")) return hcl_error(file);
    if (!ends_with(file, ".json")) {
      warnings << "skipping file " << file << ", extension must be .json\n";
      continue;
    }
    if (core::Status s = read_file(file, warnings, out); !s) return s;
  }
  return core::ok();
}

}  // namespace

core::Result<std::vector<ServiceDefinition>> services_from_json(std::string_view text,
                                                                const std::string& source,
                                                                std::ostream& warnings) {
  Translator t(source);
  json::stream_parser parser;
  boost::system::error_code ec;
  std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) return t.fail(json_error(text, ec, consumed));
  json::value root = parser.release();
  if (!root.is_object())
    return t.fail("expected a JSON object, got " + std::string(type_name(root)));
  // Consul appends a single "service" after the "services" list of the same file.
  std::vector<ServiceDefinition> list;
  std::vector<ServiceDefinition> single;
  for (const auto& [key, value] : root.get_object()) {
    std::string norm = core::normalize_definition_key(key);
    if (value.is_null() && (norm == "service" || norm == "services")) continue;
    if (norm == "service") {
      core::Result<ServiceDefinition> def = definition(t, value, std::string(key));
      if (!def) return def.error();
      single.push_back(std::move(*def));
    } else if (norm == "services") {
      if (!value.is_array()) {
        return t.fail(std::string(key) + ": expected an array of objects, got " +
                      std::string(type_name(value)));
      }
      for (std::size_t i = 0; i < value.get_array().size(); ++i) {
        core::Result<ServiceDefinition> def =
            definition(t, value.get_array()[i], std::string(key) + "[" + std::to_string(i) + "]");
        if (!def) return def.error();
        list.push_back(std::move(*def));
      }
    } else {
      warnings << source << ": ignoring \"" << key
               << "\": only \"service\" and \"services\" are read by this command\n";
    }
  }
  for (ServiceDefinition& d : single) list.push_back(std::move(d));
  return list;
}

core::Result<std::vector<ServiceDefinition>> services_from_files(
    const std::vector<std::string>& paths, std::ostream& warnings) {
  std::vector<ServiceDefinition> out;
  for (const std::string& path : paths) {
    if (core::Status s = read_path(path, warnings, out); !s) return s.error();
  }
  return out;
}

}  // namespace pc::cli
