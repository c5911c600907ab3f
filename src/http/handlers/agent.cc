// /v1/agent/self and /v1/status/* — what the agent says about itself and its cluster.
#include <sys/utsname.h>
#include <unistd.h>

#include <thread>

#include "core/duration.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"

namespace pc::http::handlers {
namespace {

std::string leader_address(const endpoints::Context& ctx) {
  return ctx.log.leader().known_leader ? ctx.log.leader().leader_address : std::string();
}

std::string self_rpc_address(const endpoints::Context& ctx) {
  return ctx.identity.advertise_address + ":" + std::to_string(ctx.identity.server_port);
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

}  // namespace

void status_leader(endpoints::Context& ctx, const Request&, Reply reply) {
  JsonWriter w;
  w.string(leader_address(ctx));
  reply(Response::json(w.take()));
}

void status_peers(endpoints::Context& ctx, const Request&, Reply reply) {
  JsonWriter w;
  w.begin_array();
  w.string(self_rpc_address(ctx));  // one voter until Raft brings more
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
  w.boolean(true);
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
  w.begin_object();
  w.key("Name");
  w.string(id.node_name);
  w.key("Addr");
  w.string(id.advertise_address);
  w.key("Port");
  w.number(static_cast<std::uint64_t>(id.serf_lan_port));
  w.key("Tags");
  w.begin_object();
  for (auto [k, v] : {std::pair<std::string_view, std::string>{"role", "consul"},
                      {"dc", id.datacenter},
                      {"id", id.node_id},
                      {"port", std::to_string(id.server_port)},
                      {"build", id.version},
                      {"bootstrap", "1"}}) {
    w.key(k);
    w.string(v);
  }
  w.end_object();
  w.key("Status");
  w.number(std::uint64_t{1});  // alive
  w.end_object();

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
          {{"check_monitors", "0"}, {"check_ttls", "0"}, {"checks", "0"}, {"services", "0"}});
  section(w, "build", {{"prerelease", ""}, {"revision", ""}, {"version", id.version}});
  section(w, "consul",
          {{"bootstrap", "true"},
           {"known_datacenters", "1"},
           {"leader", leader.known_leader ? "true" : "false"},
           {"leader_addr", leader.leader_address},
           {"server", "true"}});
  section(w, "raft",
          {{"applied_index", std::to_string(ctx.log.applied_index())},
           {"commit_index", std::to_string(ctx.log.applied_index())},
           {"last_log_index", std::to_string(ctx.log.last_index())},
           {"num_peers", "0"},
           {"state", "Leader"},
           {"protocol_version", "3"}});
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
