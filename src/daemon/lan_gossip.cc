#include "daemon/lan_gossip.h"

#include <future>

#include "consensus/runtime/rpc_transport.h"
#include "core/log.h"
#include "core/strings.h"
#include "daemon/lan_members.h"
#include "daemon/server_info.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "gossip.lan";
constexpr auto kInfoTimeout = std::chrono::seconds(2);
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
    in.bootstrap_expect = config.bootstrap_expect;
    in.bootstrap = config.dev || config.bootstrap;
  }
  return gossip::consul_lan_tags(in);
}

LanGossipOptions lan_gossip_options(const core::AgentConfig& config,
                                    const endpoints::AgentIdentity& identity) {
  LanGossipOptions o;
  o.node_name = identity.node_name;
  o.bind_address = config.bind_addr;
  o.advertise_address = identity.advertise_address;
  o.port = config.ports.serf_lan;
  o.timing = config.gossip_lan;
  o.encrypt = config.encrypt;
  o.encrypt_verify_incoming = config.encrypt_verify_incoming;
  o.encrypt_verify_outgoing = config.encrypt_verify_outgoing;
  o.tags = lan_tags(config, identity);
  return o;
}

LanGossip::LanGossip(LanGossipOptions options) : options_(std::move(options)) {}

LanGossip::~LanGossip() {
  stop();
}

core::Status LanGossip::start() {
  auto pool = start_pool(options_, {lan_core_config(options_.node_name, options_.timing),
                                    std::chrono::seconds(10), kModule, options_.on_change});
  if (!pool) return pool.error();
  pool_ = std::move(*pool);
  core::log::info(kModule, "gossiping on {} as {}", pool_->address(), options_.node_name);
  return core::ok();
}

core::Status LanGossip::set_tags(const gossip::Tags& tags) {
  auto meta = gossip::encode_tags(tags);
  if (!meta) return meta.error();
  return pool_->set_meta(std::move(*meta));
}

void LanGossip::start_joining(std::vector<std::string> server_rpc_addresses) {
  if (server_rpc_addresses.empty() || joiner_.joinable()) return;
  rpc_ = std::make_unique<rpc::RpcClient>(rpc::RpcClient::Options{});
  rpc_->start();
  joiner_ = std::thread([this, servers = std::move(server_rpc_addresses)]() mutable {
    core::set_thread_name("pc-lan-join");
    join_loop(std::move(servers));
  });
}

std::string LanGossip::lan_address_of(const std::string& rpc_address) {
  auto reply = std::make_shared<std::promise<core::Result<std::string>>>();
  auto future = reply->get_future();
  auto sent = rpc_->call(rpc_address, consensus::kRpcServerInfo, "", kInfoTimeout,
                         [reply](core::Result<std::string> r) { reply->set_value(std::move(r)); });
  if (!sent) return "";
  auto r = future.get();  // the call always answers within kInfoTimeout
  if (!r) {
    core::log::debug(kModule, "server info from {}: {}", rpc_address, r.error().message);
    return "";
  }
  auto info = decode_server_info(*r);
  if (!info) {
    core::log::warn(kModule, "server info from {}: {}", rpc_address, info.error().message);
    return "";
  }
  return info->serf_lan_address;
}

void LanGossip::join_loop(std::vector<std::string> servers) {
  while (true) {
    std::vector<std::string> targets;
    for (const std::string& server : servers) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      std::string lan = lan_address_of(server);
      if (!lan.empty() && lan != pool_->address()) targets.push_back(lan);
    }
    if (!targets.empty()) {
      const std::size_t answered = pool_->join(targets);
      if (answered > 0) {
        joined_ = true;
        core::log::info(kModule, "joined the LAN pool through {} of {} servers", answered,
                        targets.size());
        return;
      }
    }
    core::log::warn(kModule,
                    "could not join the LAN pool yet (asked {} servers, {} answered); "
                    "retrying in {}s",
                    servers.size(), targets.size(), kRetryJoinInterval.count());
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, kRetryJoinInterval, [this] { return stopping_; })) return;
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

std::size_t LanGossip::join(const std::vector<std::string>& gossip_addresses) {
  if (!pool_ || stopped_) return 0;
  const std::size_t answered = pool_->join(gossip_addresses);
  if (answered > 0) joined_ = true;
  return answered;
}

core::Result<gossip::MemberState> LanGossip::force_leave(const std::string& name, bool prune) {
  if (!pool_ || stopped_) return core::make_error(core::Code::kUnavailable, "gossip: not running");
  return pool_->force_leave(name, prune);
}

void LanGossip::stop_joiner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (rpc_) rpc_->stop();  // fails a query in flight at once
  if (joiner_.joinable()) joiner_.join();
}

void LanGossip::leave() {
  if (stopped_) return;
  stop_joiner();
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
  if (pool_) pool_->stop();
  stopped_ = true;
}

}  // namespace pc::daemon
