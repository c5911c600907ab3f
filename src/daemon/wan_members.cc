#include "daemon/wan_members.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "daemon/lan_members.h"
#include "gossip/tags.h"

namespace pc::daemon {

std::string wan_member_name(const std::string& node, const std::string& datacenter) {
  return node + "." + datacenter;
}

std::string wan_name_for(const std::string& node, const std::string& datacenter) {
  const std::string suffix = "." + datacenter;
  if (node.size() > suffix.size() && node.ends_with(suffix)) return node;
  return wan_member_name(node, datacenter);
}

gossip::Config wan_core_config(const std::string& member_name,
                               const core::GossipLanConfig& timing) {
  // lan_core_config applies the configurable keys; the rest are WAN's defaults.
  gossip::Config c = lan_core_config(member_name, timing);
  const gossip::Config wan = gossip::wan_config(member_name, "");
  c.push_pull_interval_ms = wan.push_pull_interval_ms;
  c.gossip_to_the_dead_ms = wan.gossip_to_the_dead_ms;
  return c;
}

std::vector<std::string> known_datacenters(const std::string& local_datacenter,
                                           const std::vector<gossip::MemberInfo>& wan_members,
                                           const DatacenterRtt& rtt) {
  std::set<std::string> others;
  for (const gossip::MemberInfo& m : wan_members) {
    if (m.state == gossip::MemberState::kLeft) continue;
    auto tags = gossip::decode_tags(m.meta);
    if (!tags) continue;
    auto dc = tags->find("dc");
    if (dc == tags->end() || dc->second.empty() || dc->second == local_datacenter) continue;
    others.insert(dc->second);
  }
  std::vector<std::string> out{local_datacenter};
  out.insert(out.end(), others.begin(), others.end());
  if (rtt) {
    std::vector<std::pair<std::optional<double>, std::string>> keyed;
    for (std::string& dc : out) keyed.emplace_back(rtt(dc), std::move(dc));
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
      if (a.first.has_value() != b.first.has_value()) return a.first.has_value();
      return a.first.has_value() && *a.first < *b.first;
    });
    out.clear();
    for (auto& [_, dc] : keyed) out.push_back(std::move(dc));
  }
  return out;
}

std::vector<std::string> flood_join_targets(const std::vector<gossip::MemberInfo>& lan_members,
                                            const std::vector<gossip::MemberInfo>& wan_members,
                                            std::string_view datacenter) {
  std::set<std::string> in_wan;
  for (const gossip::MemberInfo& m : wan_members) in_wan.insert(m.name);
  std::vector<std::string> out;
  for (const gossip::MemberInfo& m : lan_members) {
    if (m.state != gossip::MemberState::kAlive && m.state != gossip::MemberState::kSuspect) {
      continue;
    }
    auto tags = gossip::decode_tags(m.meta);
    if (!tags) continue;
    auto role = tags->find("role");
    auto dc = tags->find("dc");
    auto port = tags->find("wan_join_port");
    if (role == tags->end() || role->second != "consul" || dc == tags->end() ||
        dc->second != datacenter || port == tags->end()) {
      continue;
    }
    const int number = std::atoi(port->second.c_str());
    if (number <= 0 || number > 65535 || std::to_string(number) != port->second) continue;
    if (in_wan.contains(wan_member_name(m.name, std::string(datacenter)))) continue;
    // The member's gossip address without its LAN port ("ip:port", IPv6 in brackets).
    const std::size_t colon = m.addr.rfind(':');
    if (colon == std::string::npos || colon == 0) continue;
    out.push_back(m.addr.substr(0, colon) + ":" + port->second);
  }
  return out;
}

}  // namespace pc::daemon
