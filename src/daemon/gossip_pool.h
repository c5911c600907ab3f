#pragma once
// Starting one gossip pool for the agent (the LAN pool on every agent, the WAN pool on
// servers): the keyring from `encrypt`, the tags as meta, the bind and advertised addresses,
// and a log line per member event.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "gossip/core/config.h"
#include "gossip/runtime/pool.h"
#include "gossip/tags.h"

namespace pc::daemon {

// What the LAN and WAN pools' options share: where to listen, what to advertise, the timing
// keys (gossip_lan / gossip_wan), the key and the tags.
struct PoolOptions {
  std::string bind_address;       // config.bind_addr; 0.0.0.0 binds every address
  std::string advertise_address;  // the IP others reach the pool at
  int port = 0;                   // 0: the kernel picks (tests); read it back from the pool
  core::GossipLanConfig timing;
  std::string encrypt;  // base64 key; empty: plaintext gossip
  bool encrypt_verify_incoming = true;
  bool encrypt_verify_outgoing = true;
  gossip::Tags tags;
};

// What differs per pool.
struct PoolSetup {
  gossip::Config config;  // name and timing; addr and meta are filled in from PoolOptions
  std::chrono::milliseconds tcp_timeout{std::chrono::seconds(10)};
  std::string_view log_module;  // where member events are logged
  // Runs on the pool's I/O thread after each event is logged; must not block.
  std::function<void()> on_change;
  // Runs before on_change with the event itself (the LAN pool's member list on disk).
  std::function<void(const gossip::Event&)> on_event;
  // The pool's keyring (the LAN pool's, loaded from its file); null: one made from `encrypt`.
  std::shared_ptr<gossip::Keyring> keyring;
  // serf queries and user events reaching this member (gossip::Pool::Options).
  gossip::Pool::QueryCallback on_query;
  gossip::Pool::UserEventCallback on_user_event;
};

// "ip:port", an IPv6 literal in brackets.
std::string host_port(const std::string& ip, int port);

// "ip", "ip:port", "host" or "host:port" (IPv6 in brackets) → the "ip:port" addresses to
// push-pull with, `default_port` when none is given; a host name is resolved. Empty when the
// name does not resolve.
std::vector<std::string> gossip_join_addresses(const std::string& target, int default_port);

// What to add to a join error when members refused our push-pull (gossip::Pool::JoinOutcome):
// most likely our gossip encryption key is not theirs. Empty when none refused.
std::string key_mismatch_hint(std::size_t refused);

// A started pool, or the error (a bad key, tags over the meta limit, a port in use).
core::Result<std::unique_ptr<gossip::Pool>> start_pool(const PoolOptions& options, PoolSetup setup);

}  // namespace pc::daemon
