#include "daemon/server_discovery.h"

#include <algorithm>
#include <charconv>

#include "core/config.h"
#include "core/rand.h"
#include "daemon/lan_members.h"
#include "federation/router.h"
#include "gossip/tags.h"

namespace pc::daemon {
namespace {

bool parse_int(const std::string& text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string with_default_port(const std::string& address, int default_port) {
  auto parsed = core::parse_recursor_address(address);
  if (!parsed) return address;
  const bool has_port = address.front() == '['
                            ? address.find("]:") != std::string::npos
                            : std::count(address.begin(), address.end(), ':') == 1;
  return federation::join_host_port(parsed->ip, has_port ? parsed->port : default_port);
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
    if (!federation::usable(member)) continue;
    // The WAN router's reading of a server member (role, dc, port, IP), so both pools agree.
    auto server = federation::server_member_of(member);
    if (!server || server->datacenter != datacenter || !core::is_uuid(server->node_id)) continue;
    const gossip::Tags& t = server->tags;
    auto tag = [&t](const char* key) {
      auto it = t.find(key);
      return it == t.end() ? std::string() : it->second;
    };
    PoolServer ps;
    ps.node_id = server->node_id;
    ps.node_name = member.name;
    ps.rpc_address = std::move(server->rpc_address);
    // A malformed expect counts as a conflicting one: that server will not agree either.
    if (const std::string e = tag("expect"); !e.empty() && !parse_int(e, ps.expect)) {
      ps.expect = -1;
    }
    ps.bootstrap = tag("bootstrap") == "1";
    out.push_back(std::move(ps));
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
