#pragma once
// Which servers an agent knows, read from its LAN gossip pool (Consul: servers find each
// other, and clients find servers, through serf LAN; agent/metadata IsConsulServer and
// agent/consul/server_serf.go maybeBootstrap).
//
// A member is a server of this datacenter when its tags say role "consul" and dc is ours;
// it is usable while serf counts it alive (suspect included). Its RPC address is the
// member's gossip IP with the "port" tag; its Raft id comes from its "id" tag (the node
// UUID). A member whose tags lack a valid id or port is not a server we can talk to.
//
// Bootstrap-expect: once `expect` servers (this one included) are alive, and every one of
// them advertises the same expect (or none) and none runs in bootstrap mode, all of them
// bootstrap with the same voter set. A mismatch blocks bootstrapping and is reported, as
// Consul logs it, so the operator can fix the server started with the wrong number.
//
// Pure: no I/O, clock or threads.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/core/memberlist.h"

namespace pc::daemon {

// Default ports when an address names none: server RPC (Consul's 8300) and LAN gossip (8301).
inline constexpr int kDefaultServerPort = 8300;
inline constexpr int kDefaultSerfLanPort = 8301;

// "ip" or "ip:port" (IPv6 in brackets) with `default_port` filled in when none is given;
// anything else is returned unchanged (the caller's dial then fails and says so).
std::string with_default_port(const std::string& address, int default_port);

// The Raft id of a server: the first 64 bits of its node ID (a UUID), never 0.
std::uint64_t raft_id_of(const std::string& node_id);

struct PoolServer {
  std::string node_id;      // tag "id"
  std::string node_name;    // the member's name
  std::string rpc_address;  // "ip:port": gossip IP, tag "port"
  int expect = 0;           // tag "expect"; 0 when absent, -1 when not a number
  bool bootstrap = false;   // tag "bootstrap" = "1"

  bool operator==(const PoolServer&) const = default;
};

// The alive servers of `datacenter` among the pool's members, ordered by RPC address.
std::vector<PoolServer> servers_in_pool(const std::vector<gossip::MemberInfo>& members,
                                        std::string_view datacenter);

struct BootstrapPlan {
  // True when this server may bootstrap now with `voters`.
  bool ready = false;
  // Raft id → RPC address of every server counted, this one included.
  std::map<std::uint64_t, std::string> voters;
  // Why bootstrapping is blocked rather than just waiting for more servers ("" otherwise):
  // a server with another expect value, or one in bootstrap mode.
  std::string conflict;
};

// `servers`: the pool's servers (servers_in_pool), which may or may not list this one;
// `self_id` and `self_address`: this server's Raft id and RPC address, always counted.
BootstrapPlan plan_bootstrap(const std::vector<PoolServer>& servers, int expect,
                             std::uint64_t self_id, const std::string& self_address);

}  // namespace pc::daemon
