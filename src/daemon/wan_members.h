#pragma once
// The WAN pool's pure parts (Consul's serf WAN, port 8302, servers of every datacenter):
// member names, join addresses, the core's configuration from gossip_wan, and the list of
// known datacenters that /v1/catalog/datacenters answers. No I/O.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "gossip/core/config.h"
#include "gossip/core/memberlist.h"

namespace pc::daemon {

// A server's name in the WAN pool: "<node>.<datacenter>", as Consul's serf WAN names it.
std::string wan_member_name(const std::string& node, const std::string& datacenter);
// The WAN name of a node force-left through the LAN: Consul appends ".<dc>" unless the name
// already ends with it (Server.RemoveFailedNode).
std::string wan_name_for(const std::string& node, const std::string& datacenter);

// The gossip core's configuration for the WAN pool: memberlist's DefaultWANConfig (Consul's)
// with the gossip_wan settings, which the config loader validated. addr is left to the pool.
gossip::Config wan_core_config(const std::string& member_name, const core::GossipLanConfig& timing);

// Estimated round-trip time to a datacenter in seconds; nullopt when unknown.
using DatacenterRtt = std::function<std::optional<double>(const std::string& datacenter)>;

// The datacenters /v1/catalog/datacenters lists: the local one and the "dc" tag of every WAN
// member that has not left (a failed server still names a datacenter that exists; Consul's
// router keeps it until the member is reaped). Consul sorts them by the median estimated RTT
// from this server to each datacenter's servers (Vivaldi WAN coordinates). The hook: with
// `rtt` given, datacenters are stably sorted by it, unknown ones last; without it (no WAN
// coordinates yet), the local datacenter comes first (its RTT is the smallest) and the others
// follow by name.
std::vector<std::string> known_datacenters(const std::string& local_datacenter,
                                           const std::vector<gossip::MemberInfo>& wan_members,
                                           const DatacenterRtt& rtt = nullptr);

// Consul's flood join: the servers of our datacenter in the LAN pool (alive, role "consul",
// dc `datacenter`, a "wan_join_port" tag) that are not yet members of the WAN pool under
// "<node>.<dc>", as "ip:wan_join_port" addresses to join, in LAN member order. So the servers
// of a datacenter find each other on the WAN without retry_join_wan naming them all.
std::vector<std::string> flood_join_targets(const std::vector<gossip::MemberInfo>& lan_members,
                                            const std::vector<gossip::MemberInfo>& wan_members,
                                            std::string_view datacenter);

}  // namespace pc::daemon
