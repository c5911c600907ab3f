#pragma once
// serf's tags: a member's key/value labels (role, datacenter, ports, versions ...) carried in
// its gossip meta, which is at most kMetaSizeMax (512) bytes. Consul reads who is a server,
// of which datacenter, on which RPC port, from these tags.
//
// Encoding (docs/formats/gossip.md "Tags"): the byte 0xFF (serf's tag magic byte, so meta that
// is not tags is told apart), then per tag in key order: key length (varint), key, value
// length (varint), value. Keys are non-empty and unique; values may be empty. Encoding is
// canonical: decode(bytes) re-encodes to the same bytes. Decoding reads bytes from the network
// (another member's meta): anything malformed is kInvalidArgument, never a crash.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace pc::gossip {

using Tags = std::map<std::string, std::string>;

inline constexpr std::uint8_t kTagsMagicByte = 0xFF;

// kTooLarge when the encoding is over kMetaSizeMax; kInvalidArgument for an empty key.
core::Result<std::string> encode_tags(const Tags& tags);
// Empty meta is no tags.
core::Result<Tags> decode_tags(std::string_view meta);

// The tags Consul puts on a member of the LAN pool (agent/consul: setupSerf for servers and
// clients), for the daemon to fill in from its configuration.
struct LanTagsInput {
  bool server = false;       // role: "consul" for servers, "node" for client agents
  std::string datacenter;    // dc
  std::string node_id;       // id: the node's UUID
  std::string segment;       // segment: "" outside Consul Enterprise's network segments
  std::string build;         // build: the version string ("1.17.0:…")
  int protocol_version = 2;  // vsn (Consul's ProtocolVersion; vsn_min 2, vsn_max 3)
  // Servers only.
  int raft_protocol = 3;            // raft_vsn
  std::uint16_t server_port = 0;    // port: the server RPC port (8300)
  std::uint16_t wan_join_port = 0;  // wan_join_port: 0 leaves it out
  std::uint16_t grpc_port = 0;      // grpc_port: 0 leaves it out
  int bootstrap_expect = 0;         // expect: 0 leaves it out
  bool bootstrap = false;           // bootstrap = "1"
  bool read_replica = false;        // read_replica = "1" (and the older nonvoter = "1")
  bool use_tls = false;             // use_tls = "1"
  bool acls_enabled = false;        // acls: "1" or "0"
};
Tags consul_lan_tags(const LanTagsInput& input);

}  // namespace pc::gossip
