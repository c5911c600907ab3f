#include "daemon/lan_members.h"

#include <charconv>
#include <chrono>

#include "core/duration.h"
#include "gossip/tags.h"

namespace pc::daemon {
namespace {

gossip::Tags tags_of(const gossip::MemberInfo& member) {
  auto tags = gossip::decode_tags(member.meta);
  return tags ? std::move(*tags) : gossip::Tags{};
}

int serf_status(gossip::MemberState state) {
  switch (state) {
    case gossip::MemberState::kAlive:
    case gossip::MemberState::kSuspect: return kSerfStatusAlive;
    case gossip::MemberState::kDead: return kSerfStatusFailed;
    case gossip::MemberState::kLeft: return kSerfStatusLeft;
  }
  return kSerfStatusFailed;
}

std::uint64_t millis(const std::string& go_duration, std::uint64_t fallback) {
  auto d = core::parse_go_duration(go_duration);
  if (!d || d->count() <= 0) return fallback;
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(*d).count());
}

}  // namespace

std::pair<std::string, int> split_host_port(const std::string& addr) {
  const std::size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return {addr, 0};
  std::string host = addr.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  const char* begin = addr.data() + colon + 1;
  const char* end = addr.data() + addr.size();
  auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || ptr != end || port < 0 || port > 65535) port = 0;
  return {host, port};
}

endpoints::LanMember lan_member_of(const gossip::MemberInfo& member) {
  endpoints::LanMember out;
  out.name = member.name;
  auto [host, port] = split_host_port(member.addr);
  out.addr = std::move(host);
  out.port = port;
  out.tags = tags_of(member);
  out.status = serf_status(member.state);
  return out;
}

ReconcileMember reconcile_member_of(const gossip::MemberInfo& member) {
  ReconcileMember out;
  out.name = member.name;
  gossip::Tags tags = tags_of(member);
  out.node_id = tags["id"];
  out.datacenter = tags["dc"];
  out.address = split_host_port(member.addr).first;
  out.server = tags["role"] == "consul";
  out.build = tags["build"];
  const std::string& port = tags["port"];
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.server_port);
  if (ec != std::errc() || ptr != port.data() + port.size()) out.server_port = 0;
  switch (serf_status(member.state)) {
    case kSerfStatusAlive: out.health = MemberHealth::kAlive; break;
    case kSerfStatusLeft: out.health = MemberHealth::kLeft; break;
    default: out.health = MemberHealth::kFailed; break;
  }
  return out;
}

gossip::Config lan_core_config(const std::string& node_name, const core::GossipLanConfig& timing) {
  gossip::Config c = gossip::lan_config(node_name, "");
  c.gossip_nodes = timing.gossip_nodes;
  c.gossip_interval_ms = millis(timing.gossip_interval, c.gossip_interval_ms);
  c.probe_interval_ms = millis(timing.probe_interval, c.probe_interval_ms);
  c.probe_timeout_ms = millis(timing.probe_timeout, c.probe_timeout_ms);
  c.retransmit_mult = timing.retransmit_mult;
  c.suspicion_mult = timing.suspicion_mult;
  c.reconnect_timeout_ms = millis(timing.reconnect_timeout, c.reconnect_timeout_ms);
  return c;
}

}  // namespace pc::daemon
