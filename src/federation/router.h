#pragma once
// Which servers serve each datacenter, read from a gossip pool's members (Consul's
// agent/router: the WAN pool's servers grouped by their "dc" tag).
//
// A member is a server when its tags say role "consul" and carry a datacenter and a valid RPC
// port ("port"); its RPC address is the member's gossip IP with that port (the WAN address
// for the WAN pool). It is usable while gossip counts it alive or suspect: a failed or left
// member is skipped, so a datacenter whose servers all failed has none.
//
// Pure: no I/O, clock or threads; the caller passes the members and the randomness.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/rand.h"
#include "gossip/core/memberlist.h"
#include "gossip/tags.h"

namespace pc::federation {

struct ServerMember {
  std::string name;         // the member's name ("<node>.<dc>" in the WAN pool)
  std::string datacenter;   // tag "dc"
  std::string node_id;      // tag "id" (not checked here: the LAN bootstrap needs a UUID)
  std::string rpc_address;  // "ip:port" ("[ip6]:port"): gossip IP, tag "port"
  gossip::Tags tags;
};

// The member as a server, or nullopt when its tags do not describe one (role, dc, port) or
// its address has no IP. Ignores the member's state.
std::optional<ServerMember> server_member_of(const gossip::MemberInfo& member);

// "ip:port", with an IPv6 address in brackets.
std::string join_host_port(const std::string& ip, int port);

// The datacenter of the server member whose RPC address is `rpc_address` (any state); "" when
// no member is. What a TLS dial checks the certificate's `server.<dc>.<domain>` against.
std::string datacenter_of(const std::vector<gossip::MemberInfo>& members,
                          const std::string& rpc_address);

// Alive or suspect: a server worth calling.
bool usable(const gossip::MemberInfo& member);

// Datacenter -> RPC addresses of its usable servers, each list sorted and free of duplicates.
// A datacenter appears only when it has at least one.
using DcServers = std::map<std::string, std::vector<std::string>>;
DcServers servers_by_datacenter(const std::vector<gossip::MemberInfo>& members);

// Every datacenter a server member names, in any state (a datacenter whose servers all failed
// is still known), sorted.
std::vector<std::string> datacenters_of(const std::vector<gossip::MemberInfo>& members);

// The order to try `servers` in: a random permutation, so the calls of many servers spread
// over the remote datacenter's servers (Consul's router shuffles its server lists).
std::vector<std::string> attempt_order(std::vector<std::string> servers, core::Rand& rand);

}  // namespace pc::federation
