#include "gossip/core/config.h"

#include <utility>

namespace pc::gossip {

core::Status validate(const Config& c) {
  auto bad = [](const char* why) {
    return core::make_error(core::Code::kInvalidArgument, std::string("gossip config: ") + why);
  };
  if (c.name.empty() || c.name.size() > kNameSizeMax) return bad("name empty or too long");
  if (c.addr.empty() || c.addr.size() > kAddrSizeMax) return bad("address empty or too long");
  if (c.meta.size() > kMetaSizeMax) return bad("meta over 512 bytes");
  if (c.probe_interval_ms == 0 || c.gossip_interval_ms == 0 || c.push_pull_interval_ms == 0)
    return bad("intervals must be positive");
  if (c.probe_timeout_ms > c.probe_interval_ms) return bad("probe timeout over the interval");
  if (c.awareness_max_multiplier < 1) return bad("awareness multiplier below 1");
  if (c.suspicion_mult < 1 || c.suspicion_max_timeout_mult < 1 || c.retransmit_mult < 1)
    return bad("multipliers must be at least 1");
  if (c.indirect_checks < 0 || c.gossip_nodes < 0) return bad("negative member counts");
  if (c.udp_packet_size < 512 || c.udp_packet_size > kUdpPacketSizeMax)
    return bad("udp packet size out of range");
  return core::ok();
}

Config lan_config(std::string name, std::string addr) {
  Config c;  // the defaults are DefaultLANConfig's
  c.name = std::move(name);
  c.addr = std::move(addr);
  return c;
}

Config wan_config(std::string name, std::string addr) {
  Config c = lan_config(std::move(name), std::move(addr));
  c.suspicion_mult = 6;
  c.push_pull_interval_ms = 60'000;
  c.probe_timeout_ms = 3'000;
  c.probe_interval_ms = 5'000;
  c.gossip_nodes = 4;  // less often, to one more member
  c.gossip_interval_ms = 500;
  c.gossip_to_the_dead_ms = 60'000;
  return c;
}

Config local_config(std::string name, std::string addr) {
  Config c = lan_config(std::move(name), std::move(addr));
  c.indirect_checks = 1;
  c.retransmit_mult = 2;
  c.suspicion_mult = 3;
  c.push_pull_interval_ms = 15'000;
  c.probe_timeout_ms = 200;
  c.probe_interval_ms = 1'000;
  c.gossip_interval_ms = 100;
  c.gossip_to_the_dead_ms = 15'000;
  return c;
}

}  // namespace pc::gossip
