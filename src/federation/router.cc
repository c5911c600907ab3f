#include "federation/router.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace pc::federation {
namespace {

bool parse_port(const std::string& text, int& port) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && port > 0 &&
         port <= 65535;
}

// The IP of a member's "ip:port" or "[ip6]:port" gossip address; "" when it has none.
std::string ip_of(const std::string& addr) {
  const std::size_t colon = addr.rfind(':');
  std::string host = colon == std::string::npos ? addr : addr.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

std::string tag_of(const gossip::Tags& tags, const char* key) {
  auto it = tags.find(key);
  return it == tags.end() ? std::string() : it->second;
}

}  // namespace

std::optional<ServerMember> server_member_of(const gossip::MemberInfo& member) {
  auto tags = gossip::decode_tags(member.meta);
  if (!tags) return std::nullopt;  // a peer's bytes: not a server we can read
  if (tag_of(*tags, "role") != "consul") return std::nullopt;
  ServerMember out;
  out.datacenter = tag_of(*tags, "dc");
  if (out.datacenter.empty()) return std::nullopt;
  int port = 0;
  if (!parse_port(tag_of(*tags, "port"), port)) return std::nullopt;
  const std::string ip = ip_of(member.addr);
  if (ip.empty()) return std::nullopt;
  out.name = member.name;
  out.node_id = tag_of(*tags, "id");
  out.rpc_address = join_host_port(ip, port);
  out.tags = std::move(*tags);
  return out;
}

std::string join_host_port(const std::string& ip, int port) {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

bool usable(const gossip::MemberInfo& member) {
  return member.state == gossip::MemberState::kAlive ||
         member.state == gossip::MemberState::kSuspect;
}

DcServers servers_by_datacenter(const std::vector<gossip::MemberInfo>& members) {
  DcServers out;
  for (const gossip::MemberInfo& member : members) {
    if (!usable(member)) continue;
    auto server = server_member_of(member);
    if (!server) continue;
    out[server->datacenter].push_back(std::move(server->rpc_address));
  }
  for (auto& [dc, servers] : out) {
    std::sort(servers.begin(), servers.end());
    servers.erase(std::unique(servers.begin(), servers.end()), servers.end());
  }
  return out;
}

std::string datacenter_of(const std::vector<gossip::MemberInfo>& members,
                          const std::string& rpc_address) {
  for (const gossip::MemberInfo& member : members) {
    auto server = server_member_of(member);
    if (server && server->rpc_address == rpc_address) return server->datacenter;
  }
  return {};
}

std::vector<std::string> datacenters_of(const std::vector<gossip::MemberInfo>& members) {
  std::set<std::string> dcs;
  for (const gossip::MemberInfo& member : members) {
    if (auto server = server_member_of(member)) dcs.insert(server->datacenter);
  }
  return {dcs.begin(), dcs.end()};
}

std::vector<std::string> attempt_order(std::vector<std::string> servers, core::Rand& rand) {
  // Fisher-Yates with the injected randomness, so tests replay an order from a seed.
  for (std::size_t i = servers.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rand.next_u64() % i);
    std::swap(servers[i - 1], servers[j]);
  }
  return servers;
}

}  // namespace pc::federation
