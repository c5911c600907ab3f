#pragma once
// The agent's LAN gossip pool (Consul's serf LAN, port 8301): every agent — server, client
// and -dev — is a member named after its node, with Consul's LAN tags as its meta
// (gossip/tags.h consul_lan_tags). The pool says who is alive, failed or left;
// /v1/agent/members lists it and the leader's LanReconciler turns it into serfHealth checks.
//
// Joining (Consul's retry_join): -retry-join names LAN gossip addresses of other agents,
// servers or clients ("ip", "ip:port" or "host[:port]", port 8301 — ports.serf_lan's default
// — when none is given). The joiner push-pulls with every address; once one answered the
// agent is in the pool and learns every member from it. Until then it tries again every
// retry_interval (Consul's 30 s; tests set less), giving up after retry_max attempts when
// that is not 0, in the background, so an agent starts whether or not anyone is up yet.
// start_join / -join is one synchronous attempt at start (join_now), as Consul's.
//
// Rejoining: with a snapshot_path, members seen alive are written down (lan_snapshot.h) and
// at start the pool joins the ones listed, once, on its own thread (pc-lan-rejoin), unless
// the last run ended in a graceful leave (Consul's rejoin_after_leave default).
//
// Encryption: the keyring comes from `keyring_file` (Consul's <data_dir>/serf/local.keyring)
// when it exists; otherwise `encrypt` seeds it (and the file). Keyring operations
// (/v1/operator/keyring) run as serf's key queries on every member, each of which applies
// them to its own keyring and rewrites its file. encrypt_verify_incoming/outgoing as given.
//
// Events: serf user events reach `on_user_event` (on the pool's I/O thread); fire_event()
// sends one (Consul's /v1/event/fire).
//
// Threads: the pool's I/O thread (pc-gossip) runs `on_change`, which must not block; the
// joiner runs on its own thread (pc-lan-join). Lifecycle: start() once from the owner, then
// set_tags / start_joining from the owner; members() from any thread; leave() or stop() once
// from the owner, after everything that calls members() stopped (HTTP, the reconciler).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "daemon/gossip_pool.h"
#include "daemon/lan_snapshot.h"
#include "daemon/pool_keyring.h"
#include "daemon/server_discovery.h"
#include "endpoints/context.h"
#include "endpoints/gossip_stats.h"
#include "gossip/runtime/pool.h"
#include "gossip/tags.h"

namespace pc::daemon {

// ports.serf_lan, gossip_lan and the LAN tags in the PoolOptions part.
struct LanGossipOptions : PoolOptions {
  std::string node_name;
  std::chrono::milliseconds retry_interval{std::chrono::seconds(30)};
  int retry_max = 0;  // 0: retry until joined
  // Runs on the pool's I/O thread after each member event (join, update, leave, fail); must
  // not block or call the pool.
  std::function<void()> on_change;
  // The member list on disk (lan_snapshot.h), "" for none (-dev): the pool rejoins the
  // members it lists at start, unless this agent left gracefully.
  std::string snapshot_path;
  std::string keyring_file;  // empty: the keyring is not kept across restarts (-dev)
  std::string datacenter;    // for the keyring results
  // Runs on the pool's I/O thread for every serf user event (ours too); must not block.
  std::function<void(const gossip::UserEvent&)> on_user_event;
};

class LanGossip {
 public:
  explicit LanGossip(LanGossipOptions options);
  ~LanGossip();
  LanGossip(const LanGossip&) = delete;
  LanGossip& operator=(const LanGossip&) = delete;

  // Binds UDP and TCP and starts gossiping (alone). Errors: a bad key, a port in use.
  core::Status start();
  // "ip:port" others reach this member at, and the bound port; valid after start().
  const std::string& address() const { return pool_->address(); }
  std::uint16_t port() const { return pool_->port(); }

  // New tags (a server learns its RPC port after the pool started): broadcast to everyone.
  core::Status set_tags(const gossip::Tags& tags);

  // Starts the background join through these agents' LAN addresses (retry_join); nothing
  // when the list is empty (a lone server, -dev).
  void start_joining(std::vector<std::string> lan_addresses);
  // One join through these addresses now (start_join): how many answered, or an error
  // naming the addresses when none did.
  core::Result<std::size_t> join_now(const std::vector<std::string>& lan_addresses);
  bool joined() const { return joined_.load(); }

  std::vector<gossip::MemberInfo> members() const;
  // This agent's LAN Vivaldi coordinate (any thread).
  gossip::Coordinate coordinate() const { return pool_->coordinate(); }
  // The pool's statistics for /v1/agent/self (gossip_stats.h); nullopt once stopped.
  std::optional<endpoints::GossipPoolStats> stats() const;
  std::vector<endpoints::LanMember> lan_members() const;
  // The alive servers of `datacenter` in the pool (servers_in_pool).
  std::vector<PoolServer> servers(std::string_view datacenter) const;
  // How long the pool keeps a failed member before forgetting it (reconnect_timeout).
  std::chrono::milliseconds reconnect_timeout() const;

  // A push-pull with each LAN gossip address ("ip:port"), as `proconsul join` asks: how many
  // answered. 0 once stopped.
  gossip::Pool::JoinOutcome join(const std::vector<std::string>& gossip_addresses);
  // The pool's force_leave (a failed member becomes left; prune forgets it).
  core::Result<gossip::MemberState> force_leave(const std::string& name, bool prune);

  // A keyring operation on every member of the pool (or, for a list with local_only, this
  // agent's keyring alone): the LAN pool's result (pool_keyring.h).
  void keyring_operation(const endpoints::KeyringRequest& request, PoolKeyringDone done);
  // Consul's user event, as serf event "consul:event:<name>" with the event as payload.
  core::Status fire_user_event(const endpoints::UserEvent& event);

  // Graceful leave (Consul's `leave`): the others mark this member left. Then stopped.
  void leave();
  // Stops at once: the others will find this member failed. Idempotent.
  void stop();

 private:
  void join_loop(std::vector<std::string> targets);
  // One push-pull round with the targets, resolved; how many answered.
  gossip::Pool::JoinOutcome join_once(const std::vector<std::string>& targets);
  void stop_joiner();
  void record_in_snapshot(const gossip::Event& e);
  void rejoin_from_snapshot();

  LanGossipOptions options_;
  std::unique_ptr<gossip::Pool> pool_;
  std::shared_ptr<gossip::Keyring> keyring_;
  std::thread joiner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> joined_{false};
  bool stopped_ = false;
  std::unique_ptr<LanSnapshotFile> snapshot_;
  std::thread rejoiner_;  // one join of the snapshot's members at start
};

// Consul's LAN tags for this agent (role, dc, id, build, and a server's RPC port and
// bootstrap settings) from its configuration and identity.
gossip::Tags lan_tags(const core::AgentConfig& config, const endpoints::AgentIdentity& identity);
// "ip", "ip:port", "host" or "host:port" (IPv6 in brackets) → the "ip:port" addresses to
// push-pull with, port 8301 (Consul's LAN default) when none is given; a host name is
// resolved. Empty when the name does not resolve.
std::vector<std::string> lan_join_addresses(const std::string& target);
// The pool's options for this agent (on_change is the caller's to set).
LanGossipOptions lan_gossip_options(const core::AgentConfig& config,
                                    const endpoints::AgentIdentity& identity);

}  // namespace pc::daemon
