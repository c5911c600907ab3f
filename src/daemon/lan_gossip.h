#pragma once
// The agent's LAN gossip pool (Consul's serf LAN, port 8301): every agent — server, client
// and -dev — is a member named after its node, with Consul's LAN tags as its meta
// (gossip/tags.h consul_lan_tags). The pool says who is alive, failed or left;
// /v1/agent/members lists it and the leader's LanReconciler turns it into serfHealth checks.
//
// Joining: -retry-join names servers' RPC addresses (ip[:8300]), as before gossip. The
// joiner asks each for its LAN gossip address (kRpcServerInfo, daemon/server_info.h) and
// push-pulls with those that answered; it retries every kRetryJoinInterval until one join
// succeeds (Consul's retry_join retries every 30 s; tests need seconds), in the background,
// so an agent starts whether or not any server is up yet.
//
// Encryption: `encrypt` installs the key in the pool's keyring, with
// encrypt_verify_incoming/outgoing as given.
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
#include "endpoints/context.h"
#include "gossip/runtime/pool.h"
#include "gossip/tags.h"
#include "rpc/transport.h"

namespace pc::daemon {

// How often an agent that has not joined asks the retry_join servers again.
inline constexpr auto kRetryJoinInterval = std::chrono::seconds(3);

struct LanGossipOptions {
  std::string node_name;
  std::string bind_address;       // config.bind_addr; 0.0.0.0 binds every address
  std::string advertise_address;  // the IP other members reach this one at
  int port = 8301;                // 0: the kernel picks (tests); read it back with port()
  core::GossipLanConfig timing;
  std::string encrypt;  // base64 key; empty: plaintext gossip
  bool encrypt_verify_incoming = true;
  bool encrypt_verify_outgoing = true;
  gossip::Tags tags;
  // Runs on the pool's I/O thread after each member event (join, update, leave, fail); must
  // not block or call the pool.
  std::function<void()> on_change;
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

  // Starts the background join through these servers' RPC addresses ("ip:port"); nothing
  // when the list is empty (a lone server, -dev).
  void start_joining(std::vector<std::string> server_rpc_addresses);
  bool joined() const { return joined_.load(); }

  std::vector<gossip::MemberInfo> members() const;
  // This agent's LAN Vivaldi coordinate (any thread).
  gossip::Coordinate coordinate() const { return pool_->coordinate(); }
  std::vector<endpoints::LanMember> lan_members() const;

  // Graceful leave (Consul's `leave`): the others mark this member left. Then stopped.
  void leave();
  // Stops at once: the others will find this member failed. Idempotent.
  void stop();

 private:
  void join_loop(std::vector<std::string> servers);
  // Asks `rpc_address` for its LAN gossip address; "" when it does not answer or has none.
  std::string lan_address_of(const std::string& rpc_address);
  void stop_joiner();

  LanGossipOptions options_;
  std::unique_ptr<gossip::Pool> pool_;
  std::unique_ptr<rpc::RpcClient> rpc_;  // kRpcServerInfo only; started by start_joining
  std::thread joiner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> joined_{false};
  bool stopped_ = false;
};

// Consul's LAN tags for this agent (role, dc, id, build, and a server's RPC port and
// bootstrap settings) from its configuration and identity.
gossip::Tags lan_tags(const core::AgentConfig& config, const endpoints::AgentIdentity& identity);
// The pool's options for this agent (on_change is the caller's to set).
LanGossipOptions lan_gossip_options(const core::AgentConfig& config,
                                    const endpoints::AgentIdentity& identity);

}  // namespace pc::daemon
