#pragma once
// Operator endpoint logic (Consul's Operator.Raft* and Operator.ServerHealth RPCs): the Raft
// configuration joined with the catalog's names for the servers, removal of a server and
// leadership transfer by address or node ID, and autopilot's health view. Rendering lives in
// http/handlers/operator.cc.
//
// Servers are named through the catalog: a server registers its node with a "consul" service
// whose Port is its server (Raft RPC) port, and its node Address is the IP of its Raft
// address, so "ip:port" of a Raft server names one catalog node. A server the catalog does
// not know is shown as Consul shows one it cannot name: Node "(unknown)", and its address
// where the node ID would be.
//
// The leader knows every server's progress, a follower only its own: the HTTP handlers pass
// the leader's view (consensus::Log::leader_configuration, forwarded from a follower as
// Consul forwards these reads), or this server's own view for ?stale.
//
// Thread-safe: the functions may be called from any thread; ServerStability locks itself.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "endpoints/context.h"

namespace pc::endpoints {

// Consul's autopilot defaults (api.NewAutopilotConfiguration).
inline constexpr std::uint64_t kAutopilotMaxTrailingLogs = 250;
inline constexpr core::Duration kAutopilotLastContactThreshold = std::chrono::milliseconds(200);
inline constexpr core::Duration kAutopilotServerStabilizationTime = std::chrono::seconds(10);

// Consul's autopilot configuration (structs.AutopilotConfig) as this server runs it: the
// agent's `autopilot` block. MaxTrailingLogs takes part in the health computed here and
// CleanupDeadServers and MinQuorum in the leader's dead-server cleanup (daemon/autopilot.h);
// the others are reported only.
struct AutopilotSettings {
  bool cleanup_dead_servers = true;
  core::Duration last_contact_threshold = kAutopilotLastContactThreshold;
  std::uint64_t max_trailing_logs = kAutopilotMaxTrailingLogs;
  std::uint64_t min_quorum = 0;
  core::Duration server_stabilization_time = kAutopilotServerStabilizationTime;
};

// The process's settings: set once by the daemon when a server starts (Consul's defaults
// until then, as on a -dev agent), read by the HTTP handlers. Thread-safe.
AutopilotSettings autopilot_settings();
void set_autopilot_settings(const AutopilotSettings& settings);

// Consul's structs.RaftServer.
struct RaftPeer {
  std::string id;    // the node's UUID; the address when the catalog does not know the server
  std::string node;  // the node's name; "(unknown)" when the catalog does not know it
  std::string address;
  bool leader = false;
  bool voter = false;
  // The "raft_version" meta of the server's "consul" service ("3" when absent); "unknown"
  // for a server the catalog does not know, as Consul reports one missing from its LAN pool.
  std::string protocol_version;
  // How far this server's log is known to reach: the leader's match index for it, the local
  // last index for this server itself, 0 when unknown (asked on a follower).
  std::uint64_t last_index = 0;
};

// Consul's structs.RaftConfigurationResponse: Index is this server's last log index.
struct RaftConfigurationReply {
  std::vector<RaftPeer> servers;
  std::uint64_t index = 0;
};

// From `config` (the leader's view, Log::leader_configuration), or from this server's own
// view (?stale).
RaftConfigurationReply raft_configuration(const Context& ctx,
                                          const consensus::RaftConfiguration& config);
RaftConfigurationReply raft_configuration(const Context& ctx);

// The Raft address ("ip:port") of the server whose catalog node has this ID, or the ID itself
// when it is the address of a server in `config` (how unnamed servers are shown); empty when
// neither.
std::string raft_address_for_id(const Context& ctx, const consensus::RaftConfiguration& config,
                                const std::string& id);

// Removes a server from the Raft configuration. Errors with Consul's texts, which its edge
// answers with 500: NotFound `address "x" was not found in the Raft configuration` / `id "x"
// was not found in the Raft configuration`, and whatever the log refuses (no leader, the
// only server). `done` runs once, on any thread.
void raft_remove_peer_by_address(Context& ctx, std::string address, Done<void> done);
void raft_remove_peer_by_id(Context& ctx, const std::string& id, Done<void> done);

// Transfers leadership to the server with node ID `id`, or to the best other voter when `id`
// is empty. An unknown ID is NotFound "Could not find address for server id x" (Consul's
// ServerLookup text). `done` runs once, on any thread, after another server leads.
void raft_transfer_leader(Context& ctx, const std::string& id, Done<void> done);

// When each server's health last changed, as autopilot's StableSince records it. Process-local
// (it restarts empty, and a new leader starts its own), keyed by Raft address. Thread-safe.
class ServerStability {
 public:
  // Records `healthy` for `address` at `now` and returns since when it has held.
  core::WallTime observe(const std::string& address, bool healthy, core::WallTime now);
  // Forgets servers no longer in the configuration, so a returning one starts afresh.
  void retain_only(const std::vector<std::string>& addresses);

  // The one the HTTP handlers use.
  static ServerStability& process();

 private:
  struct Entry {
    bool healthy = false;
    core::WallTime since;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

// Consul's api.ServerHealth.
struct ServerHealth {
  std::string id;
  std::string name;  // node name; "" when the catalog does not know the server
  std::string address;
  // The node's serfHealth check as a serf status: "alive" (passing or no check), "failed"
  // (critical), "none" for a server the catalog does not know. Until gossip lands, the
  // catalog's check stands in for the member status.
  std::string serf_status;
  std::string version;  // the "version" meta of the server's "consul" service
  bool leader = false;
  // Time since the server last heard from the leader. The log reports only whether the leader
  // heard from a server within an election timeout, so: 0 for the leader and for a server
  // heard from recently, -1ns (Consul's "never") for one not heard from recently; asked on a
  // follower, that follower's own entry has its real time since the leader's last contact.
  core::Duration last_contact{0};
  std::uint64_t last_term = 0;  // the current term for every server: the log reports no other
  std::uint64_t last_index = 0;
  bool healthy = false;
  bool voter = false;
  core::WallTime stable_since;
};

// Consul's api.OperatorHealthReply.
struct AutopilotHealth {
  bool healthy = false;  // every server healthy
  // Healthy voters beyond a quorum of the voters, never below 0 (raft-autopilot).
  int failure_tolerance = 0;
  std::vector<ServerHealth> servers;  // in configuration (address) order
};

// Autopilot's health check per server, from `config` (the leader's view) or the local one: a
// server is healthy when the catalog shows it alive and it leads, or the leader heard from it
// within an election timeout and its log trails the leader's by at most `max_trailing_logs`
// entries.
AutopilotHealth autopilot_health(const Context& ctx, ServerStability& stability,
                                 std::uint64_t max_trailing_logs,
                                 const consensus::RaftConfiguration& config);
AutopilotHealth autopilot_health(const Context& ctx, ServerStability& stability,
                                 std::uint64_t max_trailing_logs = kAutopilotMaxTrailingLogs);

}  // namespace pc::endpoints
