// /v1/agent/self and /v1/status/* — what the agent says about itself and its cluster.
#include <sys/utsname.h>
#include <unistd.h>

#include <thread>

#include "agent/local_agent.h"
#include "core/duration.h"
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

// Consul's serf.Member for this agent: alive, with the tags a server carries.
void write_member(JsonWriter& w, const endpoints::AgentIdentity& id, bool wan) {
  w.begin_object();
  w.string_field("Name", wan ? id.node_name + "." + id.datacenter : id.node_name);
  w.string_field("Addr", id.advertise_address);
  w.number_field("Port", wan ? id.serf_wan_port : id.serf_lan_port);
  w.key("Tags");
  w.begin_object();
  if (id.server) {
    for (auto [k, v] : {std::pair<std::string_view, std::string>{"role", "consul"},
                        {"dc", id.datacenter},
                        {"id", id.node_id},
                        {"port", std::to_string(id.server_port)},
                        {"build", id.version},
                        {"bootstrap", "1"},
                        {"vsn", "2"},
                        {"vsn_min", "2"},
                        {"vsn_max", "3"},
                        {"raft_vsn", "3"}}) {
      w.string_field(k, v);
    }
  } else {
    // A client agent's tags (Consul's role "node": no server port, no Raft).
    for (auto [k, v] : {std::pair<std::string_view, std::string>{"role", "node"},
                        {"dc", id.datacenter},
                        {"id", id.node_id},
                        {"build", id.version},
                        {"vsn", "2"},
                        {"vsn_min", "2"},
                        {"vsn_max", "3"}}) {
      w.string_field(k, v);
    }
  }
  w.end_object();
  w.number_field("Status", 1);  // alive
  // Serf's and Consul's protocol ranges, as Consul 1.x members report them.
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

}  // namespace

// The LAN members: this agent alone until gossip brings the others.
void agent_members(endpoints::Context& ctx, const Request& req, Reply reply) {
  // A server with ?wan lists the WAN pool, which this single-server build does not have yet:
  // itself, named as WAN members are (node.dc).
  JsonWriter w;
  w.begin_array();
  write_member(w, ctx.identity, query_flag(req, "wan"));
  w.end_array();
  reply(Response::json(w.take()));
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

void agent_self(endpoints::Context& ctx, const Request&, Reply reply) {
  const auto& id = ctx.identity;
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
  write_member(w, id, false);

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
  w.end_object();
  w.end_object();
  reply(Response::json(w.take()));
}

}  // namespace pc::http::handlers
