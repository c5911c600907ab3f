// /v1/agent/self and /v1/status/* — what the agent says about itself and its cluster.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "agent/local_agent.h"
#include "core/duration.h"
#include "endpoints/acl_checks.h"
#include "endpoints/gossip_stats.h"
#include "endpoints/membership.h"
#include "http/acl_auth.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/query.h"

namespace pc::http::handlers {
namespace {

std::string leader_address(const endpoints::Context& ctx) {
  return ctx.log.leader().known_leader ? ctx.log.leader().leader_address : std::string();
}

void section(JsonWriter& w, std::string_view name,
             std::initializer_list<std::pair<std::string_view, std::string>> values) {
  w.key(name);
  w.begin_object();
  for (const auto& [k, v] : values) {
    w.key(k);
    w.string(v);
  }
  w.end_object();
}

// serf's Stats() of one pool, its values as strings as Consul shows them, then our counters
// of refused frames (docs/architecture.md "Gossip statistics"). serf's member_time is
// absent: the pool has no member clock (decision 0021).
void serf_section(JsonWriter& w, std::string_view name, const endpoints::GossipPoolStats& s) {
  section(w, name,
          {{"members", std::to_string(s.members)},
           {"failed", std::to_string(s.failed)},
           {"left", std::to_string(s.left)},
           {"health_score", std::to_string(s.health_score)},
           {"encrypted", s.encrypted ? "true" : "false"},
           {"event_time", std::to_string(s.event_time)},
           {"query_time", std::to_string(s.query_time)},
           {"intent_queue", std::to_string(s.intent_queue)},
           {"event_queue", std::to_string(s.event_queue)},
           {"query_queue", std::to_string(s.query_queue)},
           {"coordinate_resets", std::to_string(s.coordinate_resets)},
           {"refused_decrypt", std::to_string(s.refused_decrypt)},
           {"refused_decode", std::to_string(s.refused_decode)},
           {"refused_core", std::to_string(s.refused_core)}});
}

// Consul's serf.Member (api.AgentMember): name, address, gossip port, tags, status and the
// protocol ranges Consul 1.x members report.
void write_lan_member(JsonWriter& w, const endpoints::LanMember& m) {
  w.begin_object();
  w.string_field("Name", m.name);
  w.string_field("Addr", m.addr);
  w.number_field("Port", m.port);
  w.key("Tags");
  w.begin_object();
  for (const auto& [k, v] : m.tags) w.string_field(k, v);
  w.end_object();
  w.number_field("Status", m.status);
  for (auto [k, v] : {std::pair<std::string_view, int>{"ProtocolMin", 1},
                      {"ProtocolMax", 5},
                      {"ProtocolCur", 2},
                      {"DelegateMin", 2},
                      {"DelegateMax", 5},
                      {"DelegateCur", 4}}) {
    w.number_field(k, v);
  }
  w.end_object();
}

// This agent as a LAN member, from its identity: what it reports when it runs no pool.
endpoints::LanMember self_member(const endpoints::AgentIdentity& id) {
  endpoints::LanMember m;
  m.name = id.node_name;
  m.addr = id.advertise_address;
  m.port = id.serf_lan_port;
  m.tags = {{"role", id.server ? "consul" : "node"},
            {"dc", id.datacenter},
            {"id", id.node_id},
            {"build", id.version},
            {"vsn", "2"},
            {"vsn_min", "2"},
            {"vsn_max", "3"}};
  if (id.server) {
    // A server's tags add its RPC port and Raft protocol (a client has neither).
    m.tags["port"] = std::to_string(id.server_port);
    m.tags["bootstrap"] = "1";
    m.tags["raft_vsn"] = "3";
  }
  m.status = 1;  // alive
  return m;
}

// This agent's entry in its LAN pool (the tags it gossips), or its identity without a pool.
endpoints::LanMember own_member(endpoints::Context& ctx) {
  if (ctx.lan_members) {
    for (endpoints::LanMember& m : ctx.lan_members()) {
      if (m.name == ctx.identity.node_name) return std::move(m);
    }
  }
  return self_member(ctx.identity);
}

}  // namespace

// The members of the agent's LAN gossip pool, or with ?wan=1 of its WAN pool, sorted by name.
// Without a LAN pool the agent alone. An agent without a WAN pool (a client) answers an empty
// list for ?wan=1, as Consul's answers no members (its JSON null).
void agent_members(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  const std::string* wan_value = req.query_param("wan");
  const bool wan = wan_value != nullptr && !wan_value->empty();  // Consul: Get("wan") != ""
  std::vector<endpoints::LanMember> members;
  if (wan) {
    auto wan_members = ctx.membership ? ctx.membership->wan_members() : std::nullopt;
    if (wan_members) members = std::move(*wan_members);
  } else {
    if (ctx.lan_members) members = ctx.lan_members();
    if (members.empty()) members.push_back(self_member(ctx.identity));
  }
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  // Members are nodes: node:read on each (Consul's filterMembers).
  const bool filtered = endpoints::filter_members(*who, members);
  JsonWriter w;
  w.begin_array();
  for (const endpoints::LanMember& m : members) write_lan_member(w, m);
  w.end_array();
  reply(filtered_json(w.take(), filtered));
}

void status_leader(endpoints::Context& ctx, const Request&, Reply reply) {
  JsonWriter w;
  w.string(leader_address(ctx));
  reply(Response::json(w.take()));
}

void status_peers(endpoints::Context& ctx, const Request&, Reply reply) {
  JsonWriter w;
  w.begin_array();
  for (const std::string& voter : ctx.log.voters()) w.string(voter);
  w.end_array();
  reply(Response::json(w.take()));
}

void agent_self(endpoints::Context& ctx, const Request& req, Reply reply) {
  const auto& id = ctx.identity;
  if (!require(ctx, req, reply, [&id](const endpoints::ResolvedToken& who) {
        return endpoints::require_rule(who, acl::Resource::kAgent, id.node_name,
                                       acl::AccessLevel::kRead);
      })) {
    return;
  }
  state::Snapshot snap = ctx.store.snapshot();
  auto leader = ctx.log.leader();
  std::string ttl_min = core::format_go_duration(id.session_ttl_min);
  JsonWriter w;
  w.begin_object();
  w.key("Config");
  w.begin_object();
  for (auto [k, v] : {std::pair<std::string_view, std::string_view>{"Datacenter", id.datacenter},
                      {"PrimaryDatacenter", id.datacenter},
                      {"NodeName", id.node_name},
                      {"NodeID", id.node_id},
                      {"Revision", ""},
                      {"Version", id.version},
                      {"SessionTTLMin", ttl_min}}) {
    w.key(k);
    w.string(v);
  }
  w.key("Server");
  w.boolean(id.server);
  w.end_object();

  w.key("DebugConfig");
  w.begin_object();
  w.key("SessionTTLMin");
  w.string(ttl_min);
  w.key("Datacenter");
  w.string(id.datacenter);
  w.key("NodeName");
  w.string(id.node_name);
  w.end_object();

  w.key("Coord");
  w.null();

  w.key("Member");
  write_lan_member(w, own_member(ctx));

  w.key("Meta");
  w.begin_object();
  for (const auto& [k, v] : id.node_meta) {
    w.key(k);
    w.string(v);
  }
  w.end_object();

  struct utsname uts {};
  uname(&uts);
  w.key("Stats");
  w.begin_object();
  section(w, "agent",
          {{"check_monitors", std::to_string(ctx.agent->runner().monitor_checks())},
           {"check_ttls", std::to_string(ctx.agent->runner().ttl_checks())},
           {"checks", std::to_string(ctx.agent->local().checks().size())},
           {"services", std::to_string(ctx.agent->local().services().size())}});
  section(w, "build", {{"prerelease", ""}, {"revision", ""}, {"version", id.version}});
  section(w, "consul",
          {{"bootstrap", "true"},
           {"known_datacenters", "1"},
           {"leader", leader.known_leader ? "true" : "false"},
           {"leader_addr", leader.leader_address},
           {"server", id.server ? "true" : "false"}});
  if (id.server) {
    section(w, "raft",
            {{"applied_index", std::to_string(ctx.log.applied_index())},
             {"commit_index", std::to_string(ctx.log.applied_index())},
             {"last_log_index", std::to_string(ctx.log.last_index())},
             {"num_peers", "0"},
             {"state", "Leader"},
             {"protocol_version", "3"}});
  }
  section(w, "runtime",
          {{"arch", uts.machine},
           {"os", uts.sysname},
           {"cpu_count", std::to_string(std::thread::hardware_concurrency())},
           {"version", "C++20"}});
  section(w, "kv",
          {{"applied_index", std::to_string(snap.applied_index())},
           {"sessions", std::to_string(snap.session_list().size())}});
  if (ctx.gossip_stats) {
    const endpoints::GossipStats pools = ctx.gossip_stats();
    if (pools.lan) serf_section(w, "serf_lan", *pools.lan);
    if (pools.wan && id.server) serf_section(w, "serf_wan", *pools.wan);
  }
  w.end_object();
  w.end_object();
  reply(Response::json(w.take()));
}

}  // namespace pc::http::handlers
