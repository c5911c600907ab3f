#include "daemon/server_discovery.h"

#include <algorithm>
#include <charconv>

#include "core/config.h"
#include "core/rand.h"
#include "daemon/lan_members.h"
#include "gossip/tags.h"

namespace pc::daemon {
namespace {

bool parse_int(const std::string& text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

std::string host_port(const std::string& ip, int port) {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

}  // namespace

std::string with_default_port(const std::string& address, int default_port) {
  auto parsed = core::parse_recursor_address(address);
  if (!parsed) return address;
  const bool has_port = address.front() == '['
                            ? address.find("]:") != std::string::npos
                            : std::count(address.begin(), address.end(), ':') == 1;
  return host_port(parsed->ip, has_port ? parsed->port : default_port);
}

std::uint64_t raft_id_of(const std::string& node_id) {
  std::uint64_t id = 0;
  int digits = 0;
  for (char c : node_id) {
    if (digits == 16) break;
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;  // the dashes of the UUID
    id = (id << 4) | static_cast<std::uint64_t>(v);
    ++digits;
  }
  return id == 0 ? 1 : id;
}

std::vector<PoolServer> servers_in_pool(const std::vector<gossip::MemberInfo>& members,
                                        std::string_view datacenter) {
  std::vector<PoolServer> out;
  for (const gossip::MemberInfo& member : members) {
    if (member.state != gossip::MemberState::kAlive &&
        member.state != gossip::MemberState::kSuspect) {
      continue;
    }
    auto tags = gossip::decode_tags(member.meta);
    if (!tags) continue;  // a peer's bytes: not a server we can read
    const gossip::Tags& t = *tags;
    auto tag = [&t](const char* key) {
      auto it = t.find(key);
      return it == t.end() ? std::string() : it->second;
    };
    if (tag("role") != "consul" || tag("dc") != datacenter) continue;
    int port = 0;
    if (!parse_int(tag("port"), port) || port <= 0 || port > 65535) continue;
    const std::string id = tag("id");
    if (!core::is_uuid(id)) continue;
    const std::string ip = split_host_port(member.addr).first;
    if (ip.empty()) continue;
    PoolServer server;
    server.node_id = id;
    server.node_name = member.name;
    server.rpc_address = host_port(ip, port);
    // A malformed expect counts as a conflicting one: that server will not agree either.
    if (const std::string e = tag("expect"); !e.empty() && !parse_int(e, server.expect)) {
      server.expect = -1;
    }
    server.bootstrap = tag("bootstrap") == "1";
    out.push_back(std::move(server));
  }
  std::sort(out.begin(), out.end(),
            [](const PoolServer& a, const PoolServer& b) { return a.rpc_address < b.rpc_address; });
  return out;
}

BootstrapPlan plan_bootstrap(const std::vector<PoolServer>& servers, int expect,
                             std::uint64_t self_id, const std::string& self_address) {
  BootstrapPlan plan;
  plan.voters[self_id] = self_address;
  for (const PoolServer& s : servers) {
    const std::uint64_t id = raft_id_of(s.node_id);
    if (id == self_id) continue;  // ourselves: counted above, with the address we bound
    if (s.expect != 0 && s.expect != expect) {
      plan.conflict = "member " + s.node_name + " has a conflicting expect value (" +
                      std::to_string(s.expect) + ", this server expects " + std::to_string(expect) +
                      "); all servers should expect the same number";
      return plan;
    }
    if (s.bootstrap) {
      plan.conflict = "member " + s.node_name + " runs in bootstrap mode; expect disabled";
      return plan;
    }
    plan.voters.emplace(id, s.rpc_address);
  }
  plan.ready = expect > 0 && static_cast<int>(plan.voters.size()) >= expect;
  return plan;
}

}  // namespace pc::daemon
