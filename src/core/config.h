#pragma once
// The agent's configuration, loaded the way Consul loads it (agent/config/builder.go):
//
//   1. defaults (Consul's; with -dev also the dev defaults below)
//   2. slice values from the command line (retry_join): Consul merges these before the files
//      so that, since slices append, flag entries come first
//   3. config files and directories, in the order -config-file/-config-dir name them; a
//      directory contributes its *.json files in lexical order (not recursing)
//   4. scalar and map values from the command line, on top
//
// JSON objects merge key by key, arrays append, scalars are replaced. Every file is checked
// against the schema as it is read, so an unknown key or a value of the wrong type is
// reported with the file and the key: `Error parsing /etc/x.json: unknown key "datacentre"`.
// The merged result is then validated like Consul's builder.validate().
//
// Dev defaults (-dev): server, bootstrap, bind_addr 127.0.0.1, log_level debug (as Consul),
// in-memory state, so data_dir is not required. -dev cannot be set from a file (as Consul).
//
// Plain data; copy freely. Loading reads files and the host name, nothing else.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/tls_config.h"

namespace pc::core {

// Port numbers: -1 disables a listener (Consul's convention); 0 asks the kernel for an
// ephemeral port (our extension, used by tests, which read the bound port back).
struct AgentPorts {
  int http = 8500;
  int https = -1;  // opened only when tls.https has a certificate (as Consul)
  int dns = 8600;
  int server = 8300;
  int serf_lan = 8301;
  int serf_wan = 8302;
  int grpc = -1;  // gRPC is not implemented yet: another value is kept, with a warning

  bool operator==(const AgentPorts&) const = default;
};

// dns_config (Consul's keys and defaults). Durations are Go duration text, validated by
// core::parse_go_duration; the DNS interface serves them in whole seconds.
struct DnsSoaConfig {
  int refresh = 3600;  // seconds, as Consul
  int retry = 600;
  int expire = 86400;
  int min_ttl = 0;  // the SOA's minimum and TTL (negative caching)

  bool operator==(const DnsSoaConfig&) const = default;
};

struct DnsConfig {
  std::string node_ttl = "0s";
  // Service name to TTL. "*" is the default; a key ending in '*' matches by prefix (the
  // longest wins); an exact name wins over any prefix.
  std::map<std::string, std::string> service_ttl;
  bool only_passing = false;     // leave out instances with warning checks too
  int a_record_limit = 0;        // A/AAAA answers per service lookup; 0: no limit
  int udp_answer_limit = 3;      // answers in a UDP response without EDNS0 (> 512 bytes)
  bool enable_truncate = false;  // set TC when a UDP response was cut to that limit
  // allow_stale: answer from this agent's state even when it is not the leader, as long as a
  // leader was heard from within max_stale; otherwise (or with allow_stale off and no known
  // leader) the answer is SERVFAIL.
  bool allow_stale = true;
  std::string max_stale = "87600h";
  // TXT records of the node's meta in the additional section of A/SRV answers.
  bool enable_additional_node_meta_txt = true;
  // How long one recursor may take to answer, and the order recursors are tried in
  // ("sequential": as listed; "random": shuffled per query).
  std::string recursor_timeout = "2s";
  std::string recursor_strategy = "sequential";
  DnsSoaConfig soa;

  bool operator==(const DnsConfig&) const = default;
};

// The autopilot block (Consul's keys and defaults). Durations are Go duration text,
// validated at load. Servers read it at start; `PUT /v1/operator/autopilot/configuration`
// cannot change it yet.
struct AutopilotConfig {
  // Remove servers the leader has lost contact with (see daemon/autopilot.h for when a
  // server counts as dead until gossip exists).
  bool cleanup_dead_servers = true;
  // A server whose last contact with the leader is older than this is unhealthy.
  std::string last_contact_threshold = "200ms";
  // A server whose log trails the leader's by more entries than this is unhealthy.
  int max_trailing_logs = 250;
  // Dead-server cleanup never leaves fewer voters than this; 0: no minimum.
  int min_quorum = 0;
  // How long a new server must stay healthy before it would be promoted to voter.
  std::string server_stabilization_time = "10s";

  bool operator==(const AutopilotConfig&) const = default;
};

// gossip_lan (Consul's keys; the defaults are memberlist's DefaultLANConfig, which Consul
// uses). Durations are Go duration text, validated at load. Tests shorten them so failures
// are found in a second or two.
struct GossipLanConfig {
  int gossip_nodes = 3;                   // members each gossip round sends to
  std::string gossip_interval = "200ms";  // between gossip rounds
  std::string probe_interval = "1s";      // between failure probes
  std::string probe_timeout = "500ms";    // wait for a direct ack; at most probe_interval
  int retransmit_mult = 4;                // broadcasts go out retransmit_mult * log(n+1) times
  int suspicion_mult = 4;                 // suspicion timeout = mult * log(n) * probe_interval
  // Test key (no Consul counterpart, no lower bound): overrides the top-level
  // reconnect_timeout so a test sees a failed member reaped in seconds; "" = not set.
  std::string reconnect_timeout;

  bool operator==(const GossipLanConfig&) const = default;
};

// acl (Consul's keys). tokens.initial_management (also the older "master" key) is the secret
// of a management token the leader creates; tokens.default answers requests without a token;
// tokens.agent is the agent's own. default_policy and down_policy are validated at load.
struct AclConfig {
  bool enabled = false;
  std::string default_policy = "allow";      // "allow" or "deny"
  std::string down_policy = "extend-cache";  // allow, deny, extend-cache, async-cache
  bool enable_token_persistence = false;     // keep API-set tokens in <data_dir>/acl-tokens.json
  std::string token_ttl = "30s";             // how long a client agent caches a token
  std::string initial_management;
  std::string agent;
  std::string default_token;
  // tokens.agent_recovery (also "agent_master"), tokens.replication, tokens.dns and
  // tokens.config_file_service_registration: kept by the agent's token holder
  // (endpoints/agent_tokens.h); dns answers DNS questions, else the default token does.
  std::string agent_recovery;
  std::string replication;
  std::string dns;
  std::string config_file_service_registration;
  // Secondary datacenters: enable_token_replication copies the primary's global tokens too
  // (policies and roles are always copied); tokens.replication (above) is the secret the
  // replicator presents to the primary.
  bool enable_token_replication = false;

  bool operator==(const AclConfig&) const = default;
};

// audit (Consul Enterprise's keys): the audit log of HTTP requests. `sink "name" {...}` in
// HCL is "sink": {"name": {...}} in JSON; sinks are kept sorted by name. Validated at load:
// type "file", format "json", delivery_guarantee "best-effort" (the only ones Consul has;
// the last is the default), a path, Go durations, and at least one of rotate_duration and
// rotate_bytes, as Consul requires.
struct AuditSinkConfig {
  std::string name;
  std::string type;
  std::string format;
  std::string path;
  std::string delivery_guarantee;
  std::string mode = "0600";    // octal permissions of the files
  std::string rotate_duration;  // Go duration text; "" or "0s": no age limit
  int rotate_bytes = 0;         // 0: no size limit
  int rotate_max_files = 0;     // old files kept; 0: all

  bool operator==(const AuditSinkConfig&) const = default;
};

struct AuditConfig {
  bool enabled = false;
  std::vector<AuditSinkConfig> sinks;

  bool operator==(const AuditConfig&) const = default;
};

// A service or check defined in a configuration file (`service`, `services`, `check`,
// `checks`; core/detail/config_services.h): the agent API's registration body, translated
// from the file's keys at load, where unknown keys and wrong types are refused with the file
// and line. The daemon decodes and validates the body as the API does, and registers it
// (daemon/config_services.h).
struct ConfigDefinition {
  std::string file;
  std::uint32_t line = 0;  // where the definition starts (1-based)
  std::uint32_t column = 0;
  std::string body;   // a JSON object with the API's field names
  std::string token;  // the definition's own `token`; "" for none

  bool operator==(const ConfigDefinition&) const = default;
};

struct AgentConfig {
  // JSON key: datacenter. Lower-cased, then [a-z0-9_-]+ (Consul's validateBasicName).
  std::string datacenter = "dc1";
  // node_name; default: the host name. A name DNS cannot carry only gives a warning.
  std::string node_name;
  // node_id: a UUID, lower-cased; empty means the daemon generates or reads one from data_dir.
  std::string node_id;
  // data_dir: required unless dev; must be a directory if it exists.
  std::string data_dir;
  bool server = false;
  bool bootstrap = false;
  // bootstrap_expect: 0 = off; 1 is turned into bootstrap = true with a warning (as Consul).
  int bootstrap_expect = 0;
  // Set only by -dev (a flag, not a file key).
  bool dev = false;
  // bind_addr: one IP address for cluster traffic (RPC, gossip).
  std::string bind_addr = "0.0.0.0";
  // client_addr: space-separated IP addresses for HTTP and DNS.
  std::string client_addr = "127.0.0.1";
  // advertise_addr: an IP address; empty means the daemon derives it from bind_addr.
  std::string advertise_addr;
  AgentPorts ports;
  // retry_join: LAN gossip addresses of other agents ("ip", "ip:port", "host[:port]"; port
  // 8301 when omitted), joined in the background until one answers.
  std::vector<std::string> retry_join;
  // start_join (-join): the same kind of addresses, joined once at start; the agent refuses
  // to start when none answers. retry_interval: Go duration between retry_join attempts;
  // retry_max: attempts before giving up, 0 for no limit (Consul's defaults).
  std::vector<std::string> start_join;
  std::string retry_interval = "30s";
  int retry_max = 0;
  // log_level: trace, debug, info, warn, err (core::log::parse_level), as written.
  std::string log_level = "info";
  bool log_json = false;
  std::map<std::string, std::string> node_meta;
  // domain: the DNS domain, e.g. "consul."; alt_domain: a second one answered the same way
  // (answers use the domain the question asked in); empty: none.
  std::string domain = "consul.";
  std::string alt_domain;
  // recursors: DNS servers ("IP" or "IP:port", port 53 by default) that names outside the
  // domains are forwarded to; empty: such names are REFUSED.
  std::vector<std::string> recursors;
  DnsConfig dns_config;
  // performance.raft_multiplier: scales Raft's timing (Consul's 1 s heartbeat and election
  // timeouts per step); 1 suits fast networks and tests, Consul's default 5 slow ones.
  int raft_multiplier = 5;
  // raft_snapshot_threshold / raft_trailing_logs (Consul's): a state snapshot every this many
  // applied entries, keeping this many entries of log behind it for followers to catch up.
  int raft_snapshot_threshold = 16384;
  int raft_trailing_logs = 10240;
  AutopilotConfig autopilot;
  GossipLanConfig gossip_lan;
  // reconnect_timeout (Consul's): how long the LAN pool keeps a failed member before reaping
  // it, after which the leader deregisters its node. At least 8h, as Consul requires.
  std::string reconnect_timeout = "72h";
  // gossip_wan: the same keys for the servers' WAN pool, with memberlist's DefaultWANConfig
  // (Consul's): slower probes and more patience, as links between datacenters are slower.
  GossipLanConfig gossip_wan{4, "500ms", "5s", "3s", 4, 6};
  // The WAN pool (servers only; ports.serf_wan = -1 turns it off). advertise_addr_wan: the IP
  // other datacenters' servers reach this one at (default: advertise_addr). retry_join_wan /
  // -retry-join-wan: WAN gossip addresses (ip[:8302]) joined in the background every
  // retry_interval_wan until one answers; start_join_wan / -join-wan: joined once at start,
  // and a failure stops the agent (Consul's start_join_wan).
  std::string advertise_addr_wan;
  std::vector<std::string> retry_join_wan;
  std::vector<std::string> start_join_wan;
  std::string retry_interval_wan = "30s";
  AclConfig acl;
  AuditConfig audit;
  // primary_datacenter (legacy key: acl_datacenter): where ACLs and other global state are
  // written; the others replicate from it. Lower-cased; "" means this datacenter is primary.
  std::string primary_datacenter;
  // encrypt: the gossip encryption key, base64 of 16, 24 or 32 bytes (`consul keygen`);
  // empty: plaintext gossip. encrypt_verify_incoming / _outgoing (Consul's, default true):
  // false accepts or sends plaintext while encryption is rolled out.
  std::string encrypt;
  bool encrypt_verify_incoming = true;
  bool encrypt_verify_outgoing = true;
  // tls: the `tls` stanza resolved per listener (core/tls_config.h); the files are read by
  // the TLS runtime (rpc/tls.h) at start and on SIGHUP.
  TlsConfig tls;
  // session_ttl_min: Go duration text; validated by core::parse_go_duration.
  std::string session_ttl_min = "10s";
  // http_threads (our extension): HTTP I/O threads; 0 in a file means one per core, which is
  // resolved at load, so the loaded value is always >= 1.
  int http_threads = 0;
  // enable_script_checks: checks with Args may be registered through the HTTP API (Consul's
  // default is off, since anyone reaching the API could run commands on the host).
  bool enable_script_checks = false;
  // enable_local_script_checks: checks with Args may be defined in configuration files (the
  // API still needs enable_script_checks, which allows both).
  bool enable_local_script_checks = false;
  // check_update_interval: how long an output-only change of a check may wait before it is
  // written to the catalog (Consul's default 5m; "0s" writes every change).
  std::string check_update_interval = "5m";
  // check_deregister_interval_min and check_reap_interval: Consul's lower bound on a check's
  // DeregisterCriticalServiceAfter and how often critical services are reaped. Consul sets
  // them internally; they are keys here so tests can shorten them.
  std::string check_deregister_interval_min = "1m";
  std::string check_reap_interval = "30s";
  // ae_interval (Consul's internal AEInterval, a key here so tests can shorten it): the base
  // wait between full anti-entropy passes, scaled by the LAN pool's size.
  std::string ae_interval = "1m";
  // tombstone_ttl (Consul's internal TombstoneTTL, a key here so tests can shorten it): how
  // long the leader keeps a deleted KV key's tombstone before reaping it; "0s" keeps 15m.
  std::string tombstone_ttl = "15m";
  // Network coordinates: disable_coordinates (Consul's) stops sending this agent's;
  // sync_coordinate_interval_min (Consul's, 15s) is the least time between two sends, scaled
  // up with the cluster size at 64 updates/s; coordinate_update_period (Consul's
  // consul.coordinate.update_period, 5s) is how often a server commits what it batched. The
  // intervals are keys so tests can shorten them.
  bool disable_coordinates = false;
  std::string sync_coordinate_interval_min = "15s";
  std::string coordinate_update_period = "5s";
  // Services and checks defined in the configuration files, in the order read. They are
  // registered at start and brought up to date by a reload (SIGHUP, /v1/agent/reload).
  std::vector<ConfigDefinition> service_definitions;
  std::vector<ConfigDefinition> check_definitions;

  // Not configuration: what loading found, for the daemon.
  // Files actually read, in merge order.
  std::vector<std::string> config_files;
  // The agent's arguments as given; reload_agent_config() loads from them again.
  std::vector<std::string> args;
  // Non-fatal findings the daemon should log at WARN (Consul's builder warnings).
  std::vector<std::string> warnings;
};

// A recursor address: "IP", "IP:port", "[IPv6]" or "[IPv6]:port" (port 53 when omitted);
// nullopt when it is none of these.
struct RecursorAddress {
  std::string ip;
  std::uint16_t port = 53;
};
std::optional<RecursorAddress> parse_recursor_address(std::string_view text);

// client_addr's addresses in order, without repeats ("127.0.0.1" when it holds none).
std::vector<std::string> client_addresses(const AgentConfig& config);

// Parses the agent's flags (Consul's names; see agent_flags_usage()) and builds the
// configuration as described above. Errors are InvalidArgument (or IoError for an unreadable
// file) with a message fit to print as is. `-h`/`-help` yield InvalidArgument
// "flag: help requested" (Go's flag.ErrHelp text); the CLI handles help before this.
Result<AgentConfig> load_agent_config(const std::vector<std::string>& args);

// Loads again from current.args: the same flags, the same files and directories read anew
// (Consul re-reads them on SIGHUP). A node_id the daemon filled in is carried over when the
// new sources leave it empty. The caller decides which fields take effect at run time.
Result<AgentConfig> reload_agent_config(const AgentConfig& current);

// The "Command Options" section for `proconsul agent -h`.
std::string agent_flags_usage();

}  // namespace pc::core
