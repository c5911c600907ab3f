// serf tags to and from member meta: see tags.h.
#include "gossip/tags.h"

#include "gossip/core/config.h"

namespace pc::gossip {
namespace {

void put_varint(std::string& out, std::size_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

// At most two bytes: nothing in 512 bytes of meta is longer than 16,383.
bool get_varint(std::string_view& in, std::size_t& n) {
  n = 0;
  for (int shift = 0; shift < 14; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    n |= static_cast<std::size_t>(b & 0x7f) << shift;
    // A last byte of 0 after the first is a longer spelling of a shorter number: refused,
    // so that every value has one encoding.
    if ((b & 0x80) == 0) return shift == 0 || b != 0;
  }
  return false;
}

bool get_string(std::string_view& in, std::string& out) {
  std::size_t size = 0;
  if (!get_varint(in, size) || size > in.size()) return false;
  out.assign(in.substr(0, size));
  in.remove_prefix(size);
  return true;
}

core::Error malformed(std::string_view why) {
  return core::Error{core::Code::kInvalidArgument, "serf tags: " + std::string(why)};
}

}  // namespace

core::Result<std::string> encode_tags(const Tags& tags) {
  std::string out(1, static_cast<char>(kTagsMagicByte));
  for (const auto& [key, value] : tags) {
    if (key.empty()) return malformed("empty key");
    put_varint(out, key.size());
    out += key;
    put_varint(out, value.size());
    out += value;
  }
  if (out.size() > kMetaSizeMax) {
    return core::make_error(core::Code::kTooLarge,
                            "serf tags: " + std::to_string(out.size()) +
                                " bytes encoded, over the member meta limit of " +
                                std::to_string(kMetaSizeMax));
  }
  return out;
}

core::Result<Tags> decode_tags(std::string_view meta) {
  Tags tags;
  if (meta.empty()) return tags;
  if (meta.size() > kMetaSizeMax) return malformed("meta over 512 bytes");
  if (static_cast<std::uint8_t>(meta.front()) != kTagsMagicByte) return malformed("no magic byte");
  meta.remove_prefix(1);
  while (!meta.empty()) {
    std::string key;
    std::string value;
    if (!get_string(meta, key) || !get_string(meta, value)) return malformed("truncated");
    if (key.empty()) return malformed("empty key");
    // In order and unique: one encoding per set of tags.
    if (!tags.empty() && key <= tags.rbegin()->first) return malformed("keys out of order");
    tags.emplace_hint(tags.end(), std::move(key), std::move(value));
  }
  return tags;
}

Tags consul_lan_tags(const LanTagsInput& in) {
  Tags tags;
  tags["role"] = in.server ? "consul" : "node";
  tags["dc"] = in.datacenter;
  tags["segment"] = in.segment;
  tags["id"] = in.node_id;
  tags["vsn"] = std::to_string(in.protocol_version);
  tags["vsn_min"] = "2";
  tags["vsn_max"] = "3";
  tags["build"] = in.build;
  if (!in.server) return tags;
  tags["raft_vsn"] = std::to_string(in.raft_protocol);
  tags["port"] = std::to_string(in.server_port);
  if (in.wan_join_port != 0) tags["wan_join_port"] = std::to_string(in.wan_join_port);
  if (in.grpc_port != 0) tags["grpc_port"] = std::to_string(in.grpc_port);
  if (in.bootstrap) tags["bootstrap"] = "1";
  if (in.bootstrap_expect != 0) tags["expect"] = std::to_string(in.bootstrap_expect);
  if (in.read_replica) {
    tags["read_replica"] = "1";
    tags["nonvoter"] = "1";
  }
  if (in.use_tls) tags["use_tls"] = "1";
  tags["acls"] = in.acls_enabled ? "1" : "0";
  // Feature flags Consul servers advertise: federation states, service-intentions.
  tags["ft_fs"] = "1";
  tags["ft_si"] = "1";
  return tags;
}

}  // namespace pc::gossip
