#include "core/config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <thread>
#include <tuple>

#include "core/detail/config_audit.h"
#include "core/detail/config_hcl.h"
#include "core/detail/config_services.h"
#include "core/duration.h"
#include "core/flags.h"
#include "core/hcl.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/strings.h"

namespace pc::core {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// More HTTP threads than this is a typo, not a plan: the host has a handful of cores and
// blocking queries park as coroutines, not threads.
constexpr int kHttpThreadsMax = 256;
// Consul's node metadata limits (agent/structs: metaMaxKeyPairs, metaKeyMaxLength,
// metaValueMaxLength, metaKeyReservedPrefix).
constexpr std::size_t kNodeMetaPairsMax = 64;
constexpr std::size_t kNodeMetaKeySizeMax = 128;
constexpr std::size_t kNodeMetaValueSizeMax = 512;
constexpr std::string_view kNodeMetaReservedPrefix = "consul-";
// A DNS label (RFC 1035); longer node names cannot be looked up by DNS.
constexpr std::size_t kDnsLabelSizeMax = 63;

// ---------------------------------------------------------------------------------------
// Schema: the keys a config file may hold and the JSON type of each.

enum class Kind {
  kString,
  kBool,
  kInt,
  kStringList,
  kStringMap,
  kPorts,
  kDnsConfig,
  kDnsSoa,
  kPerformance,
  kAutopilot,
  kGossipLan,
  kTls,
  kTlsBlock,
  kTlsInternalRpc,
  kTlsGrpc,
  kGossipWan,
  kAcl,
  kAclTokens,
  kAudit
};

struct KeySpec {
  std::string_view name;
  Kind kind;
};

constexpr KeySpec kKeys[] = {
    {"datacenter", Kind::kString},
    {"node_name", Kind::kString},
    {"node_id", Kind::kString},
    {"data_dir", Kind::kString},
    {"server", Kind::kBool},
    {"bootstrap", Kind::kBool},
    {"bootstrap_expect", Kind::kInt},
    {"bind_addr", Kind::kString},
    {"client_addr", Kind::kString},
    {"advertise_addr", Kind::kString},
    {"ports", Kind::kPorts},
    {"retry_join", Kind::kStringList},
    {"log_level", Kind::kString},
    {"log_json", Kind::kBool},
    {"node_meta", Kind::kStringMap},
    {"domain", Kind::kString},
    {"alt_domain", Kind::kString},
    {"recursors", Kind::kStringList},
    {"dns_config", Kind::kDnsConfig},
    {"performance", Kind::kPerformance},
    {"autopilot", Kind::kAutopilot},
    {"raft_snapshot_threshold", Kind::kInt},
    {"raft_trailing_logs", Kind::kInt},
    {"session_ttl_min", Kind::kString},
    {"http_threads", Kind::kInt},
    {"enable_script_checks", Kind::kBool},
    {"enable_local_script_checks", Kind::kBool},
    {"check_update_interval", Kind::kString},
    {"check_deregister_interval_min", Kind::kString},
    {"check_reap_interval", Kind::kString},
    {"ae_interval", Kind::kString},
    {"tombstone_ttl", Kind::kString},
    {"disable_coordinates", Kind::kBool},
    {"sync_coordinate_interval_min", Kind::kString},
    {"coordinate_update_period", Kind::kString},
    {"gossip_lan", Kind::kGossipLan},
    {"reconnect_timeout", Kind::kString},
    {"encrypt", Kind::kString},
    {"encrypt_verify_incoming", Kind::kBool},
    {"encrypt_verify_outgoing", Kind::kBool},
    {"start_join", Kind::kStringList},
    {"retry_interval", Kind::kString},
    {"retry_max", Kind::kInt},
    {"tls", Kind::kTls},
    // Consul's deprecated top-level TLS keys, still read: they fill what `tls` leaves unset.
    {"ca_file", Kind::kString},
    {"ca_path", Kind::kString},
    {"cert_file", Kind::kString},
    {"key_file", Kind::kString},
    {"verify_incoming", Kind::kBool},
    {"verify_outgoing", Kind::kBool},
    {"verify_server_hostname", Kind::kBool},
    {"tls_min_version", Kind::kString},
    {"tls_cipher_suites", Kind::kString},
    {"gossip_wan", Kind::kGossipWan},
    {"advertise_addr_wan", Kind::kString},
    {"retry_join_wan", Kind::kStringList},
    {"start_join_wan", Kind::kStringList},
    {"retry_interval_wan", Kind::kString},
    {"acl", Kind::kAcl},
    {"audit", Kind::kAudit},
    {"primary_datacenter", Kind::kString},
    {"acl_datacenter", Kind::kString},
};

constexpr std::string_view kPortKeys[] = {"http",     "https",    "dns", "server",
                                          "serf_lan", "serf_wan", "grpc"};

constexpr KeySpec kDnsConfigKeys[] = {
    {"node_ttl", Kind::kString},
    {"service_ttl", Kind::kStringMap},
    {"only_passing", Kind::kBool},
    {"a_record_limit", Kind::kInt},
    {"udp_answer_limit", Kind::kInt},
    {"enable_truncate", Kind::kBool},
    {"allow_stale", Kind::kBool},
    {"max_stale", Kind::kString},
    {"soa", Kind::kDnsSoa},
    {"enable_additional_node_meta_txt", Kind::kBool},
    {"recursor_timeout", Kind::kString},
    {"recursor_strategy", Kind::kString},
};

constexpr KeySpec kPerformanceKeys[] = {
    {"raft_multiplier", Kind::kInt},
};

// Consul's autopilot keys. The last three belong to Consul Enterprise's redundancy zones and
// upgrade migrations: accepted, so a Consul configuration loads, and without effect.
constexpr KeySpec kAutopilotKeys[] = {
    {"cleanup_dead_servers", Kind::kBool},
    {"last_contact_threshold", Kind::kString},
    {"max_trailing_logs", Kind::kInt},
    {"min_quorum", Kind::kInt},
    {"server_stabilization_time", Kind::kString},
    {"redundancy_zone_tag", Kind::kString},
    {"disable_upgrade_migration", Kind::kBool},
    {"upgrade_version_tag", Kind::kString},
};

constexpr KeySpec kGossipLanKeys[] = {
    {"gossip_nodes", Kind::kInt},         {"gossip_interval", Kind::kString},
    {"probe_interval", Kind::kString},    {"probe_timeout", Kind::kString},
    {"retransmit_mult", Kind::kInt},      {"suspicion_mult", Kind::kInt},
    {"reconnect_timeout", Kind::kString},
};

// The `tls` stanza (core/tls_config.h): verify_server_hostname belongs to internal_rpc only,
// and gRPC has use_auto_cert instead of verify_outgoing (auto TLS is not implemented; the key
// is accepted so a Consul configuration loads).
constexpr KeySpec kTlsKeys[] = {{"defaults", Kind::kTlsBlock},
                                {"internal_rpc", Kind::kTlsInternalRpc},
                                {"https", Kind::kTlsBlock},
                                {"grpc", Kind::kTlsGrpc}};
constexpr KeySpec kTlsBlockKeys[] = {
    {"ca_file", Kind::kString},         {"ca_path", Kind::kString},
    {"cert_file", Kind::kString},       {"key_file", Kind::kString},
    {"tls_min_version", Kind::kString}, {"tls_cipher_suites", Kind::kString},
    {"verify_incoming", Kind::kBool},   {"verify_outgoing", Kind::kBool},
};
constexpr KeySpec kTlsInternalRpcKeys[] = {
    {"ca_file", Kind::kString},
    {"ca_path", Kind::kString},
    {"cert_file", Kind::kString},
    {"key_file", Kind::kString},
    {"tls_min_version", Kind::kString},
    {"tls_cipher_suites", Kind::kString},
    {"verify_incoming", Kind::kBool},
    {"verify_outgoing", Kind::kBool},
    {"verify_server_hostname", Kind::kBool},
};
constexpr KeySpec kTlsGrpcKeys[] = {
    {"ca_file", Kind::kString},         {"ca_path", Kind::kString},
    {"cert_file", Kind::kString},       {"key_file", Kind::kString},
    {"tls_min_version", Kind::kString}, {"tls_cipher_suites", Kind::kString},
    {"verify_incoming", Kind::kBool},   {"use_auto_cert", Kind::kBool},
};

// Consul's acl block. token_ttl bounds how long a client agent keeps a resolved token;
// policy_ttl and role_ttl tune Consul's separate policy and role caches, which here are part
// of the token's entry: accepted, without effect. Servers resolve from their own tables and
// cache nothing past a change.
constexpr KeySpec kAclKeys[] = {
    {"enabled", Kind::kBool},
    {"default_policy", Kind::kString},
    {"down_policy", Kind::kString},
    {"enable_token_persistence", Kind::kBool},
    {"enable_token_replication", Kind::kBool},
    {"token_ttl", Kind::kString},
    {"policy_ttl", Kind::kString},
    {"role_ttl", Kind::kString},
    {"tokens", Kind::kAclTokens},
};

constexpr KeySpec kAclTokensKeys[] = {
    {"initial_management", Kind::kString},
    {"master", Kind::kString},
    {"agent", Kind::kString},
    {"default", Kind::kString},
    {"replication", Kind::kString},
    {"agent_recovery", Kind::kString},
    {"agent_master", Kind::kString},
    {"dns", Kind::kString},
    {"config_file_service_registration", Kind::kString},
};

constexpr KeySpec kDnsSoaKeys[] = {
    {"refresh", Kind::kInt},
    {"retry", Kind::kInt},
    {"expire", Kind::kInt},
    {"min_ttl", Kind::kInt},
};

std::string_view json_kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "bool";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "value";
}

std::string expected(std::string_view path, std::string_view what, const json::value& got) {
  return std::string(path) + ": expected " + std::string(what) + ", got " +
         std::string(json_kind_name(got));
}

// Reads an integral JSON number into `out`; an error reason otherwise.
std::string json_int(const json::value& v, std::string_view path, int& out) {
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
      return std::string(path) + ": value out of range";
    }
    n = static_cast<std::int64_t>(v.get_uint64());
  } else if (v.is_double()) {
    double d = v.get_double();
    if (d != static_cast<double>(static_cast<std::int64_t>(d)) || d > 1e18 || d < -1e18) {
      std::ostringstream text;
      text << d;
      return std::string(path) + ": expected an integer, got " + text.str();
    }
    n = static_cast<std::int64_t>(d);
  } else {
    return expected(path, "a number", v);
  }
  if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
    return std::string(path) + ": value out of range";
  }
  out = static_cast<int>(n);
  return "";
}

template <std::size_t N>
std::string check_object(const json::value& v, const std::string& path, const KeySpec (&specs)[N]);

// Checks one value against its kind; returns an error reason naming the key path.
std::string check_value(const json::value& v, Kind kind, const std::string& path) {
  switch (kind) {
    case Kind::kString: return v.is_string() ? "" : expected(path, "a string", v);
    case Kind::kBool: return v.is_bool() ? "" : expected(path, "a boolean", v);
    case Kind::kInt: {
      int ignored = 0;
      return json_int(v, path, ignored);
    }
    case Kind::kStringList: {
      // Consul's decoder also takes one comma-separated string (StringToSliceHookFunc).
      if (v.is_string()) return "";
      if (!v.is_array()) return expected(path, "a list of strings", v);
      const json::array& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_string()) {
          return expected(path + "[" + std::to_string(i) + "]", "a string", a[i]);
        }
      }
      return "";
    }
    case Kind::kStringMap: {
      if (!v.is_object()) return expected(path, "an object", v);
      for (const auto& [k, item] : v.get_object()) {
        if (!item.is_string()) {
          return expected(path + "." + std::string(k), "a string", item);
        }
      }
      return "";
    }
    case Kind::kPorts: {
      if (!v.is_object()) return expected(path, "an object", v);
      for (const auto& [k, item] : v.get_object()) {
        std::string key(k);
        bool known =
            std::find(std::begin(kPortKeys), std::end(kPortKeys), key) != std::end(kPortKeys);
        if (!known) return "unknown key \"" + path + "." + key + "\"";
        std::string why = check_value(item, Kind::kInt, path + "." + key);
        if (!why.empty()) return why;
      }
      return "";
    }
    case Kind::kDnsConfig: return check_object(v, path, kDnsConfigKeys);
    case Kind::kDnsSoa: return check_object(v, path, kDnsSoaKeys);
    case Kind::kPerformance: return check_object(v, path, kPerformanceKeys);
    case Kind::kAutopilot: return check_object(v, path, kAutopilotKeys);
    case Kind::kGossipLan: return check_object(v, path, kGossipLanKeys);
    case Kind::kTls: return check_object(v, path, kTlsKeys);
    case Kind::kTlsBlock: return check_object(v, path, kTlsBlockKeys);
    case Kind::kTlsInternalRpc: return check_object(v, path, kTlsInternalRpcKeys);
    case Kind::kTlsGrpc: return check_object(v, path, kTlsGrpcKeys);
    case Kind::kGossipWan: return check_object(v, path, kGossipLanKeys);
    case Kind::kAcl: return check_object(v, path, kAclKeys);
    case Kind::kAclTokens: return check_object(v, path, kAclTokensKeys);
    case Kind::kAudit: return detail::check_audit(v, path);
  }
  return "";
}

// A nested object whose keys are `specs`: an unknown one is named with its path.
template <std::size_t N>
std::string check_object(const json::value& v, const std::string& path, const KeySpec (&specs)[N]) {
  if (!v.is_object()) return expected(path, "an object", v);
  for (const auto& [k, item] : v.get_object()) {
    std::string key(k);
    const KeySpec* spec = nullptr;
    for (const KeySpec& s : specs) {
      if (s.name == key) spec = &s;
    }
    if (spec == nullptr) return "unknown key \"" + path + "." + key + "\"";
    std::string why = check_value(item, spec->kind, path + "." + key);
    if (!why.empty()) return why;
  }
  return "";
}

std::string check_source(const json::object& obj) {
  for (const auto& [k, v] : obj) {
    std::string key(k);
    const KeySpec* spec = nullptr;
    for (const KeySpec& s : kKeys) {
      if (s.name == key) spec = &s;
    }
    if (spec == nullptr) return "unknown key \"" + key + "\"";
    std::string why = check_value(v, spec->kind, key);
    if (!why.empty()) return why;
  }
  return "";
}

// ---------------------------------------------------------------------------------------
// Sources.

struct Source {
  std::string name;
  json::object data;
};

struct LoadState {
  std::vector<Source> files;
  std::vector<std::string> warnings;
  std::vector<ConfigDefinition> services;  // service definitions of every file, in order
  std::vector<ConfigDefinition> checks;
};

// Takes the service and check definitions out of a file's object (they do not merge: each
// one registers) and reads them from the file's tree, which knows their lines. `tree` is the
// HCL file's, or null for a JSON file, which is then read again as a tree only if it holds
// definitions.
Status take_definitions(const std::string& path, std::string_view data, const hcl::Value* tree,
                        json::object& obj, LoadState& state) {
  bool any = false;
  for (std::string_view key : detail::kDefinitionKeys) any = obj.erase(key) > 0 || any;
  if (!any) return ok();
  Result<hcl::Value> parsed = hcl::Value{};
  if (tree == nullptr) {
    parsed = hcl::parse_json(data);
    if (!parsed) {
      return make_error(Code::kInvalidArgument,
                        "Error parsing " + path + ": " + parsed.error().message);
    }
    tree = &*parsed;
  }
  return detail::read_config_definitions(*tree, path, state.services, state.checks);
}

std::string errno_text(int err) {
  std::string text = std::strerror(err);
  return text;
}

std::pair<std::size_t, std::size_t> line_column(std::string_view data, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < data.size(); ++i) {
    if (data[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

Status parse_file(const std::string& path, LoadState& state) {
  auto parse_error = [&](const std::string& why) {
    return make_error(Code::kInvalidArgument, "Error parsing " + path + ": " + why);
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(Code::kIoError,
                      "Error reading config file " + path + ": " + errno_text(errno));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return make_error(Code::kIoError,
                      "Error reading config file " + path + ": " + errno_text(errno));
  }
  std::string data = buffer.str();
  // An empty or blank file is no source at all (Consul's ErrNoData).
  if (data.find_first_not_of(" \t\r\n") == std::string::npos) return ok();
  json::value root;
  Result<hcl::Value> tree = hcl::Value{};
  if (path.ends_with(".hcl")) {
    // HCL becomes the JSON object Consul's equivalence gives; the checks below are shared.
    tree = hcl::parse(data);
    if (!tree) return parse_error(tree.error().message);
    root = detail::hcl_value_to_json(*tree);
  } else {
    json::stream_parser parser;
    boost::system::error_code ec;
    std::size_t used = parser.write(data.data(), data.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) {
      auto [line, column] = line_column(data, used);
      return parse_error("invalid JSON at line " + std::to_string(line) + ", column " +
                         std::to_string(column) + ": " + ec.message());
    }
    root = parser.release();
  }
  if (!root.is_object()) return parse_error("the top level must be a JSON object");
  json::object& obj = root.get_object();
  if (Status s =
          take_definitions(path, data, path.ends_with(".hcl") ? &*tree : nullptr, obj, state);
      !s) {
    return s;
  }
  std::string why = check_source(obj);
  if (!why.empty()) return parse_error(why);
  // One comma-separated string stands for a list (Consul's StringToSliceHookFunc); as an
  // array it appends like any other list when sources merge.
  for (std::string_view list_key :
       {"retry_join", "recursors", "start_join", "retry_join_wan", "start_join_wan"}) {
    auto it = obj.find(list_key);
    if (it == obj.end() || !it->value().is_string()) continue;
    json::array parts;
    for (std::string& part : split(it->value().get_string(), ',')) {
      if (!part.empty()) parts.emplace_back(part);
    }
    it->value() = std::move(parts);
  }
  state.files.push_back(Source{path, std::move(obj)});
  return ok();
}

// A file, or every *.json file of a directory in lexical order (not recursing), as Consul's
// sourcesFromPath; other extensions are skipped with a warning.
Status read_path(const std::string& path, LoadState& state) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found)
    ec = std::make_error_code(std::errc::no_such_file_or_directory);
  if (ec) {
    return make_error(Code::kIoError,
                      "Error reading config " + path + ": " + errno_text(ec.value()));
  }
  auto skip_warning = [&](const std::string& file) {
    state.warnings.push_back("skipping file " + file + ", extension must be .json");
  };
  if (!fs::is_directory(st)) {
    if (!path.ends_with(".json") && !path.ends_with(".hcl")) {
      skip_warning(path);
      return ok();
    }
    return parse_file(path, state);
  }
  std::vector<std::string> names;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    return make_error(Code::kIoError,
                      "Error reading config directory " + path + ": " + ec.message());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string file = (fs::path(path) / name).string();
    std::error_code entry_ec;
    if (fs::is_directory(file, entry_ec)) continue;  // follows symlinks, as Consul does
    if (!name.ends_with(".json") && !name.ends_with(".hcl")) {
      skip_warning(file);
      continue;
    }
    Status s = parse_file(file, state);
    if (!s) return s;
  }
  return ok();
}

// Consul's merge: objects key by key, arrays appended, everything else replaced.
void merge_into(json::object& dst, const json::object& src) {
  for (const auto& [k, v] : src) {
    auto it = dst.find(k);
    if (it == dst.end()) {
      dst[k] = v;
    } else if (it->value().is_object() && v.is_object()) {
      merge_into(it->value().get_object(), v.get_object());
    } else if (it->value().is_array() && v.is_array()) {
      for (const json::value& item : v.get_array()) it->value().get_array().push_back(item);
    } else {
      dst[k] = v;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Flags.

struct FlagValues {
  bool dev = false, server = false, bootstrap = false, log_json = false;
  bool enable_script_checks = false, enable_local_script_checks = false;
  int bootstrap_expect = 0;
  int http_port = 0, dns_port = 0, server_port = 0, serf_lan_port = 0, serf_wan_port = 0;
  std::string datacenter, node, node_id, data_dir, bind, client, advertise, log_level, domain;
  std::string alt_domain, encrypt;
  std::vector<std::string> retry_join;
  std::vector<std::string> recursors;
  std::vector<std::string> config_paths;
  std::vector<std::string> start_join;
  std::string retry_interval;
  int retry_max = 0;
  std::vector<std::string> retry_join_wan, start_join_wan;
  std::string advertise_wan;
  std::vector<std::pair<std::string, std::string>> node_meta;
};

// Consul's agent flags (agent/config/flags.go) that we implement; usage texts are ours.
void define_agent_flags(FlagSet& flags, FlagValues& v) {
  flags.add_string("advertise", &v.advertise, "Sets the advertise address to use.");
  flags.add_string("alt-domain", &v.alt_domain, "Alternate domain to use for DNS interface.");
  flags.add_string("bind", &v.bind, "Sets the bind address for cluster communication.");
  flags.add_bool("bootstrap", &v.bootstrap, "Sets server to bootstrap mode.");
  flags.add_int("bootstrap-expect", &v.bootstrap_expect, "Sets server to expect bootstrap mode.");
  flags.add_string("client", &v.client,
                   "Sets the address to bind for client access. This includes HTTP and DNS.");
  flags.add_strings("config-dir", &v.config_paths,
                    "Path to a directory to read configuration files from. This will read every "
                    "file ending in '.json' as configuration in this directory in alphabetical "
                    "order. Can be specified multiple times.");
  flags.add_strings("config-file", &v.config_paths,
                    "Path to a JSON file to read configuration from. Can be specified multiple "
                    "times.");
  flags.add_string("data-dir", &v.data_dir, "Path to a data directory to store agent state.");
  flags.add_string("datacenter", &v.datacenter, "Datacenter of the agent.");
  flags.add_bool("dev", &v.dev, "Starts the agent in development mode.");
  flags.add_int("dns-port", &v.dns_port, "DNS port to use.");
  flags.add_bool("enable-script-checks", &v.enable_script_checks,
                 "Enables health check scripts (checks with Args) registered through the "
                 "HTTP API.");
  flags.add_bool("enable-local-script-checks", &v.enable_local_script_checks,
                 "Enables health check scripts from configuration files only.");
  flags.add_string("domain", &v.domain, "Domain to use for DNS interface.");
  flags.add_string("encrypt", &v.encrypt, "Provides the gossip encryption key.");
  flags.add_int("http-port", &v.http_port, "Sets the HTTP API port to listen on.");
  flags.add_bool("log-json", &v.log_json, "Output logs in JSON format.");
  flags.add_string("log-level", &v.log_level, "Log level of the agent.");
  flags.add_string("node", &v.node, "Name of this node. Must be unique in the cluster.");
  flags.add_string("node-id", &v.node_id,
                   "A unique ID for this node across space and time. Defaults to a "
                   "randomly-generated ID that persists in the data-dir.");
  flags.add_value(
      "node-meta",
      [&v](std::string_view text) -> Status {
        // Consul's stringMapValue: split at the first ':'; no ':' means an empty value.
        std::size_t colon = text.find(':');
        if (colon == std::string_view::npos) {
          v.node_meta.emplace_back(std::string(text), "");
        } else {
          v.node_meta.emplace_back(std::string(text.substr(0, colon)),
                                   std::string(text.substr(colon + 1)));
        }
        return ok();
      },
      "An arbitrary metadata key/value pair for this node, of the format `key:value`. Can "
      "be specified multiple times.");
  flags.add_strings("recursor", &v.recursors,
                    "Address of an upstream DNS server. Can be specified multiple times.");
  flags.add_strings("retry-join", &v.retry_join,
                    "Address of an agent to join at start time with retries enabled. Can be "
                    "specified multiple times.");
  flags.add_strings("join", &v.start_join,
                    "Address of an agent to join at start time. Can be specified multiple times.");
  flags.add_string("retry-interval", &v.retry_interval, "Time to wait between join attempts.");
  flags.add_int("retry-max", &v.retry_max,
                "Maximum number of join attempts. Defaults to 0, which will retry indefinitely.");
  flags.add_bool("server", &v.server, "Switches agent to server mode.");
  flags.add_int("serf-lan-port", &v.serf_lan_port, "Sets the Serf LAN port to listen on.");
  flags.add_int("serf-wan-port", &v.serf_wan_port, "Sets the Serf WAN port to listen on.");
  flags.add_int("server-port", &v.server_port, "Sets the server port to listen on.");
  flags.add_string("advertise-wan", &v.advertise_wan,
                   "Sets address to advertise on WAN instead of -advertise address.");
  flags.add_strings("retry-join-wan", &v.retry_join_wan,
                    "Address of an agent to join -wan at start time with retries enabled. Can "
                    "be specified multiple times.");
  flags.add_strings("join-wan", &v.start_join_wan,
                    "Address of an agent to join -wan at start time. Can be specified multiple "
                    "times.");
}

// The command line as two config sources: slices (merged before the files, so flag entries
// come first) and values (merged last), as Consul's splitSlicesAndValues.
void flags_to_sources(const FlagSet& flags, const FlagValues& v, json::object& slices,
                      json::object& values) {
  if (!v.retry_join.empty()) {
    json::array a;
    for (const std::string& s : v.retry_join) a.emplace_back(s);
    slices["retry_join"] = std::move(a);
  }
  if (!v.recursors.empty()) {
    json::array a;
    for (const std::string& s : v.recursors) a.emplace_back(s);
    slices["recursors"] = std::move(a);
  }
  if (!v.start_join.empty()) {
    json::array a;
    for (const std::string& s : v.start_join) a.emplace_back(s);
    slices["start_join"] = std::move(a);
  }
  for (auto [key, list] : {std::pair<std::string_view, const std::vector<std::string>*>{
                               "retry_join_wan", &v.retry_join_wan},
                           {"start_join_wan", &v.start_join_wan}}) {
    if (list->empty()) continue;
    json::array a;
    for (const std::string& s : *list) a.emplace_back(s);
    slices[key] = std::move(a);
  }
  auto str = [&](std::string_view flag, std::string_view key, const std::string& value) {
    if (flags.is_set(flag)) values[key] = value;
  };
  auto boolean = [&](std::string_view flag, std::string_view key, bool value) {
    if (flags.is_set(flag)) values[key] = value;
  };
  str("datacenter", "datacenter", v.datacenter);
  str("node", "node_name", v.node);
  str("node-id", "node_id", v.node_id);
  str("data-dir", "data_dir", v.data_dir);
  str("bind", "bind_addr", v.bind);
  str("client", "client_addr", v.client);
  str("advertise", "advertise_addr", v.advertise);
  str("log-level", "log_level", v.log_level);
  str("domain", "domain", v.domain);
  str("alt-domain", "alt_domain", v.alt_domain);
  str("encrypt", "encrypt", v.encrypt);
  str("retry-interval", "retry_interval", v.retry_interval);
  if (flags.is_set("retry-max")) values["retry_max"] = v.retry_max;
  str("advertise-wan", "advertise_addr_wan", v.advertise_wan);
  boolean("server", "server", v.server);
  boolean("bootstrap", "bootstrap", v.bootstrap);
  boolean("log-json", "log_json", v.log_json);
  boolean("enable-script-checks", "enable_script_checks", v.enable_script_checks);
  boolean("enable-local-script-checks", "enable_local_script_checks", v.enable_local_script_checks);
  if (flags.is_set("bootstrap-expect")) values["bootstrap_expect"] = v.bootstrap_expect;
  json::object ports;
  auto port = [&](std::string_view flag, std::string_view key, int value) {
    if (flags.is_set(flag)) ports[key] = value;
  };
  port("http-port", "http", v.http_port);
  port("dns-port", "dns", v.dns_port);
  port("server-port", "server", v.server_port);
  port("serf-lan-port", "serf_lan", v.serf_lan_port);
  port("serf-wan-port", "serf_wan", v.serf_wan_port);
  if (!ports.empty()) values["ports"] = std::move(ports);
  if (!v.node_meta.empty()) {
    json::object meta;
    for (const auto& [k, val] : v.node_meta) meta[k] = val;
    values["node_meta"] = std::move(meta);
  }
}

// ---------------------------------------------------------------------------------------
// Decoding the merged (already type-checked) object.

std::string str_of(const json::value& v) {
  return std::string(v.get_string());
}

void decode_gossip_lan(const json::object& obj, GossipLanConfig& g) {
  for (const auto& [k, v] : obj) {
    std::string_view key = k;
    if (key == "gossip_nodes") (void)json_int(v, key, g.gossip_nodes);
    if (key == "gossip_interval") g.gossip_interval = str_of(v);
    if (key == "probe_interval") g.probe_interval = str_of(v);
    if (key == "probe_timeout") g.probe_timeout = str_of(v);
    if (key == "retransmit_mult") (void)json_int(v, key, g.retransmit_mult);
    if (key == "suspicion_mult") (void)json_int(v, key, g.suspicion_mult);
    if (key == "reconnect_timeout") g.reconnect_timeout = str_of(v);
  }
}

void decode_acl(const json::object& obj, AclConfig& a) {
  for (const auto& [k, v] : obj) {
    std::string_view key = k;
    if (key == "enabled") a.enabled = v.get_bool();
    if (key == "default_policy") a.default_policy = str_of(v);
    if (key == "down_policy") a.down_policy = str_of(v);
    if (key == "enable_token_persistence") a.enable_token_persistence = v.get_bool();
    if (key == "token_ttl") a.token_ttl = str_of(v);
    if (key == "enable_token_replication") a.enable_token_replication = v.get_bool();
    if (key != "tokens") continue;
    for (const auto& [tk, tv] : v.get_object()) {
      std::string_view t = tk;
      // "master" is the name before Consul 1.11; the newer key wins when both are set.
      if (t == "initial_management" || (t == "master" && a.initial_management.empty())) {
        a.initial_management = str_of(tv);
      }
      if (t == "agent") a.agent = str_of(tv);
      if (t == "default") a.default_token = str_of(tv);
      // "agent_master" is the name before Consul 1.11, as "master" is above.
      if (t == "agent_recovery" || (t == "agent_master" && a.agent_recovery.empty())) {
        a.agent_recovery = str_of(tv);
      }
      if (t == "replication") a.replication = str_of(tv);
      if (t == "dns") a.dns = str_of(tv);
      if (t == "config_file_service_registration") {
        a.config_file_service_registration = str_of(tv);
      }
    }
  }
}

void decode_dns_config(const json::object& obj, DnsConfig& d) {
  for (const auto& [k, v] : obj) {
    std::string_view key = k;
    if (key == "node_ttl") d.node_ttl = str_of(v);
    if (key == "only_passing") d.only_passing = v.get_bool();
    if (key == "a_record_limit") (void)json_int(v, key, d.a_record_limit);
    if (key == "udp_answer_limit") (void)json_int(v, key, d.udp_answer_limit);
    if (key == "enable_truncate") d.enable_truncate = v.get_bool();
    if (key == "allow_stale") d.allow_stale = v.get_bool();
    if (key == "max_stale") d.max_stale = str_of(v);
    if (key == "enable_additional_node_meta_txt") d.enable_additional_node_meta_txt = v.get_bool();
    if (key == "recursor_timeout") d.recursor_timeout = str_of(v);
    if (key == "recursor_strategy") d.recursor_strategy = str_of(v);
    if (key == "service_ttl") {
      for (const auto& [sk, sv] : v.get_object()) d.service_ttl[std::string(sk)] = str_of(sv);
    }
    if (key == "soa") {
      for (const auto& [sk, sv] : v.get_object()) {
        std::string_view f = sk;
        int* target = f == "refresh"  ? &d.soa.refresh
                      : f == "retry"  ? &d.soa.retry
                      : f == "expire" ? &d.soa.expire
                                      : &d.soa.min_ttl;
        (void)json_int(sv, f, *target);
      }
    }
  }
}

void decode_tls_block(const json::object& obj, TlsBlockSource& b) {
  for (const auto& [k, v] : obj) {
    std::string_view key = k;
    if (key == "ca_file") b.ca_file = str_of(v);
    if (key == "ca_path") b.ca_path = str_of(v);
    if (key == "cert_file") b.cert_file = str_of(v);
    if (key == "key_file") b.key_file = str_of(v);
    if (key == "tls_min_version") b.tls_min_version = str_of(v);
    if (key == "tls_cipher_suites") b.tls_cipher_suites = str_of(v);
    if (key == "verify_incoming") b.verify_incoming = v.get_bool();
    if (key == "verify_outgoing") b.verify_outgoing = v.get_bool();
    if (key == "verify_server_hostname") b.verify_server_hostname = v.get_bool();
  }
}

// The `tls` stanza and the deprecated top-level keys (which, as in Consul, count only where
// the stanza is silent), resolved into each listener's settings.
TlsConfig decode_tls(const json::object& obj) {
  TlsSource src;
  if (auto it = obj.find("tls"); it != obj.end()) {
    for (const auto& [k, v] : it->value().get_object()) {
      std::string_view key = k;
      TlsBlockSource* block = key == "defaults"       ? &src.defaults
                              : key == "internal_rpc" ? &src.internal_rpc
                              : key == "https"        ? &src.https
                                                      : &src.grpc;
      decode_tls_block(v.get_object(), *block);
    }
  }
  TlsBlockSource legacy;
  decode_tls_block(obj, legacy);
  auto fill = [](auto& field, const auto& old) {
    if (!field && old) field = old;
  };
  fill(src.defaults.ca_file, legacy.ca_file);
  fill(src.defaults.ca_path, legacy.ca_path);
  fill(src.defaults.cert_file, legacy.cert_file);
  fill(src.defaults.key_file, legacy.key_file);
  fill(src.defaults.tls_min_version, legacy.tls_min_version);
  fill(src.defaults.tls_cipher_suites, legacy.tls_cipher_suites);
  fill(src.defaults.verify_incoming, legacy.verify_incoming);
  fill(src.defaults.verify_outgoing, legacy.verify_outgoing);
  fill(src.internal_rpc.verify_server_hostname, legacy.verify_server_hostname);
  return resolve_tls(src);
}

void decode(const json::object& obj, AgentConfig& c) {
  c.tls = decode_tls(obj);
  for (const auto& [k, v] : obj) {
    std::string_view key = k;
    if (key == "datacenter") c.datacenter = str_of(v);
    // acl_datacenter is the name before Consul 1.4; primary_datacenter wins when both are set.
    if (key == "primary_datacenter") c.primary_datacenter = str_of(v);
    if (key == "acl_datacenter" && c.primary_datacenter.empty()) {
      c.primary_datacenter = str_of(v);
    }
    if (key == "node_name") c.node_name = str_of(v);
    if (key == "node_id") c.node_id = str_of(v);
    if (key == "data_dir") c.data_dir = str_of(v);
    if (key == "server") c.server = v.get_bool();
    if (key == "bootstrap") c.bootstrap = v.get_bool();
    if (key == "bootstrap_expect") (void)json_int(v, key, c.bootstrap_expect);
    if (key == "bind_addr") c.bind_addr = str_of(v);
    if (key == "client_addr") c.client_addr = str_of(v);
    if (key == "advertise_addr") c.advertise_addr = str_of(v);
    if (key == "log_level") c.log_level = str_of(v);
    if (key == "log_json") c.log_json = v.get_bool();
    if (key == "domain") c.domain = str_of(v);
    if (key == "alt_domain") c.alt_domain = str_of(v);
    if (key == "recursors") {
      for (const json::value& item : v.get_array()) c.recursors.push_back(str_of(item));
    }
    if (key == "session_ttl_min") c.session_ttl_min = str_of(v);
    if (key == "http_threads") (void)json_int(v, key, c.http_threads);
    if (key == "enable_script_checks") c.enable_script_checks = v.get_bool();
    if (key == "enable_local_script_checks") c.enable_local_script_checks = v.get_bool();
    if (key == "check_update_interval") c.check_update_interval = str_of(v);
    if (key == "check_deregister_interval_min") c.check_deregister_interval_min = str_of(v);
    if (key == "check_reap_interval") c.check_reap_interval = str_of(v);
    if (key == "ae_interval") c.ae_interval = str_of(v);
    if (key == "tombstone_ttl") c.tombstone_ttl = str_of(v);
    if (key == "reconnect_timeout") c.reconnect_timeout = str_of(v);
    if (key == "disable_coordinates") c.disable_coordinates = v.get_bool();
    if (key == "sync_coordinate_interval_min") c.sync_coordinate_interval_min = str_of(v);
    if (key == "coordinate_update_period") c.coordinate_update_period = str_of(v);
    if (key == "retry_join") {
      for (const json::value& item : v.get_array()) c.retry_join.push_back(str_of(item));
    }
    if (key == "start_join") {
      for (const json::value& item : v.get_array()) c.start_join.push_back(str_of(item));
    }
    if (key == "retry_interval") c.retry_interval = str_of(v);
    if (key == "retry_max") (void)json_int(v, key, c.retry_max);
    if (key == "node_meta") {
      for (const auto& [mk, mv] : v.get_object()) c.node_meta[std::string(mk)] = str_of(mv);
    }
    if (key == "dns_config") decode_dns_config(v.get_object(), c.dns_config);
    if (key == "raft_snapshot_threshold") (void)json_int(v, key, c.raft_snapshot_threshold);
    if (key == "raft_trailing_logs") (void)json_int(v, key, c.raft_trailing_logs);
    if (key == "autopilot") {
      for (const auto& [ak, av] : v.get_object()) {
        std::string_view a = ak;
        if (a == "cleanup_dead_servers") c.autopilot.cleanup_dead_servers = av.get_bool();
        if (a == "last_contact_threshold") c.autopilot.last_contact_threshold = str_of(av);
        if (a == "max_trailing_logs") (void)json_int(av, a, c.autopilot.max_trailing_logs);
        if (a == "min_quorum") (void)json_int(av, a, c.autopilot.min_quorum);
        if (a == "server_stabilization_time") c.autopilot.server_stabilization_time = str_of(av);
      }
    }
    if (key == "gossip_lan") decode_gossip_lan(v.get_object(), c.gossip_lan);
    if (key == "gossip_wan") decode_gossip_lan(v.get_object(), c.gossip_wan);
    if (key == "advertise_addr_wan") c.advertise_addr_wan = str_of(v);
    if (key == "retry_interval_wan") c.retry_interval_wan = str_of(v);
    if (key == "retry_join_wan") {
      for (const json::value& item : v.get_array()) c.retry_join_wan.push_back(str_of(item));
    }
    if (key == "start_join_wan") {
      for (const json::value& item : v.get_array()) c.start_join_wan.push_back(str_of(item));
    }
    if (key == "acl") decode_acl(v.get_object(), c.acl);
    if (key == "audit") detail::decode_audit(v.get_object(), c.audit);
    if (key == "encrypt") c.encrypt = str_of(v);
    if (key == "encrypt_verify_incoming") c.encrypt_verify_incoming = v.get_bool();
    if (key == "encrypt_verify_outgoing") c.encrypt_verify_outgoing = v.get_bool();
    if (key == "performance") {
      for (const auto& [pk, pv] : v.get_object()) {
        if (std::string_view(pk) == "raft_multiplier") {
          (void)json_int(pv, std::string_view(pk), c.raft_multiplier);
        }
      }
    }
    if (key == "ports") {
      for (const auto& [pk, pv] : v.get_object()) {
        std::string_view p = pk;
        int* target = p == "http"       ? &c.ports.http
                      : p == "https"    ? &c.ports.https
                      : p == "dns"      ? &c.ports.dns
                      : p == "server"   ? &c.ports.server
                      : p == "serf_lan" ? &c.ports.serf_lan
                      : p == "serf_wan" ? &c.ports.serf_wan
                                        : &c.ports.grpc;
        (void)json_int(pv, p, *target);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Validation, in the order of Consul's builder.build() and validate().

Error invalid(std::string message) {
  return make_error(Code::kInvalidArgument, std::move(message));
}

bool is_ip(const std::string& text) {
  in_addr v4{};
  in6_addr v6{};
  std::string bare = text;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  return inet_pton(AF_INET, bare.c_str(), &v4) == 1 || inet_pton(AF_INET6, bare.c_str(), &v6) == 1;
}

bool is_any_ip(const std::string& text) {
  return text == "0.0.0.0" || text == "::" || text == "[::]";
}

std::vector<std::string> fields(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

bool basic_name_ok(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool dns_label_chars_ok(std::string_view s) {
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status validate_ports(AgentConfig& c) {
  struct Port {
    std::string_view name;
    int* value;
  };
  const Port ports[] = {{"ports.dns", &c.ports.dns},          {"ports.http", &c.ports.http},
                        {"ports.https", &c.ports.https},      {"ports.server", &c.ports.server},
                        {"ports.grpc", &c.ports.grpc},        {"ports.serf_lan", &c.ports.serf_lan},
                        {"ports.serf_wan", &c.ports.serf_wan}};
  for (const Port& p : ports) {
    // Consul's portVal: negative disables; ours keeps 0 as "ephemeral".
    if (*p.value < 0) *p.value = -1;
    if (*p.value > 65535) {
      return invalid(std::string(p.name) + ": invalid port: " + std::to_string(*p.value));
    }
  }
  // Consul starts no HTTPS listener without a certificate to serve.
  if (c.ports.https != -1 && !c.tls.https.has_cert()) {
    c.warnings.push_back(
        "ports.https: no tls.https (or tls.defaults) cert_file and key_file; HTTPS is not "
        "opened");
  }
  if (c.ports.grpc != -1) {
    c.warnings.push_back("ports.grpc: gRPC is not supported yet; the port is not opened");
  }
  return ok();
}

Status validate_addresses(const AgentConfig& c, std::vector<std::string>& warnings) {
  std::vector<std::string> bind = fields(c.bind_addr);
  if (bind.empty()) return invalid("bind_addr cannot be empty");
  if (bind.size() > 1) return invalid("bind_addr cannot contain multiple addresses");
  if (!is_ip(bind[0])) return invalid("bind_addr: invalid ip address: " + bind[0]);
  if (!c.advertise_addr.empty()) {
    if (is_any_ip(c.advertise_addr)) {
      return invalid("Advertise address cannot be 0.0.0.0, :: or [::]");
    }
    if (!is_ip(c.advertise_addr)) {
      return invalid("advertise_addr: invalid ip address: " + c.advertise_addr);
    }
  }
  std::vector<std::string> client = fields(c.client_addr);
  if (client.empty()) {
    warnings.push_back(
        "client_addr is empty, client services (DNS, HTTP) will not be listening for "
        "connections");
  }
  for (const std::string& a : client) {
    if (!is_ip(a)) return invalid("client_addr: invalid ip address: " + a);
  }
  return ok();
}

Status validate_node_meta(const AgentConfig& c) {
  if (c.node_meta.size() > kNodeMetaPairsMax) {
    return invalid("node_meta invalid: Node metadata cannot contain more than " +
                   std::to_string(kNodeMetaPairsMax) + " key/value pairs");
  }
  for (const auto& [k, v] : c.node_meta) {
    std::string why;
    bool key_chars_ok = !k.empty() && std::all_of(k.begin(), k.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '_' || ch == '-';
    });
    if (k.empty()) {
      why = "Key cannot be blank";
    } else if (!key_chars_ok) {
      why = "Key contains invalid characters";
    } else if (k.size() > kNodeMetaKeySizeMax) {
      why = "Key is too long (limit: " + std::to_string(kNodeMetaKeySizeMax) + " characters)";
    } else if (starts_with(k, kNodeMetaReservedPrefix)) {
      why =
          "Key prefix '" + std::string(kNodeMetaReservedPrefix) + "' is reserved for internal use";
    } else if (v.size() > kNodeMetaValueSizeMax) {
      why = "Value is too long (limit: " + std::to_string(kNodeMetaValueSizeMax) + " characters)";
    }
    if (!why.empty()) {
      return invalid("node_meta invalid: Couldn't load metadata pair ('" + k + "', '" + v +
                     "'): " + why);
    }
  }
  return ok();
}

Status validate_bootstrap(const AgentConfig& c) {
  if (c.bootstrap && !c.server) return invalid("'bootstrap = true' requires 'server = true'");
  if (c.bootstrap_expect < 0) {
    return invalid("bootstrap_expect cannot be " + std::to_string(c.bootstrap_expect) +
                   ". Must be greater than or equal to zero");
  }
  if (c.bootstrap_expect > 0 && !c.server) {
    return invalid("'bootstrap_expect > 0' requires 'server = true'");
  }
  if (c.bootstrap_expect > 0 && c.dev) {
    return invalid("'bootstrap_expect > 0' not allowed in dev mode");
  }
  if (c.bootstrap_expect > 0 && c.bootstrap) {
    return invalid("'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive");
  }
  return ok();
}

// Datacenter, data_dir, node name and node ID.
Status validate_identity(AgentConfig& c) {
  c.datacenter = to_lower(c.datacenter);
  c.primary_datacenter = to_lower(c.primary_datacenter);
  if (c.datacenter.empty()) return invalid("datacenter cannot be empty");
  if (!basic_name_ok(c.datacenter)) {
    return invalid("datacenter can only contain lowercase alphanumeric, - or _ characters. " +
                   std::string("received: \"") + c.datacenter + "\"");
  }
  if (c.data_dir.empty() && !c.dev) return invalid("data_dir cannot be empty");
  if (!c.data_dir.empty() && !c.dev) {
    std::error_code ec;
    fs::file_status st = fs::status(c.data_dir, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return invalid("Error getting info on data_dir: " + ec.message());
    }
    if (!ec && !fs::is_directory(st)) {
      return invalid("data_dir \"" + c.data_dir + "\" is not a directory");
    }
  }
  if (c.node_name.empty()) return invalid("node_name cannot be empty");
  if (!dns_label_chars_ok(c.node_name)) {
    c.warnings.push_back("Node name \"" + c.node_name +
                         "\" will not be discoverable via DNS due to invalid characters. "
                         "Valid characters include all alpha-numerics and dashes.");
  } else if (c.node_name.size() > kDnsLabelSizeMax) {
    c.warnings.push_back("Node name \"" + c.node_name +
                         "\" will not be discoverable via DNS due to it being too long. "
                         "Valid lengths are between 1 and 63 bytes.");
  }
  if (!c.node_id.empty()) {
    c.node_id = to_lower(c.node_id);
    if (!is_uuid(c.node_id)) {
      return invalid("node_id: \"" + c.node_id + "\" is not a valid UUID");
    }
  }
  return ok();
}

Status check_duration(const std::string& key, const std::string& text) {
  Result<Duration> d = parse_go_duration(text);
  if (!d) return invalid(key + ": invalid duration: \"" + text + "\": " + d.error().message);
  if (d->count() < 0) return invalid(key + " cannot be negative");
  return ok();
}

// "Consul." and "consul" name the same domain.
std::string lower_fqdn(std::string_view name) {
  std::string out;
  for (char ch : name) out += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

Status validate_dns_config(const DnsConfig& d) {
  Status s = check_duration("dns_config.node_ttl", d.node_ttl);
  if (!s) return s;
  for (const auto& [name, ttl] : d.service_ttl) {
    s = check_duration("dns_config.service_ttl." + name, ttl);
    if (!s) return s;
  }
  s = check_duration("dns_config.max_stale", d.max_stale);
  if (!s) return s;
  s = check_duration("dns_config.recursor_timeout", d.recursor_timeout);
  if (!s) return s;
  if (d.recursor_strategy != "sequential" && d.recursor_strategy != "random") {
    return invalid("dns_config.recursor_strategy: unknown strategy \"" + d.recursor_strategy +
                   "\" (sequential or random)");
  }
  if (d.a_record_limit < 0) return invalid("dns_config.a_record_limit cannot be negative");
  if (d.udp_answer_limit < 0) return invalid("dns_config.udp_answer_limit cannot be negative");
  for (auto [key, value] : {std::pair<std::string_view, int>{"refresh", d.soa.refresh},
                            {"retry", d.soa.retry},
                            {"expire", d.soa.expire},
                            {"min_ttl", d.soa.min_ttl}}) {
    if (value < 0) return invalid("dns_config.soa." + std::string(key) + " cannot be negative");
  }
  return ok();
}

// gossip_lan / gossip_wan (`pool`): positive durations and counts, the probe timeout within
// the interval (what the gossip core requires of its Config).
Status validate_gossip_lan(const GossipLanConfig& g, const std::string& pool = "gossip_lan") {
  const std::string interval = pool + ".probe_interval", timeout = pool + ".probe_timeout";
  std::map<std::string, Duration> d;
  for (auto [key, text] :
       {std::pair<std::string, const std::string*>{pool + ".gossip_interval", &g.gossip_interval},
        {interval, &g.probe_interval},
        {timeout, &g.probe_timeout}}) {
    Result<Duration> parsed = parse_go_duration(*text);
    if (!parsed) {
      return invalid(key + ": invalid duration: \"" + *text + "\": " + parsed.error().message);
    }
    if (parsed->count() <= 0) return invalid(key + " must be positive");
    d[key] = *parsed;
  }
  if (d[timeout] > d[interval]) {
    return invalid(timeout + " cannot be longer than " + interval);
  }
  for (auto [key, value] : {std::pair<std::string, int>{pool + ".gossip_nodes", g.gossip_nodes},
                            {pool + ".retransmit_mult", g.retransmit_mult},
                            {pool + ".suspicion_mult", g.suspicion_mult}}) {
    if (value < 1) return invalid(key + " must be at least 1");
  }
  return ok();
}

// reconnect_timeout: Consul's lower bound of 8h; the gossip_lan test key only positive.
Status validate_reconnect_timeout(const AgentConfig& c) {
  for (auto [key, text, min] :
       {std::tuple<std::string_view, const std::string*, Duration>{
            "reconnect_timeout", &c.reconnect_timeout, std::chrono::hours(8)},
        {"gossip_lan.reconnect_timeout", &c.gossip_lan.reconnect_timeout, Duration(1)}}) {
    if (text->empty() && key != "reconnect_timeout") continue;
    Result<Duration> d = parse_go_duration(*text);
    if (!d) {
      return invalid(std::string(key) + ": invalid duration: \"" + *text +
                     "\": " + d.error().message);
    }
    if (*d < min) {
      return invalid(key == "reconnect_timeout" ? "reconnect_timeout must be >= 8h"
                                                : std::string(key) + " must be positive");
    }
  }
  return ok();
}

// The WAN pool's keys: gossip_wan as gossip_lan, advertise_addr_wan as advertise_addr, a
// non-negative retry_interval_wan.
Status validate_wan(const AgentConfig& c) {
  Status s = validate_gossip_lan(c.gossip_wan, "gossip_wan");
  if (!s) return s;
  if (!c.advertise_addr_wan.empty()) {
    if (is_any_ip(c.advertise_addr_wan)) {
      return invalid("Advertise WAN address cannot be 0.0.0.0, :: or [::]");
    }
    if (!is_ip(c.advertise_addr_wan)) {
      return invalid("advertise_addr_wan: invalid ip address: " + c.advertise_addr_wan);
    }
  }
  Result<Duration> d = parse_go_duration(c.retry_interval_wan);
  if (!d) {
    return invalid("retry_interval_wan: invalid duration: \"" + c.retry_interval_wan +
                   "\": " + d.error().message);
  }
  if (d->count() <= 0) return invalid("retry_interval_wan must be positive");
  return ok();
}

// encrypt: Consul's check (agent/config: "encrypt has invalid key"): base64 of an AES key.
Status validate_encrypt(const std::string& key) {
  if (key.empty()) return ok();
  std::string bytes;
  if (!base64_decode(key, bytes)) return invalid("encrypt has invalid key: not base64");
  if (bytes.size() != 16 && bytes.size() != 24 && bytes.size() != 32) {
    return invalid("encrypt has invalid key: " + std::to_string(bytes.size()) +
                   " bytes; a key is 16, 24 or 32 bytes");
  }
  return ok();
}

Status validate_acl(const AclConfig& a) {
  if (a.default_policy != "allow" && a.default_policy != "deny") {
    return invalid("acl.default_policy: must be \"allow\" or \"deny\", got \"" + a.default_policy +
                   "\"");
  }
  if (a.down_policy != "allow" && a.down_policy != "deny" && a.down_policy != "extend-cache" &&
      a.down_policy != "async-cache") {
    return invalid(
        "acl.down_policy: must be one of allow, deny, extend-cache, async-cache; got \"" +
        a.down_policy + "\"");
  }
  return check_duration("acl.token_ttl", a.token_ttl);
}

Status validate(AgentConfig& c) {
  Status s = validate_ports(c);
  if (!s) return s;
  s = validate_acl(c.acl);
  if (!s) return s;
  s = detail::validate_audit(c.audit, c.acl.enabled, c.warnings);
  if (!s) return s;
  // Consul turns bootstrap_expect = 1 into bootstrap mode before validating.
  if (c.bootstrap_expect == 1) {
    c.bootstrap = true;
    c.bootstrap_expect = 0;
    c.warnings.push_back("BootstrapExpect is set to 1; this is the same as Bootstrap mode.");
  }
  s = validate_identity(c);
  if (!s) return s;
  s = validate_addresses(c, c.warnings);
  if (!s) return s;
  s = validate_bootstrap(c);
  if (!s) return s;
  s = validate_node_meta(c);
  if (!s) return s;
  Result<log::Level> level = log::parse_level(c.log_level);
  if (!level) return invalid(level.error().message);
  Result<Duration> ttl = parse_go_duration(c.session_ttl_min);
  if (!ttl) {
    return invalid("session_ttl_min: invalid duration: \"" + c.session_ttl_min +
                   "\": " + ttl.error().message);
  }
  if (ttl->count() < 0) return invalid("session_ttl_min cannot be negative");
  for (auto [key, text] : {std::pair<std::string_view, const std::string*>{
                               "check_update_interval", &c.check_update_interval},
                           {"check_deregister_interval_min", &c.check_deregister_interval_min},
                           {"check_reap_interval", &c.check_reap_interval},
                           {"retry_interval", &c.retry_interval},
                           {"ae_interval", &c.ae_interval},
                           {"tombstone_ttl", &c.tombstone_ttl},

                           {"sync_coordinate_interval_min", &c.sync_coordinate_interval_min},
                           {"coordinate_update_period", &c.coordinate_update_period}}) {
    Result<Duration> d = parse_go_duration(*text);
    if (!d) {
      return invalid(std::string(key) + ": invalid duration: \"" + *text +
                     "\": " + d.error().message);
    }
    if (d->count() < 0) return invalid(std::string(key) + " cannot be negative");
  }
  // A zero interval would retry a failing join without pause.
  if (parse_go_duration(c.retry_interval)->count() == 0)
    return invalid("retry_interval must be positive");
  if (c.retry_max < 0) return invalid("retry_max cannot be negative");
  s = validate_dns_config(c.dns_config);
  if (!s) return s;
  if (c.raft_snapshot_threshold < 1) return invalid("raft_snapshot_threshold must be positive");
  if (c.raft_trailing_logs < 0) return invalid("raft_trailing_logs cannot be negative");
  for (auto [key, text] :
       {std::pair<std::string_view, const std::string*>{"autopilot.last_contact_threshold",
                                                        &c.autopilot.last_contact_threshold},
        {"autopilot.server_stabilization_time", &c.autopilot.server_stabilization_time}}) {
    Result<Duration> d = parse_go_duration(*text);
    if (!d) {
      return invalid(std::string(key) + ": invalid duration: \"" + *text +
                     "\": " + d.error().message);
    }
    if (d->count() < 0) return invalid(std::string(key) + " cannot be negative");
  }
  if (c.autopilot.max_trailing_logs < 0) {
    return invalid("autopilot.max_trailing_logs cannot be negative");
  }
  if (c.autopilot.min_quorum < 0) return invalid("autopilot.min_quorum cannot be negative");
  s = validate_gossip_lan(c.gossip_lan);
  if (!s) return s;
  s = validate_reconnect_timeout(c);
  if (!s) return s;
  s = validate_wan(c);
  if (!s) return s;
  s = validate_encrypt(c.encrypt);
  if (!s) return s;
  s = validate_tls(c.tls);
  if (!s) return s;
  // Consul's range for performance.raft_multiplier.
  if (c.raft_multiplier < 1 || c.raft_multiplier > 10) {
    return invalid("performance.raft_multiplier cannot be " + std::to_string(c.raft_multiplier) +
                   ". Must be between 1 and 10");
  }
  if (c.domain.empty()) return invalid("domain cannot be empty");
  if (!c.alt_domain.empty() && lower_fqdn(c.alt_domain) == lower_fqdn(c.domain)) {
    return invalid("alt_domain cannot be the same as domain");
  }
  for (const std::string& r : c.recursors) {
    if (!parse_recursor_address(r)) {
      return invalid("Invalid recursor address: \"" + r + "\": expected IP or IP:port");
    }
  }
  if (c.http_threads < 0 || c.http_threads > kHttpThreadsMax) {
    return invalid("http_threads must be between 0 and " + std::to_string(kHttpThreadsMax));
  }
  if (c.http_threads == 0) {
    c.http_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  return ok();
}

Result<std::string> host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) {
    return make_error(Code::kInternal, "node_name: " + errno_text(errno));
  }
  std::string name = buf;
  // Consul trims the host name (builder.nodeName).
  auto is_space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; };
  while (!name.empty() && is_space(name.back())) name.pop_back();
  while (!name.empty() && is_space(name.front())) name.erase(name.begin());
  return name;
}

}  // namespace

Result<AgentConfig> load_agent_config(const std::vector<std::string>& args) {
  FlagSet flags;
  FlagValues fv;
  define_agent_flags(flags, fv);
  Result<FlagParse> parsed = flags.parse(args);
  if (!parsed) return parsed.error();
  if (parsed->help) return make_error(Code::kInvalidArgument, "flag: help requested");
  if (!parsed->positional.empty()) {
    std::string extra;
    for (const std::string& a : parsed->positional) extra += (extra.empty() ? "" : " ") + a;
    return make_error(Code::kInvalidArgument, "Unexpected extra arguments: " + extra);
  }

  AgentConfig config;
  config.args = args;
  if (fv.dev) {
    // Consul's DevSource, plus bootstrap: a dev agent is a one-server cluster of its own.
    config.dev = true;
    config.server = true;
    config.bootstrap = true;
    config.bind_addr = "127.0.0.1";
    config.log_level = "debug";
  }

  LoadState state;
  for (const std::string& path : fv.config_paths) {
    Status s = read_path(path, state);
    if (!s) return s.error();
  }
  json::object slices, values;
  flags_to_sources(flags, fv, slices, values);
  json::object merged;
  merge_into(merged, slices);
  for (const Source& src : state.files) {
    merge_into(merged, src.data);
    config.config_files.push_back(src.name);
  }
  merge_into(merged, values);
  decode(merged, config);
  config.warnings = std::move(state.warnings);
  config.service_definitions = std::move(state.services);
  config.check_definitions = std::move(state.checks);

  if (config.node_name.empty()) {
    Result<std::string> host = host_name();
    if (!host) return host.error();
    config.node_name = *host;
  }
  Status s = validate(config);
  if (!s) return s.error();
  return config;
}

std::vector<std::string> client_addresses(const AgentConfig& config) {
  std::istringstream in(config.client_addr);
  std::vector<std::string> out;
  for (std::string a; in >> a;) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  if (out.empty()) out.push_back("127.0.0.1");
  return out;
}

std::optional<RecursorAddress> parse_recursor_address(std::string_view text) {
  std::string host(text);
  std::string port;
  if (!host.empty() && host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string::npos) return std::nullopt;
    std::string rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    std::size_t colon = host.find(':');
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (port.empty()) return std::nullopt;
  }
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) != 1 && inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
    return std::nullopt;
  }
  RecursorAddress out;
  out.ip = host;
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) return std::nullopt;
    int n = std::stoi(port);
    if (n < 1 || n > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(n);
  }
  return out;
}

Result<AgentConfig> reload_agent_config(const AgentConfig& current) {
  Result<AgentConfig> next = load_agent_config(current.args);
  if (!next) return next;
  if (next->node_id.empty()) next->node_id = current.node_id;
  return next;
}

std::string agent_flags_usage() {
  FlagSet flags;
  FlagValues fv;
  define_agent_flags(flags, fv);
  return flags.usage();
}

}  // namespace pc::core
