#pragma once
// The server's WAN gossip pool (Consul's serf WAN, port 8302): every server of every
// datacenter is a member named "<node>.<dc>" with Consul's server tags (role=consul, dc, port,
// id, ...; gossip/tags.h consul_lan_tags), so each server knows the servers of the other
// datacenters and whether they are alive. Client agents run none; ports.serf_wan = -1 turns it
// off. /v1/agent/members?wan=1 lists it and /v1/catalog/datacenters reads the datacenters
// from it.
//
// Joining: start_join_wan is joined once at start (the caller fails the start when nobody
// answers); retry_join_wan is joined in the background every retry_interval_wan until one
// join succeeds (pc-wan-join thread). Addresses are WAN gossip addresses, "ip[:8302]".
//
// Encryption: the `encrypt` key, the same as the LAN pool's (Consul shares one keyring
// configuration between both pools).
//
// Threads: the pool's I/O thread runs the event logging; the joiner its own thread. Lifecycle:
// start() once, then set_tags / start_retry_join / join / force_leave / members from any
// thread but the pool's; leave() or stop() once, after the HTTP server stopped.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "daemon/gossip_pool.h"
#include "daemon/pool_keyring.h"
#include "endpoints/context.h"
#include "endpoints/coordinate.h"
#include "endpoints/gossip_stats.h"
#include "gossip/runtime/pool.h"
#include "gossip/tags.h"

namespace pc::daemon {

// ports.serf_wan, gossip_wan, advertise_addr_wan (else the LAN advertise address) and the
// server's tags in the PoolOptions part.
struct WanGossipOptions : PoolOptions {
  std::string member_name;  // "<node>.<dc>"
  std::string datacenter;   // for the keyring results
  // Consul's <data_dir>/serf/remote.keyring; "" keeps the keyring in memory only (-dev).
  std::string keyring_file;
  std::chrono::milliseconds retry_interval{std::chrono::seconds(30)};
};

class WanGossip {
 public:
  explicit WanGossip(WanGossipOptions options);
  ~WanGossip();
  WanGossip(const WanGossip&) = delete;
  WanGossip& operator=(const WanGossip&) = delete;

  core::Status start();
  const std::string& address() const { return pool_->address(); }
  std::uint16_t port() const { return pool_->port(); }
  const std::string& name() const { return options_.member_name; }

  core::Status set_tags(const gossip::Tags& tags);
  // A push-pull with each address (default port 8302): how many answered.
  gossip::Pool::JoinOutcome join(const std::vector<std::string>& addresses);
  // The background retry_join_wan loop; nothing for an empty list.
  void start_retry_join(std::vector<std::string> addresses);
  bool joined() const { return joined_.load(); }
  // Consul's flood join (pc-wan-flood): every kFloodInterval, the servers of this datacenter
  // that `lan_members` shows but the WAN pool lacks are joined at their wan_join_port tag
  // (flood_join_targets). Call once; stop() ends it.
  void start_flood(std::function<std::vector<gossip::MemberInfo>()> lan_members);

  std::vector<gossip::MemberInfo> members() const;
  std::vector<endpoints::LanMember> wan_members() const;
  core::Result<gossip::MemberState> force_leave(const std::string& name, bool prune);
  // A keyring operation on every server of every datacenter (pool_keyring.h): the result
  // has WAN = true.
  void keyring_operation(const endpoints::KeyringRequest& request, PoolKeyringDone done);
  // Every live server of the pool (this one included) with the coordinate its acks carried,
  // for /v1/coordinate/datacenters; servers not measured yet are left out.
  std::vector<endpoints::WanServerCoordinate> server_coordinates() const;
  // The median estimated RTT from this server to the servers of `datacenter` (Consul's
  // router sorts datacenters by it); nullopt when none of them has a coordinate yet.
  std::optional<double> median_rtt_ms(const std::string& datacenter) const;
  // The pool's statistics for /v1/agent/self (gossip_stats.h); nullopt once stopped.
  std::optional<endpoints::GossipPoolStats> stats() const;

  // Graceful leave: the other datacenters' servers mark this one left. Then stopped.
  void leave();
  // Stops at once: the others find this server failed. Idempotent.
  void stop();

 private:
  void join_loop(std::vector<std::string> addresses);
  void stop_joiner();

  WanGossipOptions options_;
  std::unique_ptr<gossip::Pool> pool_;
  std::shared_ptr<gossip::Keyring> keyring_;
  std::thread joiner_;
  std::thread flooder_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> joined_{false};
  std::atomic<bool> stopped_{false};
};

// The WAN pool's options for this server (Consul's WAN tags are the server's LAN tags).
WanGossipOptions wan_gossip_options(const core::AgentConfig& config,
                                    const endpoints::AgentIdentity& identity,
                                    const gossip::Tags& tags);

}  // namespace pc::daemon
