#include "daemon/wan_gossip.h"

#include <algorithm>
#include <map>

#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"
#include "daemon/lan_members.h"
#include "daemon/wan_members.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "gossip.wan";
// memberlist's TCPTimeout in its WAN profile (Consul's): links between datacenters are slow.
constexpr auto kWanTcpTimeout = std::chrono::seconds(30);
// As the LAN pool's: the leave broadcast's time to reach the others.
constexpr auto kLeaveTimeout = std::chrono::seconds(3);
constexpr int kSerfWanPortDefault = 8302;

}  // namespace

WanGossipOptions wan_gossip_options(const core::AgentConfig& config,
                                    const endpoints::AgentIdentity& identity,
                                    const gossip::Tags& tags) {
  WanGossipOptions o;
  o.member_name = wan_member_name(identity.node_name, identity.datacenter);
  o.bind_address = config.bind_addr;
  o.advertise_address =
      config.advertise_addr_wan.empty() ? identity.advertise_address : config.advertise_addr_wan;
  o.port = config.ports.serf_wan;
  o.timing = config.gossip_wan;
  o.encrypt = config.encrypt;
  o.encrypt_verify_incoming = config.encrypt_verify_incoming;
  o.encrypt_verify_outgoing = config.encrypt_verify_outgoing;
  o.tags = tags;
  // The loader validated the duration.
  if (auto d = core::parse_go_duration(config.retry_interval_wan); d && d->count() > 0) {
    o.retry_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  return o;
}

WanGossip::WanGossip(WanGossipOptions options) : options_(std::move(options)) {}

WanGossip::~WanGossip() {
  stop();
}

core::Status WanGossip::start() {
  auto pool = start_pool(options_, {wan_core_config(options_.member_name, options_.timing),
                                    kWanTcpTimeout, kModule, nullptr});
  if (!pool) return pool.error();
  pool_ = std::move(*pool);
  core::log::info(kModule, "gossiping on {} as {}", pool_->address(), options_.member_name);
  return core::ok();
}

core::Status WanGossip::set_tags(const gossip::Tags& tags) {
  auto meta = gossip::encode_tags(tags);
  if (!meta) return meta.error();
  return pool_->set_meta(std::move(*meta));
}

std::size_t WanGossip::join(const std::vector<std::string>& addresses) {
  std::vector<std::string> targets;
  for (const std::string& a : addresses) {
    for (std::string& target : gossip_join_addresses(a, kSerfWanPortDefault)) {
      if (target != pool_->address()) targets.push_back(std::move(target));
    }
  }
  if (targets.empty() || stopped_) return 0;
  const std::size_t answered = pool_->join(targets);
  if (answered > 0) joined_ = true;
  return answered;
}

void WanGossip::start_retry_join(std::vector<std::string> addresses) {
  if (addresses.empty() || joiner_.joinable()) return;
  joiner_ = std::thread([this, addresses = std::move(addresses)]() mutable {
    core::set_thread_name("pc-wan-join");
    join_loop(std::move(addresses));
  });
}

void WanGossip::join_loop(std::vector<std::string> addresses) {
  while (true) {
    const std::size_t answered = join(addresses);
    if (answered > 0) {
      core::log::info(kModule, "joined the WAN pool through {} of {} addresses", answered,
                      addresses.size());
      return;
    }
    core::log::warn(kModule, "could not join the WAN pool yet (tried {}); retrying in {}ms",
                    addresses.size(), options_.retry_interval.count());
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.retry_interval, [this] { return stopping_; })) return;
  }
}

std::vector<gossip::MemberInfo> WanGossip::members() const {
  return pool_ && !stopped_ ? pool_->members() : std::vector<gossip::MemberInfo>{};
}

std::vector<endpoints::WanServerCoordinate> WanGossip::server_coordinates() const {
  std::vector<endpoints::WanServerCoordinate> out;
  if (!pool_ || stopped_) return out;
  const std::map<std::string, gossip::Coordinate> known = pool_->member_coordinates();
  for (const gossip::MemberInfo& m : pool_->members()) {
    if (m.state != gossip::MemberState::kAlive && m.state != gossip::MemberState::kSuspect) {
      continue;
    }
    auto tags = gossip::decode_tags(m.meta);
    if (!tags) continue;
    auto dc = tags->find("dc");
    if (dc == tags->end()) continue;
    if (m.name == options_.member_name) {
      out.push_back({dc->second, m.name, pool_->coordinate()});
    } else if (auto c = known.find(m.name); c != known.end()) {
      out.push_back({dc->second, m.name, c->second});
    }
  }
  return out;
}

std::optional<double> WanGossip::median_rtt_ms(const std::string& datacenter) const {
  if (!pool_ || stopped_) return std::nullopt;
  const gossip::Coordinate self = pool_->coordinate();
  std::vector<double> rtts;
  for (const endpoints::WanServerCoordinate& s : server_coordinates()) {
    if (s.datacenter != datacenter) continue;
    if (auto rtt = gossip::estimate_rtt_ms(self, s.coordinate)) rtts.push_back(*rtt);
  }
  if (rtts.empty()) return std::nullopt;
  std::sort(rtts.begin(), rtts.end());
  return rtts[rtts.size() / 2];
}

std::vector<endpoints::LanMember> WanGossip::wan_members() const {
  std::vector<endpoints::LanMember> out;
  for (const gossip::MemberInfo& m : members()) out.push_back(lan_member_of(m));
  return out;
}

core::Result<gossip::MemberState> WanGossip::force_leave(const std::string& name, bool prune) {
  if (stopped_) return core::make_error(core::Code::kUnavailable, "gossip: not running");
  return pool_->force_leave(name, prune);
}

void WanGossip::stop_joiner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (joiner_.joinable()) joiner_.join();
}

void WanGossip::leave() {
  if (stopped_.exchange(true)) return;
  stop_joiner();
  if (!pool_) return;
  core::log::info(kModule, "leaving the WAN pool");
  if (auto s = pool_->leave(kLeaveTimeout); !s) {
    core::log::warn(kModule, "leave: {}", s.error().message);
  }
}

void WanGossip::stop() {
  if (stopped_.exchange(true)) return;
  stop_joiner();
  if (pool_) pool_->stop();
}

}  // namespace pc::daemon
