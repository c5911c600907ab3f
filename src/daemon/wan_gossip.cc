#include "daemon/wan_gossip.h"

#include <algorithm>
#include <map>

#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"
#include "daemon/gossip_stats.h"
#include "daemon/lan_members.h"
#include "daemon/wan_members.h"
#include "gossip/keyring_file.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "gossip.wan";
// memberlist's TCPTimeout in its WAN profile (Consul's): links between datacenters are slow.
constexpr auto kWanTcpTimeout = std::chrono::seconds(30);
// How often the servers of this datacenter seen in the LAN pool are checked against the WAN
// pool (Consul floods on LAN member events; a short poll finds them as soon).
constexpr auto kFloodInterval = std::chrono::seconds(2);
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
  o.datacenter = identity.datacenter;
  // Consul keeps the WAN keyring in <data_dir>/serf/remote.keyring.
  o.keyring_file = keyring_path(config.dev, config.data_dir, gossip::kWanKeyringFile);
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
  auto keys =
      load_pool_keyring(options_.keyring_file, options_.encrypt, options_.encrypt_verify_incoming,
                        options_.encrypt_verify_outgoing, kModule);
  if (!keys) return keys.error();
  keyring_ = keys->keyring;
  PoolSetup setup{wan_core_config(options_.member_name, options_.timing), kWanTcpTimeout, kModule,
                  nullptr};
  setup.keyring = keys->keyring;
  setup.on_query = std::move(keys->on_query);
  auto pool = start_pool(options_, std::move(setup));
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

gossip::Pool::JoinOutcome WanGossip::join(const std::vector<std::string>& addresses) {
  std::vector<std::string> targets;
  for (const std::string& a : addresses) {
    for (std::string& target : gossip_join_addresses(a, kSerfWanPortDefault)) {
      if (target != pool_->address()) targets.push_back(std::move(target));
    }
  }
  if (targets.empty() || stopped_) return {};
  const gossip::Pool::JoinOutcome outcome = pool_->join_outcome(targets);
  if (outcome.answered > 0) joined_ = true;
  return outcome;
}

void WanGossip::start_retry_join(std::vector<std::string> addresses) {
  if (addresses.empty() || joiner_.joinable()) return;
  joiner_ = std::thread([this, addresses = std::move(addresses)]() mutable {
    core::set_thread_name("pc-wan-join");
    join_loop(std::move(addresses));
  });
}

void WanGossip::start_flood(std::function<std::vector<gossip::MemberInfo>()> lan_members) {
  if (!pool_ || flooder_.joinable()) return;
  flooder_ = std::thread([this, lan_members = std::move(lan_members)] {
    core::set_thread_name("pc-wan-flood");
    while (true) {
      const std::vector<std::string> targets =
          flood_join_targets(lan_members(), members(), options_.datacenter);
      if (!targets.empty() && !stopped_) {
        const std::size_t answered = pool_->join(targets);
        core::log::info(kModule, "flood join: {} of {} servers of this datacenter answered",
                        answered, targets.size());
      }
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, kFloodInterval, [this] { return stopping_; })) return;
    }
  });
}

void WanGossip::join_loop(std::vector<std::string> addresses) {
  while (true) {
    const gossip::Pool::JoinOutcome outcome = join(addresses);
    if (outcome.answered > 0) {
      core::log::info(kModule, "joined the WAN pool through {} of {} addresses", outcome.answered,
                      addresses.size());
      return;
    }
    core::log::warn(kModule, "could not join the WAN pool yet (tried {}){}; retrying in {}ms",
                    addresses.size(), key_mismatch_hint(outcome.refused),
                    options_.retry_interval.count());
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.retry_interval, [this] { return stopping_; })) return;
  }
}

std::vector<gossip::MemberInfo> WanGossip::members() const {
  return pool_ && !stopped_ ? pool_->members() : std::vector<gossip::MemberInfo>{};
}

void WanGossip::keyring_operation(const endpoints::KeyringRequest& request, PoolKeyringDone done) {
  if (!pool_ || stopped_) {
    done(core::make_error(core::Code::kUnavailable, "no WAN gossip pool"));
    return;
  }
  pool_keyring_operation(*pool_, *keyring_, {true, options_.datacenter, options_.member_name},
                         request, std::move(done));
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
  if (flooder_.joinable()) flooder_.join();
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

std::optional<endpoints::GossipPoolStats> WanGossip::stats() const {
  if (!pool_ || stopped_) return std::nullopt;
  return gossip_pool_stats(*pool_);
}

}  // namespace pc::daemon
