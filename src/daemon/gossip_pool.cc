#include "daemon/gossip_pool.h"

#include "core/log.h"

namespace pc::daemon {
namespace {

bool unspecified(const std::string& ip) {
  return ip.empty() || ip == "0.0.0.0" || ip == "::" || ip == "[::]";
}

std::string host_port(const std::string& ip, int port) {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::string_view event_verb(gossip::EventKind kind) {
  switch (kind) {
    case gossip::EventKind::kJoin: return "joined";
    case gossip::EventKind::kUpdate: return "updated";
    case gossip::EventKind::kLeave: return "left";
    case gossip::EventKind::kFail: return "failed";
  }
  return "changed";
}

}  // namespace

core::Result<std::unique_ptr<gossip::Pool>> start_pool(const PoolOptions& options,
                                                       PoolSetup setup) {
  auto keyring = std::make_shared<gossip::Keyring>(
      gossip::Keyring::Options{options.encrypt_verify_incoming, options.encrypt_verify_outgoing});
  if (!options.encrypt.empty()) {
    if (auto s = keyring->install(options.encrypt); !s) return s.error();
  }
  auto meta = gossip::encode_tags(options.tags);
  if (!meta) return meta.error();
  gossip::Pool::Options po;
  po.config = std::move(setup.config);
  po.config.meta = std::move(*meta);
  po.port = static_cast<std::uint16_t>(options.port);
  po.keyring = std::move(keyring);
  po.tcp_timeout = setup.tcp_timeout;
  // Bound to every address, the pool must be told what to advertise; with an ephemeral port
  // that is unknown before binding, so such a pool binds the advertised address instead.
  if (!unspecified(options.bind_address)) {
    po.bind_ip = options.bind_address;
    // An advertised address other than the bound one (NAT, advertise_addr_wan) is what the
    // others must dial.
    if (options.port != 0 && !options.advertise_address.empty() &&
        options.advertise_address != options.bind_address) {
      po.config.addr = host_port(options.advertise_address, options.port);
    }
  } else if (options.port != 0) {
    po.bind_ip = options.bind_address.empty() ? "0.0.0.0" : options.bind_address;
    po.config.addr = host_port(options.advertise_address, options.port);
  } else {
    po.bind_ip = options.advertise_address;
  }
  if (po.bind_ip.size() > 2 && po.bind_ip.front() == '[') {
    po.bind_ip = po.bind_ip.substr(1, po.bind_ip.size() - 2);
  }
  po.on_event = [module = setup.log_module,
                 on_change = std::move(setup.on_change)](const gossip::Event& e) {
    core::log::info(module, "member {} {} ({})", e.member.name, event_verb(e.kind), e.member.addr);
    if (on_change) on_change();
  };
  auto pool = std::make_unique<gossip::Pool>(std::move(po));
  auto port = pool->start();
  if (!port) return port.error();
  return pool;
}

}  // namespace pc::daemon
