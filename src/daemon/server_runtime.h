#pragma once
// A Raft server's moving parts (`agent -server` without -dev): the rpc server and client on
// the server port, the Raft transport over them, the ReplicatedLog under <data-dir>/raft, and
// the ForwardingLog the endpoints write to.
//
// Starting: a data directory that already holds Raft state rejoins its cluster at once. A new
// one bootstraps: with `bootstrap` alone, or with `bootstrap_expect` once that many servers
// (this one included) of its datacenter are alive in the LAN gossip pool, all advertising the
// same expect (daemon/server_discovery.h), so every server writes the same first entries with
// the same voter set. Servers find each other there: `retry_join` names LAN gossip addresses
// (daemon/lan_gossip.h), and the pool's server members carry their RPC port in their tags.
// Before bootstrapping, a new server asks each server it sees (kRpcServerInfo) whether it
// follows a leader or already has Raft peers: a leader means a cluster runs, and the new
// server joins it instead (it starts Raft with no configuration and asks the leader to add
// it as a voter); peers without a leader mean one is being elected, so it waits. Until then
// writes fail with "No cluster leader".
//
// Membership after start (one background thread, pc-servers): on the leader, autopilot removes
// dead servers from the configuration (daemon/autopilot.h: when a server counts as dead, and
// the quorum rules). On any other server, when it has not heard from a leader for two
// election timeouts or its own configuration no longer names it, it asks the servers it
// knows (its configuration's, then the LAN pool's) who leads and whether the leader's
// configuration names it; when the leader says no twice in a row, it asks the leader to add
// it as a voter again. So a server removed while it was down rejoins when it comes back, and
// one removed by `operator raft remove-peer` while running is added again a few seconds
// later, as Consul's leader re-adds a live serf member; a server meant to go away is stopped
// first (Consul: `leave`), then removed.
//
// Thread-safety: start() and stop() from the owning thread; log() from any thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "consensus/runtime/forwarding_log.h"
#include "consensus/runtime/replicated_log.h"
#include "consensus/runtime/rpc_transport.h"
#include "core/config.h"
#include "core/result.h"
#include "daemon/autopilot.h"
#include "daemon/server_discovery.h"
#include "daemon/server_info.h"
#include "rpc/transport.h"

namespace pc::daemon {

struct ServerRuntimeOptions {
  std::string node_id;  // the UUID; the Raft id is derived from it
  std::string node_name;
  std::string datacenter;
  std::string bind_address;       // where the rpc server listens
  std::string advertise_address;  // what other servers dial
  // This server's LAN gossip address ("ip:port"), told to whoever asks kRpcServerInfo so
  // agents can join the pool; empty when the agent runs no pool.
  std::string serf_lan_address;
  int port = 8300;  // 0: an ephemeral port (tests)
  std::string data_dir;
  bool bootstrap = false;
  int bootstrap_expect = 0;
  // The alive servers of this datacenter in the LAN pool (servers_in_pool); called from the
  // pc-servers thread, so it must be thread-safe. Unset: none known.
  std::function<std::vector<PoolServer>()> pool_servers;
  int raft_multiplier = 5;  // Consul's performance.raft_multiplier
  std::uint64_t snapshot_threshold = 16384;
  std::uint64_t trailing_logs = 10240;
  core::AutopilotConfig autopilot;  // the agent's autopilot block, validated at load
  // Registers more handlers on the rpc server before it starts (the client agents' methods).
  std::function<void(rpc::RpcServer&)> register_handlers;
  // TLS for the rpc server and client (rpc/tls_stream.h); null: plain TCP.
  rpc::StreamWrapper wrap_stream;
};

// "ip" or "ip:port" (IPv6 in brackets) with the server port (8300) filled in.
std::string with_server_port(const std::string& address);

class ServerRuntime final : public consensus::Log {
 public:
  ServerRuntime(ServerRuntimeOptions options, consensus::Fsm& fsm, consensus::ResultCodec codec);
  ~ServerRuntime();
  ServerRuntime(const ServerRuntime&) = delete;
  ServerRuntime& operator=(const ServerRuntime&) = delete;

  // Listens on the server port and starts Raft (now, or once bootstrap_expect servers are
  // known). Errors: the port cannot be bound, or the Raft state on disk cannot be used.
  core::Status start();
  void stop();

  // The Log the endpoints use: the ForwardingLog once Raft runs; before, writes fail with
  // "No cluster leader" and no leader is known.
  void propose(std::string command, consensus::ProposeDone done) override;
  consensus::LeaderInfo leader() const override;
  std::uint64_t last_index() const override;
  std::uint64_t applied_index() const override;
  std::vector<std::string> voters() const override;
  consensus::RaftConfiguration configuration() const override;
  void leader_configuration(ConfigurationDone done) override;
  void read_barrier(consensus::OperatorDone done) override;
  // No lease before Raft runs (there is no leader to hold one).
  bool lease_valid() const override { return raft_started_ && raft_->lease_valid(); }
  void remove_server(std::string address, consensus::OperatorDone done) override;
  void transfer_leadership(std::string address, consensus::OperatorDone done) override;
  // Null until Raft runs.
  consensus::ReplicatedLog* raft() { return raft_started_ ? raft_.get() : nullptr; }
  // "ip:port" other servers reach this one at.
  const std::string& rpc_address() const { return rpc_address_; }
  // The client this server calls other servers with (after start()).
  rpc::RpcClient& rpc_client() { return *rpc_client_; }

 private:
  struct Peer {
    std::uint64_t id = 0;
    std::string node_id;
    std::string node_name;
    std::string address;
  };
  void discover();
  // Starts Raft with no configuration and asks `leader` to add this server as a voter.
  void join(std::string leader);
  // One request to `leader` to add this server as a voter.
  core::Status ask_to_join(const std::string& leader);
  // Runs until stop(): autopilot on the leader, the membership check elsewhere.
  void maintain();
  void autopilot_pass(const consensus::ReplicatedLog::Status& status, core::MonoTime now);
  void check_membership(const consensus::ReplicatedLog::Status& status);
  // Asks the servers this one knows for the leader; returns the leader's address and whether
  // its configuration names this server, or nullopt when no leader answered.
  std::optional<std::pair<std::string, bool>> leader_view(
      const consensus::ReplicatedLog::Status& status);
  // kRpcServerInfo to `address`: its decoded reply, or an error.
  core::Result<ServerInfo> server_info(const std::string& address);
  bool has_raft_state() const;
  core::Status start_raft(std::map<std::uint64_t, std::string> voters);

  ServerRuntimeOptions options_;
  consensus::Fsm& fsm_;
  consensus::ResultCodec codec_;
  std::uint64_t id_ = 0;
  std::string rpc_address_;  // written once, before address_ready_ is set
  std::atomic<bool> address_ready_{false};
  std::unique_ptr<rpc::RpcServer> rpc_server_;
  std::unique_ptr<rpc::RpcClient> rpc_client_;
  std::unique_ptr<consensus::RpcRaftTransport> transport_;
  std::unique_ptr<consensus::ReplicatedLog> raft_;
  std::unique_ptr<consensus::ForwardingLog> forwarding_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  // Addresses learned outside the log (the leader a joining server follows), by Raft id.
  std::map<std::uint64_t, std::string> seed_addresses_;
  std::atomic<bool> raft_started_{false};
  // Discovery, then maintain() (pc-servers).
  std::thread discovery_;

  // Owned by the pc-servers thread.
  DeadServerPolicy dead_server_policy_;
  ContactTracker contacts_;
  bool leading_ = false;
  std::string last_refusal_;
  int missing_strikes_ = 0;  // membership checks in a row the leader did not name this server
  // A removal autopilot asked for and the log has not finished (set by pc-servers, cleared
  // by the log's callback).
  std::atomic<bool> removal_pending_{false};
};

}  // namespace pc::daemon
