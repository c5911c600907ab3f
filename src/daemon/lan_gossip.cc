#include "daemon/lan_gossip.h"

#include <future>

#include "consensus/runtime/rpc_transport.h"
#include "core/log.h"
#include "core/strings.h"
#include "daemon/lan_members.h"
#include "daemon/server_info.h"
#include "daemon/user_events.h"
#include "gossip/keyring_file.h"
#include "gossip/runtime/key_manager.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "gossip.lan";
constexpr auto kInfoTimeout = std::chrono::seconds(2);
// How long a graceful leave may take to reach the others (Consul's leave waits as long for
// the broadcast: memberlist's LeavePropagateDelay plus the broadcast timeout).
constexpr auto kLeaveTimeout = std::chrono::seconds(3);

bool unspecified(const std::string& ip) {
  return ip.empty() || ip == "0.0.0.0" || ip == "::" || ip == "[::]";
}

std::string host_port(const std::string& ip, int port) {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

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
  // Consul keeps the LAN keyring in <data_dir>/serf/local.keyring; -dev keeps nothing.
  if (!config.dev && !config.data_dir.empty()) {
    o.keyring_file = config.data_dir + "/" + std::string(gossip::kLanKeyringFile);
  }
  o.datacenter = identity.datacenter;
  o.tags = lan_tags(config, identity);
  return o;
}

LanGossip::LanGossip(LanGossipOptions options) : options_(std::move(options)) {}

LanGossip::~LanGossip() {
  stop();
}

core::Status LanGossip::start() {
  auto keyring = std::make_shared<gossip::Keyring>(
      gossip::Keyring::Options{options_.encrypt_verify_incoming, options_.encrypt_verify_outgoing});
  bool ignored_encrypt = false;
  if (auto s =
          gossip::load_keyring(*keyring, options_.keyring_file, options_.encrypt, ignored_encrypt);
      !s) {
    return s;
  }
  if (ignored_encrypt) {
    core::log::warn(kModule, "LAN keyring exists but -encrypt given, using keyring");
  }
  keyring_ = keyring;
  auto meta = gossip::encode_tags(options_.tags);
  if (!meta) return meta.error();
  gossip::Pool::Options po;
  po.config = lan_core_config(options_.node_name, options_.timing);
  po.config.meta = std::move(*meta);
  po.port = static_cast<std::uint16_t>(options_.port);
  po.keyring = keyring;
  gossip::KeyringPersist persist;
  if (!options_.keyring_file.empty()) {
    persist = [path = options_.keyring_file](const std::vector<std::string>& keys) {
      return gossip::write_keyring_file(path, keys);
    };
  }
  po.on_query = gossip::key_query_handler(keyring, std::move(persist), nullptr);
  po.on_user_event = options_.on_user_event;
  // Bound to every address, the pool must be told what to advertise; with an ephemeral port
  // that is unknown before binding, so such a pool binds the advertised address instead.
  if (!unspecified(options_.bind_address)) {
    po.bind_ip = options_.bind_address;
  } else if (options_.port != 0) {
    po.bind_ip = options_.bind_address.empty() ? "0.0.0.0" : options_.bind_address;
    po.config.addr = host_port(options_.advertise_address, options_.port);
  } else {
    po.bind_ip = options_.advertise_address;
  }
  if (po.bind_ip.size() > 2 && po.bind_ip.front() == '[') {
    po.bind_ip = po.bind_ip.substr(1, po.bind_ip.size() - 2);
  }
  po.on_event = [this](const gossip::Event& e) {
    core::log::info(kModule, "member {} {} ({})", e.member.name,
                    e.kind == gossip::EventKind::kJoin     ? "joined"
                    : e.kind == gossip::EventKind::kUpdate ? "updated"
                    : e.kind == gossip::EventKind::kLeave  ? "left"
                                                           : "failed",
                    e.member.addr);
    if (options_.on_change) options_.on_change();
  };
  pool_ = std::make_unique<gossip::Pool>(std::move(po));
  auto port = pool_->start();
  if (!port) return port.error();
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

void LanGossip::keyring_operation(const endpoints::KeyringRequest& request,
                                  endpoints::KeyringDone done) {
  if (!pool_) {
    done(core::make_error(core::Code::kUnavailable, "no LAN gossip pool"));
    return;
  }
  const std::string dc = options_.datacenter;
  auto one_pool = [dc](const gossip::KeyringSummary& s) {
    endpoints::KeyringPoolResult r;
    r.datacenter = dc;
    r.messages = s.messages;
    r.keys = s.keys;
    r.primary_keys = s.primary_keys;
    r.num_nodes = s.num_nodes;
    r.error = s.error();
    return std::vector<endpoints::KeyringPoolResult>{std::move(r)};
  };
  if (request.op == endpoints::KeyringOp::kList && request.local_only) {
    // This agent's keyring alone, as if it had answered its own list query.
    gossip::KeyringSummary s;
    s.num_nodes = 1;
    s.add(options_.node_name, gossip::encode_key_response(gossip::apply_key_query(
                                  *keyring_, gossip::KeyOp::kList, "", nullptr)));
    done(one_pool(s));
    return;
  }
  const gossip::KeyOp op = request.op == endpoints::KeyringOp::kInstall  ? gossip::KeyOp::kInstall
                           : request.op == endpoints::KeyringOp::kUse    ? gossip::KeyOp::kUse
                           : request.op == endpoints::KeyringOp::kRemove ? gossip::KeyOp::kRemove
                                                                         : gossip::KeyOp::kList;
  gossip::key_operation_async(
      *pool_, op, request.key, static_cast<std::uint32_t>(request.relay_factor),
      [one_pool, done = std::move(done)](core::Result<gossip::KeyringSummary> s) {
        if (!s) return done(s.error());
        done(one_pool(*s));
      });
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
