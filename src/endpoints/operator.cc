#include "endpoints/operator.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace pc::endpoints {
namespace {

// What the catalog says about the server at one Raft address.
struct ServerNode {
  state::Node node;
  state::Service consul;  // its "consul" service instance
  std::string serf_status;
};

// Go's net.TCPAddr.String() for an IP and port: IPv6 in brackets.
std::string raft_address(const std::string& ip, int port) {
  if (ip.find(':') != std::string::npos) return "[" + ip + "]:" + std::to_string(port);
  return ip + ":" + std::to_string(port);
}

std::string serf_status_of(const state::Snapshot& snap, const std::string& node) {
  std::optional<state::HealthCheck> serf = snap.check_get(node, "serfHealth");
  if (serf && serf->status == state::kHealthCritical) return "failed";
  return "alive";
}

// Raft address -> the catalog node serving it, from every "consul" service instance. Both the
// node's address and, when set, the instance's own address name the server.
std::map<std::string, ServerNode> servers_in_catalog(const Context& ctx) {
  state::Snapshot snap = ctx.store.snapshot();
  std::map<std::string, ServerNode> out;
  for (state::Service& instance : snap.service_instances("consul")) {
    std::optional<state::Node> node = snap.node_get(instance.node);
    if (!node) continue;
    ServerNode entry{*node, instance, serf_status_of(snap, node->node)};
    if (!instance.address.empty() && instance.address != node->address) {
      out.emplace(raft_address(instance.address, instance.port), entry);
    }
    out.emplace(raft_address(node->address, instance.port), std::move(entry));
  }
  return out;
}

std::string meta_or(const state::Service& s, const std::string& key, std::string fallback) {
  auto it = s.meta.find(key);
  return it == s.meta.end() ? std::move(fallback) : it->second;
}

bool in_configuration(const consensus::RaftConfiguration& config, const std::string& address) {
  return std::any_of(config.servers.begin(), config.servers.end(),
                     [&](const consensus::RaftServerInfo& s) { return s.address == address; });
}

std::uint64_t leader_last_index(const consensus::RaftConfiguration& config) {
  for (const auto& s : config.servers) {
    if (s.leader) return s.match_index;
  }
  return config.last_index;
}

}  // namespace

RaftConfigurationReply raft_configuration(const Context& ctx) {
  return raft_configuration(ctx, ctx.log.configuration());
}

RaftConfigurationReply raft_configuration(const Context& ctx,
                                          const consensus::RaftConfiguration& config) {
  std::map<std::string, ServerNode> named = servers_in_catalog(ctx);
  RaftConfigurationReply reply;
  reply.index = config.last_index;
  for (const consensus::RaftServerInfo& s : config.servers) {
    RaftPeer peer;
    peer.address = s.address;
    peer.leader = s.leader;
    peer.voter = s.voter;
    peer.last_index = s.match_index;
    if (auto it = named.find(s.address); it != named.end()) {
      const ServerNode& server = it->second;
      peer.id = server.node.id.empty() ? s.address : server.node.id;
      peer.node = server.node.node;
      peer.protocol_version = meta_or(server.consul, "raft_version", "3");
    } else {
      peer.id = s.address;
      peer.node = "(unknown)";
      peer.protocol_version = "unknown";
    }
    reply.servers.push_back(std::move(peer));
  }
  return reply;
}

std::string raft_address_for_id(const Context& ctx, const consensus::RaftConfiguration& config,
                                const std::string& id) {
  if (id.empty()) return {};
  // A node can answer to two addresses (its own and its "consul" instance's): prefer the one
  // Raft knows. IDs compare exactly, as Consul compares raft server IDs.
  std::string found;
  for (const auto& [address, server] : servers_in_catalog(ctx)) {
    if (server.node.id != id) continue;
    if (in_configuration(config, address)) return address;
    if (found.empty()) found = address;
  }
  if (found.empty() && in_configuration(config, id)) return id;
  return found;
}

void raft_remove_peer_by_address(Context& ctx, std::string address, Done<void> done) {
  // Consul checks first, since "this is an operation designed for humans": a typo should
  // not look like a removal in progress.
  if (!in_configuration(ctx.log.configuration(), address)) {
    done(core::make_error(core::Code::kNotFound,
                          "address \"" + address + "\" was not found in the Raft configuration"));
    return;
  }
  ctx.log.remove_server(std::move(address), std::move(done));
}

void raft_remove_peer_by_id(Context& ctx, const std::string& id, Done<void> done) {
  consensus::RaftConfiguration config = ctx.log.configuration();
  std::string address = raft_address_for_id(ctx, config, id);
  if (address.empty() || !in_configuration(config, address)) {
    done(core::make_error(core::Code::kNotFound,
                          "id \"" + id + "\" was not found in the Raft configuration"));
    return;
  }
  ctx.log.remove_server(std::move(address), std::move(done));
}

void raft_transfer_leader(Context& ctx, const std::string& id, Done<void> done) {
  std::string address;
  if (!id.empty()) {
    address = raft_address_for_id(ctx, ctx.log.configuration(), id);
    if (address.empty()) {
      done(core::make_error(core::Code::kNotFound, "Could not find address for server id " + id));
      return;
    }
  }
  ctx.log.transfer_leadership(std::move(address), std::move(done));
}

core::WallTime ServerStability::observe(const std::string& address, bool healthy,
                                        core::WallTime now) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(address, Entry{healthy, now});
  if (!inserted && it->second.healthy != healthy) it->second = Entry{healthy, now};
  return it->second.since;
}

void ServerStability::retain_only(const std::vector<std::string>& addresses) {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [&](const auto& entry) {
    return std::find(addresses.begin(), addresses.end(), entry.first) == addresses.end();
  });
}

ServerStability& ServerStability::process() {
  static ServerStability stability;
  return stability;
}

namespace {
std::mutex autopilot_settings_mu;
AutopilotSettings autopilot_settings_value;  // guarded by autopilot_settings_mu
}  // namespace

AutopilotSettings autopilot_settings() {
  std::lock_guard lock(autopilot_settings_mu);
  return autopilot_settings_value;
}

void set_autopilot_settings(const AutopilotSettings& settings) {
  std::lock_guard lock(autopilot_settings_mu);
  autopilot_settings_value = settings;
}

AutopilotHealth autopilot_health(const Context& ctx, ServerStability& stability,
                                 std::uint64_t max_trailing_logs) {
  return autopilot_health(ctx, stability, max_trailing_logs, ctx.log.configuration());
}

AutopilotHealth autopilot_health(const Context& ctx, ServerStability& stability,
                                 std::uint64_t max_trailing_logs,
                                 const consensus::RaftConfiguration& config) {
  std::map<std::string, ServerNode> named = servers_in_catalog(ctx);
  const std::uint64_t leader_index = leader_last_index(config);
  const core::WallTime now = ctx.clock.wall_now();
  const consensus::LeaderInfo leader = ctx.log.leader();
  const std::string self = raft_address(ctx.identity.advertise_address, ctx.identity.server_port);

  AutopilotHealth health;
  health.healthy = true;
  int voters = 0;
  int healthy_voters = 0;
  std::vector<std::string> addresses;
  for (const consensus::RaftServerInfo& s : config.servers) {
    ServerHealth h;
    h.address = s.address;
    h.leader = s.leader;
    h.voter = s.voter;
    h.last_index = s.match_index;
    h.last_term = config.term;
    if (auto it = named.find(s.address); it != named.end()) {
      const ServerNode& server = it->second;
      h.id = server.node.id.empty() ? s.address : server.node.id;
      h.name = server.node.node;
      h.serf_status = server.serf_status;
      h.version = meta_or(server.consul, "version", "");
    } else {
      h.id = s.address;
      h.serf_status = "none";
    }
    const bool contact = s.leader || s.recently_active;
    h.last_contact = contact ? core::Duration(0) : core::Duration(-1);
    // A follower does know its own last contact with the leader.
    if (s.address == self && !s.leader && leader.known_leader) {
      h.last_contact = std::chrono::milliseconds(leader.last_contact_ms);
    }
    // raft-autopilot's isHealthy: alive, heard from lately, and not trailing by more than
    // MaxTrailingLogs (only checked once the leader's log is longer than that).
    const bool trailing =
        leader_index > max_trailing_logs && s.match_index < leader_index - max_trailing_logs;
    h.healthy = h.serf_status == "alive" && contact && !trailing;
    h.stable_since = stability.observe(s.address, h.healthy, now);

    if (!h.healthy) health.healthy = false;
    if (s.voter) {
      ++voters;
      if (h.healthy) ++healthy_voters;
    }
    addresses.push_back(s.address);
    health.servers.push_back(std::move(h));
  }
  stability.retain_only(addresses);
  const int quorum = voters / 2 + 1;
  if (healthy_voters > quorum) health.failure_tolerance = healthy_voters - quorum;
  return health;
}

}  // namespace pc::endpoints
