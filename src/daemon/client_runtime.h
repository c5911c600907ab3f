#pragma once
// A client agent's link to the servers of its datacenter (`proconsul agent` without -server):
// it holds no replicated state, so everything but its own services and checks goes to a
// server over server RPC (daemon/client_rpc.h), as Consul's client agents call theirs.
//
// - As a consensus::Log: a write (an agent API change, anti-entropy) is sent to a server,
//   which proposes it through its own log (forwarding it to the leader) and answers with the
//   apply outcome.
// - node_reader(): anti-entropy's view of the catalog for this node, read by a server.
// - http_forwarder(): the HTTP API requests the agent does not answer itself, run by a
//   server's route table, blocking queries included; the answer comes back as the server
//   wrote it (X-Consul-Index, -KnownLeader, -LastContact).
// - acl_fetcher(): what a token secret grants, so the agent enforces ACLs itself; every
//   write carries the token it acts for (set_write_token()), which the server checks.
// - dns_forwarder(): DNS questions about the agent's domains, answered by a server's
//   resolver with the agent's own resolver settings (dns_options.h) and sized for the
//   transport the question came on.
//
// Servers are the alive servers of the agent's datacenter in its LAN gossip pool (role
// "consul", their RPC port in the "port" tag; daemon/server_discovery.h), asked afresh on
// every request, so a server that joins is used and one that fails is dropped as soon as
// gossip says so. One is used at a time, picked at random so clients spread over the
// servers, and picked again every 2-3 minutes (Consul's client rebalancing: servers that
// joined later get their share); when it cannot be reached the next one is tried: at once for
// reads and for writes that surely never reached it (rpc::never_handled), else for the next
// request after a write (a write that may have reached a server is never sent twice). With none
// known a request fails with Consul's "No known Consul servers".
//
// Thread-safety: start() and stop() from the owning thread; everything else from any thread.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "agent/catalog_sync.h"
#include "consensus/log.h"
#include "core/result.h"
#include "daemon/dns_call.h"
#include "dns/server.h"
#include "endpoints/acl_remote.h"
#include "endpoints/agent_tokens.h"
#include "http/handler.h"
#include "rpc/transport.h"

namespace pc::daemon {

class ClientRuntime final : public consensus::Log {
 public:
  // Returns the servers' rpc addresses ("ip:port") known now; called on every request, from
  // any thread.
  using ServerSource = std::function<std::vector<std::string>()>;
  explicit ClientRuntime(ServerSource servers);
  ~ClientRuntime() override;
  ClientRuntime(const ClientRuntime&) = delete;
  ClientRuntime& operator=(const ClientRuntime&) = delete;

  // Before start(): TLS for the connections to servers (rpc/tls_stream.h).
  void set_stream_wrapper(rpc::StreamWrapper wrap) { wrap_stream_ = std::move(wrap); }
  // Before start(): the token secret every write through propose() acts for (anti-entropy,
  // coordinates), read at each write so a token changed at runtime is used at once; unset
  // or "": the anonymous token.
  void set_write_token(std::function<std::string()> token) { write_token_ = std::move(token); }
  core::Status start();
  void stop();

  agent::NodeReader node_reader(std::string node);
  http::Handler http_forwarder();
  // For the agent's DNS servers: a query about the agent's domains, answered by a server
  // with the agent's DNS token from `tokens` (read per query, so a token set at runtime is
  // used at once; null or none set: anonymous) and the settings DnsService passes along.
  // `tokens` must outlive the forwarder.
  AskServer dns_forwarder(const endpoints::AgentTokens* tokens = nullptr);
  // For the agent's ACL resolver (endpoints/acl_remote.h): what a secret grants, asked of a
  // server (kRpcClientAclResolve), trying the next one when a server cannot be reached.
  endpoints::TokenFetch acl_fetcher();

  // consensus::Log. A client has no log of its own: what needs one fails with Consul's
  // texts, and the leader is "known" while a server answered within the last minute.
  void propose(std::string command, consensus::ProposeDone done) override;
  // As propose(), acting for `token` (an ACL token secret) instead of the write token.
  void propose_as(std::string command, std::string token, consensus::ProposeDone done);
  consensus::LeaderInfo leader() const override;
  std::uint64_t last_index() const override { return 0; }
  std::uint64_t applied_index() const override { return 0; }
  std::vector<std::string> voters() const override { return {}; }
  consensus::RaftConfiguration configuration() const override { return {}; }
  void read_barrier(consensus::OperatorDone done) override;
  bool lease_valid() const override { return false; }
  void remove_server(std::string address, consensus::OperatorDone done) override;
  void transfer_leadership(std::string address, consensus::OperatorDone done) override;

 private:
  using Callback = std::function<void(core::Result<std::string>)>;
  // Calls the current server; a read (`retry`) that finds it unreachable tries the others.
  void call(rpc::Method method, std::string payload, std::chrono::milliseconds timeout, bool retry,
            Callback done);
  void call_from(std::size_t attempt, rpc::Method method,
                 std::shared_ptr<const std::string> payload, std::chrono::milliseconds timeout,
                 bool retry, Callback done);
  void heard_from_server();
  // The server to use now from `servers` (sorted): the current one while it is listed and
  // not due for rebalancing, else a random one, which becomes current. "" when `servers` is
  // empty.
  std::string pick(const std::vector<std::string>& servers);
  // `failed` did not answer: the next request goes to the server after it.
  void move_past(const std::string& failed, const std::vector<std::string>& servers);

  const ServerSource servers_;
  rpc::StreamWrapper wrap_stream_;
  std::function<std::string()> write_token_;
  std::unique_ptr<rpc::RpcClient> rpc_;
  std::mutex mu_;
  std::string current_;                          // guarded by mu_
  std::minstd_rand rand_;                        // guarded by mu_
  std::int64_t rebalance_at_ms_ = 0;             // steady clock; guarded by mu_
  std::atomic<std::int64_t> last_answer_ms_{0};  // steady clock, ms; 0: never
};

}  // namespace pc::daemon
