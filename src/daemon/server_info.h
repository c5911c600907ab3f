#pragma once
// kRpcServerInfo's reply (consensus::kRpcServerInfo, asked with an empty payload): what a
// server says about itself to servers that found it in the LAN pool and look for a cluster
// to bootstrap or join (does it follow a leader, which Raft peers does it have), or for the
// leader after losing it. Text, one field per line:
//
//   node id, node name, datacenter, rpc address ("ip:port"), the address and Raft id of the
//   leader it follows ("" and 0 when it knows none), the Raft ids of the servers in its
//   configuration (comma-separated), and — since gossip — its LAN gossip address ("ip:port").
//
// The LAN address is the last line so that older readers, which read the first seven lines
// by position, go on working; a reply from an older server has no eighth line and decodes
// with an empty serf_lan_address. docs/formats/rpc.md describes the method.
//
// decode_server_info() reads bytes from the network: anything malformed is kInvalidArgument,
// never a crash (server_info_fuzz). Pure: no I/O.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::daemon {

// Servers in one configuration that a reply may list; Consul clusters have 3 to 7.
inline constexpr std::size_t kServerInfoMembersMax = 1024;
// The whole reply: ids, names and addresses are short.
inline constexpr std::size_t kServerInfoSizeMax = 64 * 1024;

struct ServerInfo {
  std::string node_id;
  std::string node_name;
  std::string datacenter;
  std::string rpc_address;
  std::string leader_address;          // "" when no leader is known
  std::uint64_t leader_id = 0;         // 0 when no leader is known
  std::vector<std::uint64_t> members;  // Raft ids of the configuration's voters and learners
  std::string serf_lan_address;        // "" from a server without gossip

  bool operator==(const ServerInfo&) const = default;
};

std::string encode_server_info(const ServerInfo& info);
core::Result<ServerInfo> decode_server_info(std::string_view bytes);

}  // namespace pc::daemon
