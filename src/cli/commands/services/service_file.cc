#include "cli/commands/services/service_file.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <span>
#include <sstream>

#include "cli/commands/helpers.h"

namespace pc::cli {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

enum class Kind {
  kString,
  kInt,
  kBool,
  kStrings,          // array of strings
  kStringMap,        // object of strings ("meta")
  kAsIs,             // passed on unchanged ("proxy", "connect", "header")
  kDrop,             // understood but not sent ("token")
  kCheck,            // a check definition
  kChecks,           // an array of them
  kWeights,          // {"passing": N, "warning": N}
  kTaggedAddresses,  // {"lan": {"address": "...", "port": N}}
};

// A config key (normalized: lower case, no underscores), its name in the API body, and its
// type. Consul's agent/config ServiceDefinition and CheckDefinition, with the names
// api.AgentServiceRegistration and api.AgentServiceCheck give them.
struct Field {
  std::string_view key;
  std::string_view api_name;
  Kind kind;
};

constexpr Field kServiceFields[] = {
    {"kind", "Kind", Kind::kString},
    {"id", "ID", Kind::kString},
    {"name", "Name", Kind::kString},
    {"tags", "Tags", Kind::kStrings},
    {"address", "Address", Kind::kString},
    {"taggedaddresses", "TaggedAddresses", Kind::kTaggedAddresses},
    {"meta", "Meta", Kind::kStringMap},
    {"port", "Port", Kind::kInt},
    {"socketpath", "SocketPath", Kind::kString},
    {"check", "Check", Kind::kCheck},
    {"checks", "Checks", Kind::kChecks},
    {"token", "", Kind::kDrop},
    {"weights", "Weights", Kind::kWeights},
    {"enabletagoverride", "EnableTagOverride", Kind::kBool},
    {"proxy", "Proxy", Kind::kAsIs},
    {"connect", "Connect", Kind::kAsIs},
};

constexpr Field kCheckFields[] = {
    {"id", "CheckID", Kind::kString},
    {"checkid", "CheckID", Kind::kString},
    {"name", "Name", Kind::kString},
    {"notes", "Notes", Kind::kString},
    {"serviceid", "", Kind::kDrop},  // a service's own check belongs to it anyway
    {"token", "", Kind::kDrop},
    {"status", "Status", Kind::kString},
    {"args", "ScriptArgs", Kind::kStrings},
    {"scriptargs", "ScriptArgs", Kind::kStrings},
    {"http", "HTTP", Kind::kString},
    {"header", "Header", Kind::kAsIs},
    {"method", "Method", Kind::kString},
    {"body", "Body", Kind::kString},
    {"disableredirects", "DisableRedirects", Kind::kBool},
    {"outputmaxsize", "OutputMaxSize", Kind::kInt},
    {"tcp", "TCP", Kind::kString},
    {"udp", "UDP", Kind::kString},
    {"interval", "Interval", Kind::kString},
    {"dockercontainerid", "DockerContainerID", Kind::kString},
    {"shell", "Shell", Kind::kString},
    {"grpc", "GRPC", Kind::kString},
    {"grpcusetls", "GRPCUseTLS", Kind::kBool},
    {"tlsservername", "TLSServerName", Kind::kString},
    {"tlsskipverify", "TLSSkipVerify", Kind::kBool},
    {"aliasnode", "AliasNode", Kind::kString},
    {"aliasservice", "AliasService", Kind::kString},
    {"timeout", "Timeout", Kind::kString},
    {"ttl", "TTL", Kind::kString},
    {"h2ping", "H2PING", Kind::kString},
    {"h2pingusetls", "H2PingUseTLS", Kind::kBool},
    {"osservice", "OSService", Kind::kString},
    {"successbeforepassing", "SuccessBeforePassing", Kind::kInt},
    {"failuresbeforewarning", "FailuresBeforeWarning", Kind::kInt},
    {"failuresbeforecritical", "FailuresBeforeCritical", Kind::kInt},
    {"deregistercriticalserviceafter", "DeregisterCriticalServiceAfter", Kind::kString},
};

constexpr Field kWeightsFields[] = {
    {"passing", "Passing", Kind::kInt},
    {"warning", "Warning", Kind::kInt},
};

constexpr Field kServiceAddressFields[] = {
    {"address", "Address", Kind::kString},
    {"port", "Port", Kind::kInt},
};

std::string normalize(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '_') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return out;
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
                                    std::span<const Field> fields) {
    if (!v.is_object()) return wrong_type(path, "an object", v);
    json::object out;
    for (const auto& [key, value] : v.get_object()) {
      std::string child = path + "." + std::string(key);
      std::string norm = normalize(key);
      auto it =
          std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.key == norm; });
      if (it == fields.end()) return fail("invalid config key " + child);
      if (it->kind == Kind::kDrop || value.is_null()) continue;
      core::Result<json::value> converted = convert(value, child, it->kind);
      if (!converted) return converted.error();
      out[it->api_name] = std::move(*converted);
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

  core::Result<json::value> convert(const json::value& v, const std::string& path, Kind kind) {
    switch (kind) {
      case Kind::kString:
        if (!v.is_string()) return wrong_type(path, "a string", v);
        return v;
      case Kind::kBool:
        if (!v.is_bool()) return wrong_type(path, "a bool", v);
        return v;
      case Kind::kInt: return integer(v, path);
      case Kind::kStrings:
        if (!v.is_array()) return wrong_type(path, "an array of strings", v);
        for (const json::value& item : v.get_array()) {
          if (!item.is_string()) return wrong_type(path, "an array of strings", v);
        }
        return v;
      case Kind::kStringMap:
        if (!v.is_object()) return wrong_type(path, "an object of strings", v);
        for (const auto& [key, item] : v.get_object()) {
          if (!item.is_string()) return wrong_type(path + "." + std::string(key), "a string", item);
        }
        return v;
      case Kind::kAsIs: return v;
      case Kind::kDrop: return json::value();
      case Kind::kCheck: return wrap(object(v, path, kCheckFields));
      case Kind::kChecks: return checks(v, path);
      case Kind::kWeights: return wrap(object(v, path, kWeightsFields));
      case Kind::kTaggedAddresses: return tagged_addresses(v, path);
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
          object(item, path + "[" + std::to_string(i) + "]", kCheckFields);
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
          object(addr, path + "." + std::string(name), kServiceAddressFields);
      if (!converted) return converted.error();
      out[name] = std::move(*converted);
    }
    return json::value(std::move(out));
  }

  const std::string& source_;
};

core::Result<ServiceDefinition> definition(Translator& t, const json::value& v,
                                           const std::string& path) {
  core::Result<json::object> body = t.object(v, path, kServiceFields);
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
    std::string norm = normalize(key);
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
