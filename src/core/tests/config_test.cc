#include "core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace pc::core {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

// A fresh directory from mkdtemp, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pc-config-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `content` to `name` under the directory (making parents) and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    fs::path p = fs::path(path_) / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }
  std::string sub(const std::string& name) const {
    fs::path p = fs::path(path_) / name;
    fs::create_directories(p);
    return p.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// Loads with a valid data_dir unless the arguments bring their own; returns the error text.
std::string load_error(const TempDir& dir, Args args) {
  args.insert(args.begin(), "-data-dir=" + dir.path());
  Result<AgentConfig> r = load_agent_config(args);
  EXPECT_FALSE(r) << "expected an error";
  return r ? "" : r.error().message;
}

TEST(AgentConfig, ConsulDefaults) {
  TempDir dir;
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path()});
  ASSERT_TRUE(r) << r.error().message;
  const AgentConfig& c = *r;
  EXPECT_EQ(c.datacenter, "dc1");
  EXPECT_EQ(c.node_name, host_name());
  EXPECT_EQ(c.node_id, "");
  EXPECT_EQ(c.data_dir, dir.path());
  EXPECT_FALSE(c.server);
  EXPECT_FALSE(c.bootstrap);
  EXPECT_EQ(c.bootstrap_expect, 0);
  EXPECT_FALSE(c.dev);
  EXPECT_EQ(c.bind_addr, "0.0.0.0");
  EXPECT_EQ(c.client_addr, "127.0.0.1");
  EXPECT_EQ(c.advertise_addr, "");
  EXPECT_EQ(c.ports, AgentPorts{});
  EXPECT_EQ(c.ports.http, 8500);
  EXPECT_EQ(c.ports.https, -1);
  EXPECT_EQ(c.ports.dns, 8600);
  EXPECT_EQ(c.ports.server, 8300);
  EXPECT_EQ(c.ports.serf_lan, 8301);
  EXPECT_EQ(c.ports.serf_wan, 8302);
  EXPECT_EQ(c.ports.grpc, -1);
  EXPECT_TRUE(c.retry_join.empty());
  EXPECT_EQ(c.log_level, "info");
  EXPECT_FALSE(c.log_json);
  EXPECT_TRUE(c.node_meta.empty());
  EXPECT_EQ(c.domain, "consul.");
  EXPECT_EQ(c.session_ttl_min, "10s");
  EXPECT_GE(c.http_threads, 1);
  EXPECT_FALSE(c.enable_script_checks);
  EXPECT_EQ(c.check_update_interval, "5m");
  EXPECT_EQ(c.check_deregister_interval_min, "1m");
  EXPECT_EQ(c.check_reap_interval, "30s");
  EXPECT_FALSE(c.disable_coordinates);
  EXPECT_EQ(c.sync_coordinate_interval_min, "15s");
  EXPECT_EQ(c.coordinate_update_period, "5s");
  EXPECT_EQ(c.dns_config, DnsConfig{});
  EXPECT_EQ(c.dns_config.node_ttl, "0s");
  EXPECT_TRUE(c.dns_config.service_ttl.empty());
  EXPECT_FALSE(c.dns_config.only_passing);
  EXPECT_EQ(c.dns_config.a_record_limit, 0);
  EXPECT_EQ(c.dns_config.udp_answer_limit, 3);
  EXPECT_FALSE(c.dns_config.enable_truncate);
  EXPECT_EQ(c.dns_config.soa.min_ttl, 0);
  EXPECT_EQ(c.dns_config.soa.refresh, 3600);
  EXPECT_EQ(c.dns_config.soa.retry, 600);
  EXPECT_EQ(c.dns_config.soa.expire, 86400);
  EXPECT_TRUE(c.config_files.empty());
  EXPECT_EQ(c.args, (Args{"-data-dir", dir.path()}));
}

TEST(AgentConfig, DevDefaultsNeedNoDataDir) {
  Result<AgentConfig> r = load_agent_config({"-dev"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->dev);
  EXPECT_TRUE(r->server);
  EXPECT_TRUE(r->bootstrap);
  EXPECT_EQ(r->bind_addr, "127.0.0.1");
  EXPECT_EQ(r->client_addr, "127.0.0.1");
  EXPECT_EQ(r->log_level, "debug");
  EXPECT_EQ(r->node_name, host_name());

  // Files and flags still override dev defaults.
  TempDir dir;
  std::string f = dir.write("a.json", R"({"log_level": "warn", "bind_addr": "127.0.0.2"})");
  Result<AgentConfig> o = load_agent_config({"-dev", "-config-file", f, "-log-level=err"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->log_level, "err");
  EXPECT_EQ(o->bind_addr, "127.0.0.2");
}

TEST(AgentConfig, MergeOrderDefaultsFilesThenFlags) {
  TempDir dir;
  std::string a = dir.write("a.json", R"({
    "datacenter": "east", "retry_join": ["x"], "node_meta": {"a": "1"},
    "ports": {"http": 1111, "dns": 5353}, "server": true, "log_json": true
  })");
  std::string b = dir.write("b.json", R"({
    "datacenter": "west", "retry_join": ["y"], "node_meta": {"b": "2"},
    "ports": {"http": 2222}
  })");
  Result<AgentConfig> r = load_agent_config(
      {"-data-dir", dir.path(), "-config-file", a, "-config-file=" + b, "-datacenter=north",
       "-retry-join", "z", "-node-meta", "a:9", "-server-port", "9300", "-server=false"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->datacenter, "north");
  // Consul merges flag slices before the files: flag entries first, then file entries.
  EXPECT_EQ(r->retry_join, (Args{"z", "x", "y"}));
  EXPECT_EQ(r->node_meta, (std::map<std::string, std::string>{{"a", "9"}, {"b", "2"}}));
  EXPECT_EQ(r->ports.http, 2222);  // b replaced a's scalar
  EXPECT_EQ(r->ports.dns, 5353);   // a's key survives b's object
  EXPECT_EQ(r->ports.server, 9300);
  EXPECT_FALSE(r->server);  // -server=false is a value, on top of the files
  EXPECT_TRUE(r->log_json);
  EXPECT_EQ(r->config_files, (Args{a, b}));
}

TEST(AgentConfig, CheckSettingsFromFilesAndFlags) {
  TempDir dir;
  std::string a = dir.write("checks.json", R"({
    "check_update_interval": "0s", "check_deregister_interval_min": "1s",
    "check_reap_interval": "2s", "enable_local_script_checks": true
  })");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-config-file", a, "-enable-script-checks"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->enable_script_checks);
  EXPECT_TRUE(r->enable_local_script_checks);
  EXPECT_EQ(r->check_update_interval, "0s");
  EXPECT_EQ(r->check_deregister_interval_min, "1s");
  EXPECT_EQ(r->check_reap_interval, "2s");
}

TEST(AgentConfig, CoordinateSettingsFromFiles) {
  TempDir dir;
  std::string a = dir.write("coord.json", R"({
    "disable_coordinates": true, "sync_coordinate_interval_min": "1s",
    "coordinate_update_period": "500ms"
  })");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", a});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->disable_coordinates);
  EXPECT_EQ(r->sync_coordinate_interval_min, "1s");
  EXPECT_EQ(r->coordinate_update_period, "500ms");
  std::string bad = dir.write("bad.json", R"({"coordinate_update_period": "often"})");
  Result<AgentConfig> e = load_agent_config({"-data-dir", dir.path(), "-config-file", bad});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message,
            "coordinate_update_period: invalid duration: \"often\": time: invalid duration "
            "\"often\"");
}

TEST(AgentConfig, TombstoneTtlFromFiles) {
  TempDir dir;
  EXPECT_EQ(AgentConfig{}.tombstone_ttl, "15m");
  std::string a = dir.write("gc.json", R"({"tombstone_ttl": "2s"})");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", a});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->tombstone_ttl, "2s");
  std::string bad = dir.write("bad.json", R"({"tombstone_ttl": "-1s"})");
  Result<AgentConfig> e = load_agent_config({"-data-dir", dir.path(), "-config-file", bad});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "tombstone_ttl cannot be negative");
}

TEST(AgentConfig, PrimaryDatacenterAndReplicationSettings) {
  TempDir dir;
  std::string a = dir.write("repl.json", R"({
    "primary_datacenter": "DC1", "acl_datacenter": "legacy",
    "acl": {"enabled": true, "enable_token_replication": true,
            "tokens": {"replication": "r-secret"}}
  })");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", a});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->primary_datacenter, "dc1");  // lower-cased; the newer key wins
  EXPECT_TRUE(r->acl.enable_token_replication);
  EXPECT_EQ(r->acl.replication, "r-secret");
  std::string legacy = dir.write("legacy.json", R"({"acl_datacenter": "east"})");
  Result<AgentConfig> l = load_agent_config({"-data-dir", dir.path(), "-config-file", legacy});
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->primary_datacenter, "east");
  Result<AgentConfig> none = load_agent_config({"-data-dir", dir.path()});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->primary_datacenter, "");
  EXPECT_FALSE(none->acl.enable_token_replication);
}

TEST(AgentConfig, ConfigDirReadsJsonInLexicalOrder) {
  TempDir dir;
  std::string conf = dir.sub("conf.d");
  dir.write("conf.d/10-b.json", R"({"node_name": "b", "retry_join": ["b"]})");
  dir.write("conf.d/02-a.json", R"({"node_name": "a", "retry_join": ["a"]})");
  dir.write("conf.d/notes.txt", "not config");
  dir.write("conf.d/sub/ignored.json", R"({"unknown": 1})");
  std::string extra = dir.write("extra.json", R"({"retry_join": ["e"]})");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-config-file", extra, "-config-dir", conf});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->node_name, "b");
  EXPECT_EQ(r->retry_join, (Args{"e", "a", "b"}));
  EXPECT_EQ(r->config_files, (Args{extra, conf + "/02-a.json", conf + "/10-b.json"}));
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "skipping file " + conf + "/notes.txt, extension must be .json");

  // The command-line order across -config-dir and -config-file is the merge order.
  Result<AgentConfig> swapped =
      load_agent_config({"-data-dir", dir.path(), "-config-dir", conf, "-config-file", extra});
  ASSERT_TRUE(swapped);
  EXPECT_EQ(swapped->retry_join, (Args{"a", "b", "e"}));
}

TEST(AgentConfig, UnknownKeysNameKeyAndFile) {
  TempDir dir;
  std::string f = dir.write("x.json", R"({"datacentre": "dc1"})");
  EXPECT_EQ(load_error(dir, {"-config-file", f}),
            "Error parsing " + f + ": unknown key \"datacentre\"");
  std::string g = dir.write("y.json", R"({"ports": {"htp": 1}})");
  EXPECT_EQ(load_error(dir, {"-config-file", g}),
            "Error parsing " + g + ": unknown key \"ports.htp\"");
  // -dev is a flag only, as in Consul.
  std::string h = dir.write("z.json", R"({"dev": true})");
  EXPECT_EQ(load_error(dir, {"-config-file", h}), "Error parsing " + h + ": unknown key \"dev\"");
}

TEST(AgentConfig, BadValuesNameKeyAndFile) {
  TempDir dir;
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"({"ports": {"http": "8500"}})", "ports.http: expected a number, got string"},
      {R"({"ports": {"http": 1.5}})", "ports.http: expected an integer, got 1.5"},
      {R"({"ports": 8500})", "ports: expected an object, got number"},
      {R"({"server": "yes"})", "server: expected a boolean, got string"},
      {R"({"datacenter": 1})", "datacenter: expected a string, got number"},
      {R"({"retry_join": ["a", 2]})", "retry_join[1]: expected a string, got number"},
      {R"({"retry_join": {}})", "retry_join: expected a list of strings, got object"},
      {R"({"node_meta": {"k": 1}})", "node_meta.k: expected a string, got number"},
      {R"({"bootstrap_expect": null})", "bootstrap_expect: expected a number, got null"},
      {R"({"bootstrap_expect": 99999999999})", "bootstrap_expect: value out of range"},
      {R"(["not", "an", "object"])", "the top level must be a JSON object"},
  };
  for (const Case& c : cases) {
    std::string f = dir.write("bad.json", c.json);
    EXPECT_EQ(load_error(dir, {"-config-file", f}), "Error parsing " + f + ": " + c.message)
        << c.json;
  }
  std::string broken = dir.write("broken.json", "{\n  \"server\": tru\n}");
  std::string message = load_error(dir, {"-config-file", broken});
  EXPECT_EQ(message.rfind("Error parsing " + broken + ": invalid JSON at line 2, column ", 0), 0u)
      << message;
}

TEST(AgentConfig, DnsConfigFromFilesMergesKeyByKey) {
  TempDir dir;
  std::string a = dir.write("a.json", R"({"dns_config": {
    "node_ttl": "10s", "service_ttl": {"*": "5s", "web": "30s"}, "only_passing": true,
    "soa": {"min_ttl": 60, "retry": 300}, "allow_stale": true, "max_stale": "5s"
  }})");
  std::string b = dir.write("b.json", R"({"dns_config": {
    "service_ttl": {"db": "1m"}, "a_record_limit": 2, "udp_answer_limit": 1,
    "enable_truncate": true
  }})");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-config-file", a, "-config-file", b});
  ASSERT_TRUE(r) << r.error().message;
  const DnsConfig& d = r->dns_config;
  EXPECT_EQ(d.node_ttl, "10s");
  EXPECT_EQ(d.service_ttl,
            (std::map<std::string, std::string>{{"*", "5s"}, {"web", "30s"}, {"db", "1m"}}));
  EXPECT_TRUE(d.only_passing);
  EXPECT_EQ(d.a_record_limit, 2);
  EXPECT_EQ(d.udp_answer_limit, 1);
  EXPECT_TRUE(d.enable_truncate);
  EXPECT_EQ(d.max_stale, "5s");
  EXPECT_EQ(d.soa.min_ttl, 60);
  EXPECT_EQ(d.soa.retry, 300);
  EXPECT_EQ(d.soa.refresh, 3600);
}

TEST(AgentConfig, DnsConfigErrorsNameKeyAndFile) {
  TempDir dir;
  struct Case {
    const char* json;
    const char* message;  // after "Error parsing FILE: " when file is true
    bool file;
  };
  const Case cases[] = {
      {R"({"dns_config": {"node_tl": "1s"}})", "unknown key \"dns_config.node_tl\"", true},
      {R"({"dns_config": {"soa": {"minttl": 1}}})", "unknown key \"dns_config.soa.minttl\"", true},
      {R"({"dns_config": {"service_ttl": {"web": 5}}})",
       "dns_config.service_ttl.web: expected a string, got number", true},
      {R"({"dns_config": {"udp_answer_limit": "3"}})",
       "dns_config.udp_answer_limit: expected a number, got string", true},
      {R"({"dns_config": 1})", "dns_config: expected an object, got number", true},
      {R"({"dns_config": {"node_ttl": "10"}})",
       "dns_config.node_ttl: invalid duration: \"10\": ", false},
      {R"({"dns_config": {"service_ttl": {"*": "5x"}}})",
       "dns_config.service_ttl.*: invalid duration: \"5x\": ", false},
      {R"({"dns_config": {"node_ttl": "-1s"}})", "dns_config.node_ttl cannot be negative", false},
      {R"({"dns_config": {"a_record_limit": -1}})", "dns_config.a_record_limit cannot be negative",
       false},
      {R"({"dns_config": {"recursor_timeout": "soon"}})",
       "dns_config.recursor_timeout: invalid duration: \"soon\": ", false},
      {R"({"dns_config": {"recursor_strategy": "fastest"}})",
       "dns_config.recursor_strategy: unknown strategy \"fastest\" (sequential or random)", false},
      {R"({"recursors": ["dns.example.com"]})",
       "Invalid recursor address: \"dns.example.com\": expected IP or IP:port", false},
      {R"({"recursors": ["10.0.0.1:99999"]})",
       "Invalid recursor address: \"10.0.0.1:99999\": expected IP or IP:port", false},
      {R"({"recursors": [1]})", "recursors[0]: expected a string, got number", true},
      {R"({"alt_domain": "CONSUL"})", "alt_domain cannot be the same as domain", false},
  };
  for (const Case& c : cases) {
    std::string f = dir.write("dns.json", c.json);
    std::string message = load_error(dir, {"-config-file", f});
    if (c.file) {
      EXPECT_EQ(message, "Error parsing " + f + ": " + c.message) << c.json;
    } else {
      EXPECT_EQ(message.rfind(c.message, 0), 0u) << c.json << " -> " << message;
    }
  }
}

TEST(AgentConfig, AutopilotBlock) {
  TempDir dir;
  Result<AgentConfig> defaults = load_agent_config({"-data-dir", dir.path()});
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->autopilot, AutopilotConfig{});
  EXPECT_TRUE(defaults->autopilot.cleanup_dead_servers);
  EXPECT_EQ(defaults->autopilot.max_trailing_logs, 250);

  std::string f = dir.write("ap.json", R"({"autopilot": {
    "cleanup_dead_servers": false, "last_contact_threshold": "1s", "max_trailing_logs": 10,
    "min_quorum": 3, "server_stabilization_time": "30s", "redundancy_zone_tag": "zone",
    "disable_upgrade_migration": true, "upgrade_version_tag": ""
  }})");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", f});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->autopilot.cleanup_dead_servers);
  EXPECT_EQ(r->autopilot.last_contact_threshold, "1s");
  EXPECT_EQ(r->autopilot.max_trailing_logs, 10);
  EXPECT_EQ(r->autopilot.min_quorum, 3);
  EXPECT_EQ(r->autopilot.server_stabilization_time, "30s");

  const std::pair<const char*, const char*> bad[] = {
      {R"({"autopilot": {"cleanup_dead_server": false}})",
       "unknown key \"autopilot.cleanup_dead_server\""},
      {R"({"autopilot": {"min_quorum": "3"}})",
       "autopilot.min_quorum: expected a number, got string"},
      {R"({"autopilot": {"last_contact_threshold": "soon"}})",
       "autopilot.last_contact_threshold: invalid duration: \"soon\": "},
      {R"({"autopilot": {"min_quorum": -1}})", "autopilot.min_quorum cannot be negative"},
  };
  for (const auto& [json, message] : bad) {
    std::string g = dir.write("bad.json", json);
    std::string got = load_error(dir, {"-config-file", g});
    EXPECT_NE(got.find(message), std::string::npos) << json << " -> " << got;
  }
}

TEST(AgentConfig, GossipLanAndEncrypt) {
  TempDir dir;
  Result<AgentConfig> defaults = load_agent_config({"-data-dir", dir.path()});
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->gossip_lan, GossipLanConfig{});
  EXPECT_EQ(defaults->gossip_lan.probe_interval, "1s");
  EXPECT_EQ(defaults->gossip_lan.probe_timeout, "500ms");
  EXPECT_EQ(defaults->gossip_lan.suspicion_mult, 4);
  EXPECT_TRUE(defaults->encrypt.empty());
  EXPECT_TRUE(defaults->encrypt_verify_incoming);
  EXPECT_TRUE(defaults->encrypt_verify_outgoing);

  std::string f = dir.write("gossip.json", R"({"gossip_lan": {
    "gossip_nodes": 4, "gossip_interval": "50ms", "probe_interval": "200ms",
    "probe_timeout": "100ms", "retransmit_mult": 2, "suspicion_mult": 3},
    "encrypt": "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
    "encrypt_verify_incoming": false, "encrypt_verify_outgoing": false})");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", f});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->gossip_lan.gossip_nodes, 4);
  EXPECT_EQ(r->gossip_lan.gossip_interval, "50ms");
  EXPECT_EQ(r->gossip_lan.probe_interval, "200ms");
  EXPECT_EQ(r->gossip_lan.probe_timeout, "100ms");
  EXPECT_EQ(r->gossip_lan.retransmit_mult, 2);
  EXPECT_EQ(r->gossip_lan.suspicion_mult, 3);
  EXPECT_EQ(r->encrypt, "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=");
  EXPECT_FALSE(r->encrypt_verify_incoming);
  EXPECT_FALSE(r->encrypt_verify_outgoing);
  // -encrypt, as Consul's flag, over the file.
  r = load_agent_config(
      {"-data-dir", dir.path(), "-config-file", f, "-encrypt", "AAECAwQFBgcICQoLDA0ODw=="});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->encrypt, "AAECAwQFBgcICQoLDA0ODw==");

  const std::pair<const char*, const char*> bad[] = {
      {R"({"gossip_lan": {"probe_intervall": "1s"}})",
       "unknown key \"gossip_lan.probe_intervall\""},
      {R"({"gossip_lan": {"suspicion_mult": "4"}})",
       "gossip_lan.suspicion_mult: expected a number, got string"},
      {R"({"gossip_lan": {"probe_interval": "often"}})",
       "gossip_lan.probe_interval: invalid duration: \"often\": "},
      {R"({"gossip_lan": {"gossip_interval": "0s"}})",
       "gossip_lan.gossip_interval must be positive"},
      {R"({"gossip_lan": {"probe_interval": "100ms", "probe_timeout": "200ms"}})",
       "gossip_lan.probe_timeout cannot be longer than gossip_lan.probe_interval"},
      {R"({"gossip_lan": {"gossip_nodes": 0}})", "gossip_lan.gossip_nodes must be at least 1"},
      {R"({"encrypt": "not base64!"})", "encrypt has invalid key: not base64"},
      {R"({"encrypt": "c2hvcnQ="})", "encrypt has invalid key: 5 bytes"},
      {R"({"encrypt_verify_incoming": "no"})",
       "encrypt_verify_incoming: expected a boolean, got string"},
  };
  for (const auto& [json, message] : bad) {
    std::string g = dir.write("bad.json", json);
    std::string got = load_error(dir, {"-config-file", g});
    EXPECT_NE(got.find(message), std::string::npos) << json << " -> " << got;
  }
}

TEST(AgentConfig, DnsSettingsFromFilesAndFlags) {
  TempDir dir;
  std::string f = dir.write("dns.json", R"({
    "recursors": ["10.0.0.53"], "alt_domain": "example.",
    "dns_config": {"recursor_timeout": "500ms", "recursor_strategy": "random",
                   "enable_additional_node_meta_txt": false}
  })");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-config-file", f, "-recursor", "[::1]:5353",
                         "-recursor", "127.0.0.1:5300", "-alt-domain", "other."});
  ASSERT_TRUE(r) << r.error().message;
  // Flag lists come first, as with retry_join; a flag value wins over the file's.
  EXPECT_EQ(r->recursors, (std::vector<std::string>{"[::1]:5353", "127.0.0.1:5300", "10.0.0.53"}));
  EXPECT_EQ(r->alt_domain, "other.");
  EXPECT_EQ(r->dns_config.recursor_timeout, "500ms");
  EXPECT_EQ(r->dns_config.recursor_strategy, "random");
  EXPECT_FALSE(r->dns_config.enable_additional_node_meta_txt);
  auto v6 = parse_recursor_address("[::1]:5353");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->ip, "::1");
  EXPECT_EQ(v6->port, 5353);
  auto plain = parse_recursor_address("10.0.0.53");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 53);
  EXPECT_TRUE(parse_recursor_address("::1"));
  // One comma-separated string is a list, as for retry_join.
  std::string g = dir.write("list.json", R"({"recursors": "10.0.0.1,10.0.0.2:5353"})");
  Result<AgentConfig> listed = load_agent_config({"-data-dir", dir.path(), "-config-file", g});
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->recursors.size(), 2u);
  for (const char* bad : {"", "10.0.0.1:", "10.0.0.1:0", "[::1", "[::1]x", "host:53", ":53"}) {
    EXPECT_FALSE(parse_recursor_address(bad)) << bad;
  }
}

TEST(AgentConfig, ClientAddresses) {
  AgentConfig c;
  c.client_addr = " 127.0.0.1  ::1 127.0.0.1 ";
  EXPECT_EQ(client_addresses(c), (std::vector<std::string>{"127.0.0.1", "::1"}));
  c.client_addr = "";
  EXPECT_EQ(client_addresses(c), std::vector<std::string>{"127.0.0.1"});
}

TEST(AgentConfig, HclFilesAreReadLikeJson) {
  TempDir dir;
  std::string conf = dir.sub("conf.d");
  dir.write("conf.d/a.json", R"({"node_meta": {"a": "1"}, "retry_join": ["10.0.0.1"]})");
  dir.write("conf.d/b.hcl",
            "# HCL\nserver = true\nbootstrap_expect = 3\nnode_meta { b = \"2\" }\n"
            "retry_join = [\"10.0.0.2\"]\nports { http = 18500 }\n");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-dir", conf});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->server);
  EXPECT_EQ(r->bootstrap_expect, 3);
  EXPECT_EQ(r->ports.http, 18500);
  EXPECT_EQ(r->node_meta, (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(r->retry_join, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));

  std::string typo = dir.write("typo.hcl", "datacentre = \"dc1\"");
  EXPECT_EQ(load_error(dir, {"-config-file", typo}),
            "Error parsing " + typo + ": unknown key \"datacentre\"");
  std::string broken = dir.write("broken.hcl", "server = \n");
  std::string message = load_error(dir, {"-config-file", broken});
  EXPECT_EQ(message.rfind("Error parsing " + broken + ": At ", 0), 0u) << message;
}

TEST(AgentConfig, MissingFileIsAnIoError) {
  TempDir dir;
  std::string missing = dir.path() + "/nope.json";
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", missing});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kIoError);
  EXPECT_EQ(r.error().message, "Error reading config " + missing + ": No such file or directory");
}

TEST(AgentConfig, EmptyFilesAndCommaListsAreAccepted) {
  TempDir dir;
  std::string empty = dir.write("empty.json", "  \n");
  std::string list = dir.write("list.json", R"({"retry_join": "a,b"})");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-config-file", empty, "-config-file", list});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->retry_join, (Args{"a", "b"}));
  EXPECT_EQ(r->config_files, (Args{list}));
}

TEST(AgentConfig, JoinSettings) {
  TempDir dir;
  Result<AgentConfig> defaults = load_agent_config({"-data-dir", dir.path()});
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_TRUE(defaults->start_join.empty());
  EXPECT_EQ(defaults->retry_interval, "30s");  // Consul's defaults
  EXPECT_EQ(defaults->retry_max, 0);
  std::string f = dir.write("join.json", R"({"start_join": "10.0.0.1,10.0.0.2:9301",
                                             "retry_interval": "5s", "retry_max": 4})");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-config-file", f, "-join", "10.0.0.9",
                         "-retry-interval", "1s", "-retry-max", "2"});
  ASSERT_TRUE(r) << r.error().message;
  // Flag lists first, then the file's; flag values win.
  EXPECT_EQ(r->start_join, (Args{"10.0.0.9", "10.0.0.1", "10.0.0.2:9301"}));
  EXPECT_EQ(r->retry_interval, "1s");
  EXPECT_EQ(r->retry_max, 2);
  EXPECT_EQ(
      load_error(dir, {"-retry-interval", "soon"}).rfind("retry_interval: invalid duration", 0),
      0u);
  EXPECT_EQ(load_error(dir, {"-retry-interval", "0s"}), "retry_interval must be positive");
  EXPECT_EQ(load_error(dir, {"-retry-max", "-1"}), "retry_max cannot be negative");
}

TEST(AgentConfig, FlagErrors) {
  TempDir dir;
  EXPECT_EQ(load_error(dir, {"-x"}), "flag provided but not defined: -x");
  EXPECT_EQ(load_error(dir, {"-http-port", "eighty"}),
            "invalid value \"eighty\" for flag -http-port: expected a number");
  EXPECT_EQ(load_error(dir, {"-server", "extra"}), "Unexpected extra arguments: extra");
  EXPECT_EQ(load_error(dir, {"-h"}), "flag: help requested");
}

TEST(AgentConfig, ValidationFollowsConsul) {
  TempDir dir;
  std::string file = dir.write("file", "");
  struct Case {
    Args args;
    std::string message;
  };
  const Case cases[] = {
      {{"-datacenter", "dc 1"},
       "datacenter can only contain lowercase alphanumeric, - or _ characters. received: "
       "\"dc 1\""},
      {{"-datacenter="}, "datacenter cannot be empty"},
      {{"-node-id", "not-a-uuid"}, "node_id: \"not-a-uuid\" is not a valid UUID"},
      {{"-http-port", "70000"}, "ports.http: invalid port: 70000"},
      {{"-serf-lan-port", "65536"}, "ports.serf_lan: invalid port: 65536"},
      {{"-bootstrap"}, "'bootstrap = true' requires 'server = true'"},
      {{"-bootstrap-expect", "3"}, "'bootstrap_expect > 0' requires 'server = true'"},
      {{"-server", "-bootstrap-expect", "-1"},
       "bootstrap_expect cannot be -1. Must be greater than or equal to zero"},
      {{"-server", "-bootstrap", "-bootstrap-expect", "3"},
       "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive"},
      {{"-dev", "-bootstrap-expect", "3"}, "'bootstrap_expect > 0' not allowed in dev mode"},
      {{"-log-level", "loud"},
       "invalid log level \"loud\": must be one of trace, debug, info, warn, err"},
      {{"-bind", "example.com"}, "bind_addr: invalid ip address: example.com"},
      {{"-bind", "127.0.0.1 127.0.0.2"}, "bind_addr cannot contain multiple addresses"},
      {{"-client", "127.0.0.1 nope"}, "client_addr: invalid ip address: nope"},
      {{"-advertise", "0.0.0.0"}, "Advertise address cannot be 0.0.0.0, :: or [::]"},
      {{"-node-meta", "consul-x:1"},
       "node_meta invalid: Couldn't load metadata pair ('consul-x', '1'): Key prefix "
       "'consul-' is reserved for internal use"},
      {{"-node-meta", "bad key:1"},
       "node_meta invalid: Couldn't load metadata pair ('bad key', '1'): Key contains "
       "invalid characters"},
      {{"-domain="}, "domain cannot be empty"},
      {{"-data-dir", file}, "data_dir \"" + file + "\" is not a directory"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(load_error(dir, c.args), c.message) << c.args[0];
  }
  std::string ttl = dir.write("ttl.json", R"({"session_ttl_min": "5"})");
  EXPECT_EQ(load_error(dir, {"-config-file", ttl}),
            "session_ttl_min: invalid duration: \"5\": time: missing unit in duration \"5\"");
  std::string reap = dir.write("reap.json", R"({"check_reap_interval": "soon"})");
  EXPECT_EQ(load_error(dir, {"-config-file", reap}),
            "check_reap_interval: invalid duration: \"soon\": time: invalid duration \"soon\"");
  std::string token_ttl = dir.write("token_ttl.json", R"({"acl": {"token_ttl": "soon"}})");
  EXPECT_EQ(load_error(dir, {"-config-file", token_ttl}),
            "acl.token_ttl: invalid duration: \"soon\": time: invalid duration \"soon\"");
  std::string negative = dir.write("negative.json", R"({"acl": {"token_ttl": "-1s"}})");
  EXPECT_EQ(load_error(dir, {"-config-file", negative}), "acl.token_ttl cannot be negative");
  std::string threads = dir.write("threads.json", R"({"http_threads": 1000})");
  EXPECT_EQ(load_error(dir, {"-config-file", threads}), "http_threads must be between 0 and 256");

  Result<AgentConfig> no_dir = load_agent_config({});
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error().message, "data_dir cannot be empty");
}

TEST(AgentConfig, NormalizationsAndWarnings) {
  TempDir dir;
  std::string f = dir.write("a.json", R"({"http_threads": 3, "ports": {"grpc": 8502}})");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-datacenter", "DC-East", "-node-id",
                         "ADF4238A-882B-9DDC-4A9D-5B6758E4159E", "-server", "-bootstrap-expect=1",
                         "-node", "web_1", "-http-port=-5", "-http-port=0", "-dns-port=-7",
                         "-config-file", f, "-advertise", "10.0.0.1", "-client", "127.0.0.1 ::1"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->datacenter, "dc-east");
  EXPECT_EQ(r->node_id, "adf4238a-882b-9ddc-4a9d-5b6758e4159e");
  // bootstrap_expect = 1 is bootstrap mode, as in Consul.
  EXPECT_TRUE(r->bootstrap);
  EXPECT_EQ(r->bootstrap_expect, 0);
  EXPECT_EQ(r->ports.http, 0);  // the last flag wins; 0 = ephemeral
  EXPECT_EQ(r->ports.dns, -1);  // negative = disabled
  EXPECT_EQ(r->ports.grpc, 8502);
  EXPECT_EQ(r->http_threads, 3);
  auto has_warning = [&](const std::string& prefix) {
    for (const std::string& w : r->warnings) {
      if (w.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_warning("BootstrapExpect is set to 1"));
  EXPECT_TRUE(has_warning("Node name \"web_1\" will not be discoverable via DNS"));
  EXPECT_TRUE(has_warning("ports.grpc: gRPC is not supported yet"));
}

TEST(AgentConfig, ReconnectTimeoutAtLeastEightHoursAndATestKey) {
  TempDir dir;
  Result<AgentConfig> defaults = load_agent_config({"-data-dir", dir.path()});
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->reconnect_timeout, "72h");
  EXPECT_EQ(defaults->gossip_lan.reconnect_timeout, "");
  std::string ok = dir.write("ok.json", R"({"reconnect_timeout": "8h"})");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", ok});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->reconnect_timeout, "8h");
  std::string short_file = dir.write("short.json", R"({"reconnect_timeout": "1h"})");
  Result<AgentConfig> too_short =
      load_agent_config({"-data-dir", dir.path(), "-config-file", short_file});
  ASSERT_FALSE(too_short);
  EXPECT_EQ(too_short.error().message, "reconnect_timeout must be >= 8h");
  std::string test_key = dir.write("t.json", R"({"gossip_lan": {"reconnect_timeout": "3s"}})");
  Result<AgentConfig> t = load_agent_config({"-data-dir", dir.path(), "-config-file", test_key});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->gossip_lan.reconnect_timeout, "3s");
}

TEST(AgentConfig, ReloadRereadsTheSameSources) {
  TempDir dir;
  std::string conf = dir.sub("conf.d");
  dir.write("conf.d/a.json", R"({"log_level": "info"})");
  Result<AgentConfig> first =
      load_agent_config({"-data-dir", dir.path(), "-config-dir", conf, "-node", "n1"});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->log_level, "info");
  AgentConfig running = *first;
  running.node_id = "adf4238a-882b-9ddc-4a9d-5b6758e4159e";  // the daemon generated one

  dir.write("conf.d/a.json", R"({"log_level": "debug"})");
  dir.write("conf.d/b.json", R"({"node_meta": {"rack": "r2"}})");
  Result<AgentConfig> second = reload_agent_config(running);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->log_level, "debug");
  EXPECT_EQ(second->node_meta.at("rack"), "r2");
  EXPECT_EQ(second->node_name, "n1");
  EXPECT_EQ(second->node_id, running.node_id);
  EXPECT_EQ(second->args, first->args);
  EXPECT_EQ(second->config_files.size(), 2u);

  // A broken file on reload is an error; the caller keeps running on the old config.
  dir.write("conf.d/c.json", R"({"log_level": 3})");
  Result<AgentConfig> third = reload_agent_config(running);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().message,
            "Error parsing " + conf + "/c.json: log_level: expected a string, got number");
}

TEST(AgentConfig, TlsBlocksInheritFromDefaults) {
  TempDir dir;
  std::string f = dir.write("tls.json", R"({
    "ports": {"https": 8501},
    "tls": {
      "defaults": {"ca_file": "/ca.pem", "cert_file": "/a.pem", "key_file": "/a-key.pem",
                   "verify_incoming": true, "verify_outgoing": true,
                   "tls_cipher_suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
      "internal_rpc": {"verify_server_hostname": true, "tls_min_version": "TLSv1_3",
                       "tls_cipher_suites": ""},
      "https": {"verify_incoming": false, "cert_file": "/h.pem", "key_file": "/h-key.pem"},
      "grpc": {"use_auto_cert": false}
    }})");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", f});
  ASSERT_TRUE(r) << r.error().message;
  const TlsListenerConfig& rpc = r->tls.internal_rpc;
  EXPECT_EQ(rpc.ca_file, "/ca.pem");
  EXPECT_EQ(rpc.cert_file, "/a.pem");
  EXPECT_TRUE(rpc.verify_incoming);
  EXPECT_TRUE(rpc.verify_outgoing);
  EXPECT_TRUE(rpc.verify_server_hostname);
  EXPECT_EQ(rpc.tls_min_version, "TLSv1_3");
  EXPECT_TRUE(rpc.tls_cipher_suites.empty());  // its own empty list wins over the default's
  const TlsListenerConfig& https = r->tls.https;
  EXPECT_EQ(https.cert_file, "/h.pem");
  EXPECT_EQ(https.ca_file, "/ca.pem");
  EXPECT_FALSE(https.verify_incoming);
  EXPECT_FALSE(https.verify_server_hostname);  // internal_rpc's alone
  EXPECT_EQ(https.tls_min_version, "TLSv1_2");
  EXPECT_EQ(https.tls_cipher_suites,
            (std::vector<std::string>{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}));
  EXPECT_EQ(r->ports.https, 8501);
  for (const std::string& w : r->warnings) EXPECT_EQ(w.find("ports.https"), std::string::npos) << w;
}

TEST(AgentConfig, TlsDefaultsAndDeprecatedKeys) {
  TempDir dir;
  Result<AgentConfig> none = load_agent_config({"-data-dir", dir.path()});
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->tls, TlsConfig{});
  EXPECT_EQ(none->tls.https.tls_min_version, "TLSv1_2");
  EXPECT_FALSE(none->tls.https.verify_incoming);

  // Consul's top-level keys fill what the stanza leaves unset.
  std::string f = dir.write("old.json", R"({
    "ca_file": "/old-ca.pem", "cert_file": "/c.pem", "key_file": "/k.pem",
    "verify_outgoing": true, "verify_server_hostname": true,
    "tls": {"defaults": {"ca_file": "/new-ca.pem"}}, "ports": {"https": 8501}})");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", f});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->tls.internal_rpc.ca_file, "/new-ca.pem");
  EXPECT_EQ(r->tls.https.cert_file, "/c.pem");
  EXPECT_TRUE(r->tls.internal_rpc.verify_outgoing);
  EXPECT_TRUE(r->tls.internal_rpc.verify_server_hostname);

  // ports.https without a certificate opens nothing, with a warning.
  std::string bare = dir.write("bare.json", R"({"ports": {"https": 8501}})");
  Result<AgentConfig> w = load_agent_config({"-data-dir", dir.path(), "-config-file", bare});
  ASSERT_TRUE(w) << w.error().message;
  bool warned = false;
  for (const std::string& text : w->warnings) warned |= text.rfind("ports.https: ", 0) == 0;
  EXPECT_TRUE(warned);
}

TEST(AgentConfig, TlsValidationFollowsConsul) {
  TempDir dir;
  auto error_for = [&](const std::string& json) {
    std::string f = dir.write("t.json", json);
    return load_error(dir, {"-config-file", f});
  };
  EXPECT_EQ(error_for(R"({"tls": {"internal_rpc": {"verify_outgoing": true}}})"),
            "tls.internal_rpc: VerifyOutgoing set, and no CA certificate provided!");
  EXPECT_EQ(error_for(R"({"tls": {"https": {"verify_incoming": true}}})"),
            "tls.https: VerifyIncoming set but no CA certificates were provided");
  EXPECT_EQ(error_for(R"({"tls": {"defaults": {"verify_incoming": true, "ca_file": "/ca"}}})"),
            "tls.internal_rpc: VerifyIncoming requires either a Cert and Key pair in the "
            "configuration file, or auto_encrypt/auto_config be enabled");
  EXPECT_EQ(error_for(R"({"tls": {"defaults": {"tls_min_version": "tls12"}}})"),
            "tls.internal_rpc: TLSMinVersion: value tls12 not supported, please specify one of "
            "[TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3]");
  EXPECT_EQ(error_for(R"({"tls": {"https": {"tls_cipher_suites": "TLS_RSA_WITH_RC4_128_SHA"}}})"),
            "tls.https: unsupported TLS cipher suite TLS_RSA_WITH_RC4_128_SHA");
  EXPECT_EQ(error_for(R"({"tls": {"https": {"cert_file": "/c.pem"}}})"),
            "tls.https: cert_file set without key_file");
  const std::string t = dir.path() + "/t.json";
  EXPECT_EQ(error_for(R"({"tls": {"https": {"verify_server_hostname": true}}})"),
            "Error parsing " + t + ": unknown key \"tls.https.verify_server_hostname\"");
  EXPECT_EQ(error_for(R"({"tls": {"rpc": {}}})"),
            "Error parsing " + t + ": unknown key \"tls.rpc\"");
  EXPECT_EQ(
      error_for(R"({"tls": {"defaults": {"verify_incoming": "yes"}}})"),
      "Error parsing " + t + ": tls.defaults.verify_incoming: expected a boolean, got string");
}

TEST(AgentConfig, WanPoolKeysAndFlags) {
  TempDir dir;
  Result<AgentConfig> defaults = load_agent_config({"-data-dir", dir.path()});
  ASSERT_TRUE(defaults) << defaults.error().message;
  // memberlist's DefaultWANConfig, as Consul's gossip_wan.
  EXPECT_EQ(defaults->gossip_wan.probe_interval, "5s");
  EXPECT_EQ(defaults->gossip_wan.probe_timeout, "3s");
  EXPECT_EQ(defaults->gossip_wan.gossip_interval, "500ms");
  EXPECT_EQ(defaults->gossip_wan.gossip_nodes, 4);
  EXPECT_EQ(defaults->gossip_wan.suspicion_mult, 6);
  EXPECT_EQ(defaults->ports.serf_wan, 8302);
  EXPECT_EQ(defaults->retry_interval_wan, "30s");
  EXPECT_TRUE(defaults->advertise_addr_wan.empty());
  EXPECT_TRUE(defaults->retry_join_wan.empty());
  EXPECT_TRUE(defaults->start_join_wan.empty());

  std::string f = dir.write("wan.json", R"({"gossip_wan": {"probe_interval": "200ms",
    "probe_timeout": "100ms"}, "retry_join_wan": "10.0.0.1,10.0.0.2:9302",
    "start_join_wan": ["10.0.1.1"], "retry_interval_wan": "1s",
    "advertise_addr_wan": "198.18.0.1"})");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-config-file", f, "-retry-join-wan", "10.9.9.9",
                         "-join-wan", "10.8.8.8", "-advertise-wan", "198.18.0.2"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->gossip_wan.probe_interval, "200ms");
  EXPECT_EQ(r->gossip_wan.probe_timeout, "100ms");
  EXPECT_EQ(r->gossip_wan.suspicion_mult, 6) << "keys not given keep the WAN defaults";
  EXPECT_EQ(r->gossip_lan, GossipLanConfig{}) << "the LAN pool is untouched";
  // Command-line list entries come first, then the files' (one comma string is a list).
  EXPECT_EQ(r->retry_join_wan, (std::vector<std::string>{"10.9.9.9", "10.0.0.1", "10.0.0.2:9302"}));
  EXPECT_EQ(r->start_join_wan, (std::vector<std::string>{"10.8.8.8", "10.0.1.1"}));
  EXPECT_EQ(r->retry_interval_wan, "1s");
  EXPECT_EQ(r->advertise_addr_wan, "198.18.0.2") << "the flag over the file";

  const std::pair<const char*, const char*> bad[] = {
      {R"({"gossip_wan": {"probe_interval": "1s", "probe_timeout": "2s"}})",
       "gossip_wan.probe_timeout cannot be longer than gossip_wan.probe_interval"},
      {R"({"gossip_wan": {"suspicion_mult": 0}})", "gossip_wan.suspicion_mult must be at least 1"},
      {R"({"gossip_wan": {"probe_intervall": "1s"}})",
       "unknown key \"gossip_wan.probe_intervall\""},
      {R"({"advertise_addr_wan": "0.0.0.0"})",
       "Advertise WAN address cannot be 0.0.0.0, :: or [::]"},
      {R"({"advertise_addr_wan": "example.com"})",
       "advertise_addr_wan: invalid ip address: example.com"},
      {R"({"retry_interval_wan": "soon"})", "retry_interval_wan: invalid duration: \"soon\""},
      {R"({"retry_interval_wan": "0s"})", "retry_interval_wan must be positive"},
      {R"({"retry_join_wan": 7})", "retry_join_wan: expected"},
  };
  for (const auto& [json, message] : bad) {
    std::string g = dir.write("bad.json", json);
    std::string got = load_error(dir, {"-config-file", g});
    EXPECT_NE(got.find(message), std::string::npos) << json << " -> " << got;
  }
}

TEST(AgentConfig, UsageListsTheAgentFlags) {
  std::string usage = agent_flags_usage();
  EXPECT_EQ(usage.rfind("Command Options\n\n", 0), 0u);
  for (const char* flag :
       {"  -dev\n", "  -server\n", "  -retry-join=<value>\n", "  -node-meta=<key:value>\n",
        "  -config-dir=<value>\n", "  -http-port=<int>\n", "  -bootstrap-expect=<int>\n",
        "  -retry-join-wan=<value>\n", "  -join-wan=<value>\n", "  -advertise-wan=<string>\n"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

TEST(AgentConfig, ServiceDefinitionsInHclWithSnakeCaseKeys) {
  TempDir dir;
  std::string conf = dir.sub("conf.d");
  dir.write("conf.d/a.json", R"({"node_meta": {"a": "1"}})");
  dir.write("conf.d/web.hcl",
            "service {\n"
            "  name = \"web\"\n"
            "  id = \"web-1\"\n"
            "  port = 8080\n"
            "  tags = [\"v1\", \"blue\"]\n"
            "  meta { version = \"1\" }\n"
            "  enable_tag_override = true\n"
            "  weights { passing = 3\n warning = 1 }\n"
            "  token = \"s3cret\"\n"
            "  check { http = \"http://127.0.0.1:8080/health\"\n interval = \"10s\" }\n"
            "  checks = [{ tcp = \"127.0.0.1:8080\", interval = \"5s\", timeout = 1000000000 }]\n"
            "}\n"
            "check {\n"
            "  id = \"disk\"\n"
            "  name = \"Disk\"\n"
            "  args = [\"/bin/true\"]\n"
            "  interval = \"30s\"\n"
            "  service_id = \"web-1\"\n"
            "}\n");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-dir", conf});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->node_meta.at("a"), "1");  // the rest of the files still merges
  ASSERT_EQ(r->service_definitions.size(), 1u);
  const ConfigDefinition& web = r->service_definitions[0];
  EXPECT_EQ(web.file, conf + "/web.hcl");
  EXPECT_EQ(web.line, 1u);
  EXPECT_EQ(web.token, "s3cret");
  EXPECT_EQ(web.body,
            R"({"Name":"web","ID":"web-1","Port":8080,"Tags":["v1","blue"],"Meta":{"version":"1"},)"
            R"("EnableTagOverride":true,"Weights":{"Passing":3,"Warning":1},)"
            R"("Checks":[{"HTTP":"http://127.0.0.1:8080/health","Interval":"10s"},)"
            R"({"TCP":"127.0.0.1:8080","Interval":"5s","Timeout":1000000000}]})");
  ASSERT_EQ(r->check_definitions.size(), 1u);
  EXPECT_EQ(r->check_definitions[0].line, 15u);
  EXPECT_EQ(r->check_definitions[0].body,
            R"({"CheckID":"disk","Name":"Disk","ScriptArgs":["/bin/true"],"Interval":"30s",)"
            R"("ServiceID":"web-1"})");
}

TEST(AgentConfig, ServiceDefinitionsInJsonWithApiCaseKeysKeepFileOrder) {
  TempDir dir;
  std::string a = dir.write("a.json", R"({
  "services": [
    {"Name": "db", "Port": 5432, "Check": {"TCP": "127.0.0.1:5432", "Interval": "10s"}},
    {"name": "cache", "tagged_addresses": {"lan": {"address": "10.0.0.1", "port": 6379}}}
  ],
  "checks": [{"Name": "mem", "TTL": "30s", "Token": "t1"}]
})");
  std::string b = dir.write("b.json", R"({"service": {"name": "api"}})");
  Result<AgentConfig> r =
      load_agent_config({"-data-dir", dir.path(), "-config-file", a, "-config-file", b});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->service_definitions.size(), 3u);
  EXPECT_EQ(r->service_definitions[0].body,
            R"({"Name":"db","Port":5432,"Checks":[{"TCP":"127.0.0.1:5432","Interval":"10s"}]})");
  EXPECT_EQ(r->service_definitions[0].line, 3u);
  EXPECT_EQ(r->service_definitions[0].column, 5u);
  EXPECT_EQ(r->service_definitions[1].body,
            R"({"Name":"cache","TaggedAddresses":{"lan":{"Address":"10.0.0.1","Port":6379}}})");
  EXPECT_EQ(r->service_definitions[2].file, b);
  EXPECT_EQ(r->service_definitions[2].body, R"({"Name":"api"})");
  ASSERT_EQ(r->check_definitions.size(), 1u);
  EXPECT_EQ(r->check_definitions[0].body, R"({"Name":"mem","TTL":"30s"})");
  EXPECT_EQ(r->check_definitions[0].token, "t1");
}

TEST(AgentConfig, RepeatedBlocksAreOneDefinitionEach) {
  TempDir dir;
  std::string f =
      dir.write("two.hcl",
                "service {\n  name = \"a\"\n  checks { ttl = \"10s\" }\n"
                "  checks { ttl = \"20s\" }\n}\n"
                "service {\n  name = \"b\"\n}\n"
                "checks = [{ name = \"c1\", ttl = \"5s\" }, { name = \"c2\", ttl = \"5s\" }]\n");
  Result<AgentConfig> r = load_agent_config({"-data-dir", dir.path(), "-config-file", f});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->service_definitions.size(), 2u);
  EXPECT_EQ(r->service_definitions[0].body,
            R"({"Name":"a","Checks":[{"TTL":"10s"},{"TTL":"20s"}]})");
  EXPECT_EQ(r->service_definitions[1].body, R"({"Name":"b"})");
  EXPECT_EQ(r->service_definitions[1].line, 6u);
  ASSERT_EQ(r->check_definitions.size(), 2u);
  EXPECT_EQ(r->check_definitions[1].body, R"({"Name":"c2","TTL":"5s"})");
}

TEST(AgentConfig, BadServiceDefinitionsNameTheFileAndLine) {
  TempDir dir;
  struct Case {
    std::string name, text, message;
  };
  const std::vector<Case> cases = {
      {"typo.hcl", "service {\n  name = \"web\"\n  prot = 80\n}\n",
       "At 3:3: invalid config key service.prot"},
      {"port.hcl", "service {\n  name = \"web\"\n  port = \"80\"\n}\n",
       "At 3:10: service.port: expected an integer, got a string"},
      {"check.hcl", "service {\n  name = \"web\"\n  check {\n    htp = \"x\"\n  }\n}\n",
       "At 4:5: invalid config key service.check.htp"},
      {"list.json", "{\"services\": [\n  \"web\"\n]}",
       "At 2:3: services[0]: expected an object, got a string"},
      {"tags.json", "{\"service\": {\"name\": \"web\",\n \"tags\": \"a\"}}",
       "At 2:10: service.tags: expected a list of strings, got a string"},
      {"frac.json", "{\"service\": {\"name\": \"web\", \"port\": 80.5}}",
       "At 1:37: service.port: expected an integer, got 80.5"},
  };
  for (const Case& c : cases) {
    std::string path = dir.write(c.name, c.text);
    std::string got = load_error(dir, {"-config-file", path});
    EXPECT_EQ(got, "Error parsing " + path + ": " + c.message) << c.text;
  }
}

}  // namespace
}  // namespace pc::core
