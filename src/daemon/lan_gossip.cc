#include "daemon/lan_gossip.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>

#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"
#include "daemon/gossip_stats.h"
#include "daemon/lan_members.h"
#include "daemon/pool_keyring.h"
#include "daemon/server_discovery.h"
#include "daemon/user_events.h"
#include "gossip/keyring_file.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "gossip.lan";
// How long a graceful leave may take to reach the others (Consul's leave waits as long for
// the broadcast: memberlist's LeavePropagateDelay plus the broadcast timeout).
constexpr auto kLeaveTimeout = std::chrono::seconds(3);

}  // namespace

gossip::Tags lan_tags(const core::AgentConfig& config, const endpoints::AgentIdentity& identity) {
  gossip::LanTagsInput in;
  in.server = identity.server;
  in.datacenter = identity.datacenter;
  in.node_id = identity.node_id;
  in.build = identity.version;
  if (identity.server) {
    in.server_port = static_cast<std::uint16_t>(identity.server_port);
    // Where the other servers of this datacenter join our WAN pool (Consul's flood join).
    if (identity.serf_wan_port > 0) {
      in.wan_join_port = static_cast<std::uint16_t>(identity.serf_wan_port);
    }
    in.bootstrap_expect = config.bootstrap_expect;
    in.bootstrap = config.dev || config.bootstrap;
  }
  return gossip::consul_lan_tags(in);
}

std::vector<std::string> lan_join_addresses(const std::string& target) {
  return gossip_join_addresses(target, kDefaultSerfLanPort);
}

LanGossipOptions lan_gossip_options(const core::AgentConfig& config,
                                    const endpoints::AgentIdentity& identity) {
  LanGossipOptions o;
  o.node_name = identity.node_name;
  o.bind_address = config.bind_addr;
  o.advertise_address = identity.advertise_address;
  o.port = config.ports.serf_lan;
  o.timing = config.gossip_lan;
  if (o.timing.reconnect_timeout.empty()) o.timing.reconnect_timeout = config.reconnect_timeout;
  // Consul's serf snapshot lives at <data_dir>/serf/local.snapshot; -dev keeps nothing.
  if (!config.dev && !config.data_dir.empty()) {
    o.snapshot_path = config.data_dir + "/serf/local.snapshot";
  }
  o.encrypt = config.encrypt;
  o.encrypt_verify_incoming = config.encrypt_verify_incoming;
  o.encrypt_verify_outgoing = config.encrypt_verify_outgoing;
  // Consul keeps the LAN keyring in <data_dir>/serf/local.keyring; -dev keeps nothing.
  o.keyring_file = keyring_path(config.dev, config.data_dir, gossip::kLanKeyringFile);
  o.datacenter = identity.datacenter;
  o.tags = lan_tags(config, identity);
  // Validated at load; a value that still does not parse keeps Consul's default.
  if (auto d = core::parse_go_duration(config.retry_interval); d && d->count() > 0) {
    o.retry_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  o.retry_max = config.retry_max;
  return o;
}

LanGossip::LanGossip(LanGossipOptions options) : options_(std::move(options)) {}

LanGossip::~LanGossip() {
  stop();
}

core::Status LanGossip::start() {
  auto keys =
      load_pool_keyring(options_.keyring_file, options_.encrypt, options_.encrypt_verify_incoming,
                        options_.encrypt_verify_outgoing, kModule);
  if (!keys) return keys.error();
  keyring_ = keys->keyring;
  if (!options_.snapshot_path.empty()) {
    auto file = LanSnapshotFile::open(options_.snapshot_path);
    if (file) {
      snapshot_ = std::move(*file);
    } else {
      core::log::warn(kModule, "no member list on disk: {}", file.error().message);
    }
  }
  PoolSetup setup{lan_core_config(options_.node_name, options_.timing), std::chrono::seconds(10),
                  kModule, options_.on_change};
  setup.on_event = [this](const gossip::Event& e) { record_in_snapshot(e); };
  setup.keyring = keys->keyring;
  setup.on_query = std::move(keys->on_query);
  setup.on_user_event = options_.on_user_event;
  auto pool = start_pool(options_, std::move(setup));
  if (!pool) return pool.error();
  pool_ = std::move(*pool);
  core::log::info(kModule, "gossiping on {} as {}", pool_->address(), options_.node_name);
  rejoin_from_snapshot();
  return core::ok();
}

void LanGossip::record_in_snapshot(const gossip::Event& e) {
  if (!snapshot_ || e.member.name == options_.node_name) return;
  if (e.kind == gossip::EventKind::kJoin || e.kind == gossip::EventKind::kUpdate) {
    snapshot_->alive(e.member.name, e.member.addr);
  } else {
    snapshot_->not_alive(e.member.name);
  }
}

void LanGossip::rejoin_from_snapshot() {
  if (!snapshot_) return;
  if (snapshot_->previous().left) {
    core::log::info(kModule, "left the LAN pool last time: not rejoining its members");
    return;
  }
  std::vector<std::string> addresses =
      lan_snapshot_rejoin_addresses(snapshot_->previous(), options_.node_name);
  if (addresses.empty()) return;
  rejoiner_ = std::thread([this, addresses = std::move(addresses)] {
    core::set_thread_name("pc-lan-rejoin");
    const std::size_t answered = pool_->join(addresses);
    if (answered > 0) joined_ = true;
    core::log::info(kModule, "rejoined the LAN pool through {} of {} members on disk", answered,
                    addresses.size());
  });
}

core::Status LanGossip::set_tags(const gossip::Tags& tags) {
  auto meta = gossip::encode_tags(tags);
  if (!meta) return meta.error();
  return pool_->set_meta(std::move(*meta));
}

void LanGossip::start_joining(std::vector<std::string> lan_addresses) {
  if (lan_addresses.empty() || joiner_.joinable()) return;
  joiner_ = std::thread([this, targets = std::move(lan_addresses)]() mutable {
    core::set_thread_name("pc-lan-join");
    join_loop(std::move(targets));
  });
}

gossip::Pool::JoinOutcome LanGossip::join_once(const std::vector<std::string>& targets) {
  std::vector<std::string> addresses;
  for (const std::string& target : targets) {
    std::vector<std::string> resolved = lan_join_addresses(target);
    if (resolved.empty()) core::log::warn(kModule, "join {}: cannot resolve the address", target);
    for (std::string& a : resolved) {
      if (a != pool_->address()) addresses.push_back(std::move(a));
    }
  }
  if (addresses.empty()) return {};
  return pool_->join_outcome(addresses);
}

core::Result<std::size_t> LanGossip::join_now(const std::vector<std::string>& lan_addresses) {
  if (lan_addresses.empty()) return std::size_t{0};
  const gossip::Pool::JoinOutcome outcome = join_once(lan_addresses);
  const std::size_t answered = outcome.answered;
  if (answered == 0) {
    std::string list;
    for (const std::string& a : lan_addresses) list += (list.empty() ? "" : ", ") + a;
    return core::make_error(core::Code::kUnavailable,
                            "failed to join any of the start_join addresses: " + list +
                                key_mismatch_hint(outcome.refused));
  }
  joined_ = true;
  core::log::info(kModule, "join: joined {} of {} agents", answered, lan_addresses.size());
  return answered;
}

void LanGossip::join_loop(std::vector<std::string> targets) {
  for (int attempt = 1;; ++attempt) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    const gossip::Pool::JoinOutcome outcome = join_once(targets);
    const std::size_t answered = outcome.answered;
    if (answered > 0) {
      joined_ = true;
      core::log::info(kModule, "retry_join: joined the LAN pool through {} of {} addresses",
                      answered, targets.size());
      return;
    }
    if (options_.retry_max > 0 && attempt >= options_.retry_max) {
      core::log::error(kModule, "retry_join: no address answered in {} attempts; giving up",
                       attempt);
      return;
    }
    core::log::warn(kModule, "retry_join: no address answered (attempt {}){}; retrying in {}ms",
                    attempt, key_mismatch_hint(outcome.refused), options_.retry_interval.count());
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.retry_interval, [this] { return stopping_; })) return;
  }
}

std::vector<gossip::MemberInfo> LanGossip::members() const {
  return pool_ ? pool_->members() : std::vector<gossip::MemberInfo>{};
}

std::vector<endpoints::LanMember> LanGossip::lan_members() const {
  std::vector<endpoints::LanMember> out;
  for (const gossip::MemberInfo& m : members()) out.push_back(lan_member_of(m));
  return out;
}

std::vector<PoolServer> LanGossip::servers(std::string_view datacenter) const {
  return servers_in_pool(members(), datacenter);
}

std::chrono::milliseconds LanGossip::reconnect_timeout() const {
  return std::chrono::milliseconds(
      lan_core_config(options_.node_name, options_.timing).reconnect_timeout_ms);
}

gossip::Pool::JoinOutcome LanGossip::join(const std::vector<std::string>& gossip_addresses) {
  if (!pool_ || stopped_) return {};
  const gossip::Pool::JoinOutcome outcome = pool_->join_outcome(gossip_addresses);
  if (outcome.answered > 0) joined_ = true;
  return outcome;
}

core::Result<gossip::MemberState> LanGossip::force_leave(const std::string& name, bool prune) {
  if (!pool_ || stopped_) return core::make_error(core::Code::kUnavailable, "gossip: not running");
  return pool_->force_leave(name, prune);
}

void LanGossip::keyring_operation(const endpoints::KeyringRequest& request, PoolKeyringDone done) {
  if (!pool_) {
    done(core::make_error(core::Code::kUnavailable, "no LAN gossip pool"));
    return;
  }
  pool_keyring_operation(*pool_, *keyring_, {false, options_.datacenter, options_.node_name},
                         request, std::move(done));
}

core::Status LanGossip::fire_user_event(const endpoints::UserEvent& event) {
  if (auto valid = endpoints::validate_user_event(event); !valid) return valid;
  if (!pool_) return core::make_error(core::Code::kUnavailable, "no LAN gossip pool");
  auto fired = pool_->fire_event(user_event_serf_name(event), endpoints::encode_user_event(event));
  if (!fired) return fired.error();
  return core::ok();
}

void LanGossip::stop_joiner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (joiner_.joinable()) joiner_.join();
}

void LanGossip::leave() {
  if (stopped_) return;
  stop_joiner();
  if (rejoiner_.joinable()) rejoiner_.join();
  if (snapshot_) snapshot_->leave();
  if (pool_) {
    core::log::info(kModule, "leaving the LAN pool");
    if (auto s = pool_->leave(kLeaveTimeout); !s) {
      core::log::warn(kModule, "leave: {}", s.error().message);
    }
  }
  stopped_ = true;
}

void LanGossip::stop() {
  if (stopped_) return;
  stop_joiner();
  if (rejoiner_.joinable()) rejoiner_.join();
  if (pool_) pool_->stop();
  stopped_ = true;
}

std::optional<endpoints::GossipPoolStats> LanGossip::stats() const {
  if (!pool_ || stopped_) return std::nullopt;
  return gossip_pool_stats(*pool_);
}

}  // namespace pc::daemon
