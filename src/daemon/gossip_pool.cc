#include "daemon/gossip_pool.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>

#include "core/strings.h"
#include "daemon/server_discovery.h"

#include "core/log.h"

namespace pc::daemon {
namespace {

bool unspecified(const std::string& ip) {
  return ip.empty() || ip == "0.0.0.0" || ip == "::" || ip == "[::]";
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

std::string key_mismatch_hint(std::size_t refused) {
  if (refused == 0) return {};
  return "; " + std::to_string(refused) + (refused == 1 ? " member" : " members") +
         " read our push-pull and hung up or answered with a frame we cannot decrypt: check "
         "that this agent's gossip encryption key (encrypt, or its keyring file) is the "
         "cluster's";
}

std::string host_port(const std::string& ip, int port) {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::vector<std::string> gossip_join_addresses(const std::string& target, int default_port) {
  if (target.empty()) return {};
  if (core::parse_recursor_address(target)) {
    return {with_default_port(target, default_port)};
  }
  // A host name, with or without a port (a bracketed IPv6 literal parsed above).
  std::string host = target;
  std::string port = std::to_string(default_port);
  if (const std::size_t colon = target.rfind(':'); colon != std::string::npos) {
    host = target.substr(0, colon);
    port = target.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (host.empty() || ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return {};
  std::vector<std::string> out;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    char ip[INET6_ADDRSTRLEN] = {};
    int number = 0;
    if (ai->ai_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(ai->ai_addr);
      ::inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
      number = ntohs(in->sin_port);
    } else if (ai->ai_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
      number = ntohs(in6->sin6_port);
    } else {
      continue;
    }
    std::string address = host_port(ip, number);
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
  }
  ::freeaddrinfo(found);
  return out;
}

core::Result<std::unique_ptr<gossip::Pool>> start_pool(const PoolOptions& options,
                                                       PoolSetup setup) {
  std::shared_ptr<gossip::Keyring> keyring = std::move(setup.keyring);
  if (!keyring) {
    keyring = std::make_shared<gossip::Keyring>(
        gossip::Keyring::Options{options.encrypt_verify_incoming, options.encrypt_verify_outgoing});
    if (!options.encrypt.empty()) {
      if (auto s = keyring->install(options.encrypt); !s) return s.error();
    }
  }
  auto meta = gossip::encode_tags(options.tags);
  if (!meta) return meta.error();
  gossip::Pool::Options po;
  po.config = std::move(setup.config);
  po.config.meta = std::move(*meta);
  po.port = static_cast<std::uint16_t>(options.port);
  po.keyring = std::move(keyring);
  po.tcp_timeout = setup.tcp_timeout;
  po.on_query = std::move(setup.on_query);
  po.on_user_event = std::move(setup.on_user_event);
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
  po.on_event = [module = setup.log_module, on_change = std::move(setup.on_change),
                 on_event = std::move(setup.on_event)](const gossip::Event& e) {
    core::log::info(module, "member {} {} ({})", e.member.name, event_verb(e.kind), e.member.addr);
    if (on_event) on_event(e);
    if (on_change) on_change();
  };
  auto pool = std::make_unique<gossip::Pool>(std::move(po));
  auto port = pool->start();
  if (!port) return port.error();
  return pool;
}

}  // namespace pc::daemon
