#include "daemon/server_runtime.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <utility>

#include "core/config.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/strings.h"
#include "daemon/server_info.h"
#include "endpoints/operator.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "server";
constexpr auto kDiscoveryInterval = std::chrono::seconds(1);

DeadServerPolicy policy_of(const core::AutopilotConfig& c) {
  DeadServerPolicy p;
  p.cleanup_dead_servers = c.cleanup_dead_servers;
  p.min_quorum = static_cast<unsigned>(std::max(0, c.min_quorum));
  return p;
}

endpoints::AutopilotSettings settings_of(const core::AutopilotConfig& c) {
  endpoints::AutopilotSettings s;
  s.cleanup_dead_servers = c.cleanup_dead_servers;
  // Validated at load; a value that still does not parse keeps Consul's default.
  if (auto d = core::parse_go_duration(c.last_contact_threshold)) s.last_contact_threshold = *d;
  if (auto d = core::parse_go_duration(c.server_stabilization_time)) {
    s.server_stabilization_time = *d;
  }
  s.max_trailing_logs = static_cast<std::uint64_t>(std::max(0, c.max_trailing_logs));
  s.min_quorum = static_cast<std::uint64_t>(std::max(0, c.min_quorum));
  return s;
}

}  // namespace

std::string with_server_port(const std::string& address) {
  return with_default_port(address, kDefaultServerPort);
}

ServerRuntime::ServerRuntime(ServerRuntimeOptions options, consensus::Fsm& fsm,
                             consensus::ResultCodec codec)
    : options_(std::move(options)),
      fsm_(fsm),
      codec_(std::move(codec)),
      id_(raft_id_of(options_.node_id)),
      dead_server_policy_(policy_of(options_.autopilot)) {}

ServerRuntime::~ServerRuntime() {
  stop();
}

bool ServerRuntime::has_raft_state() const {
  std::error_code ec;
  const auto wal = std::filesystem::path(options_.data_dir) / "raft" / "wal";
  return std::filesystem::exists(wal, ec) && !std::filesystem::is_empty(wal, ec);
}

core::Status ServerRuntime::start() {
  rpc::RpcServer::Options so;
  so.address = options_.bind_address;
  so.port = static_cast<std::uint16_t>(options_.port);
  so.threads = 2;
  so.wrap_stream = options_.wrap_stream;
  rpc_server_ = std::make_unique<rpc::RpcServer>(so);
  rpc::RpcClient::Options co;
  co.wrap_stream = options_.wrap_stream;
  // Transport feedback names an address; the log wants the server behind it.
  auto for_server_at = [this](const std::string& address, auto report) {
    consensus::ReplicatedLog* r = raft();
    if (r == nullptr) return;
    for (const auto& [id, a] : r->status().addresses) {
      if (a == address) (r->*report)(id);
    }
  };
  co.on_unreachable = [for_server_at](const std::string& address) {
    for_server_at(address, &consensus::ReplicatedLog::report_unreachable);
  };
  co.on_peer_gone = [for_server_at](const std::string& address) {
    for_server_at(address, &consensus::ReplicatedLog::report_peer_gone);
  };
  rpc_client_ = std::make_unique<rpc::RpcClient>(co);
  transport_ = std::make_unique<consensus::RpcRaftTransport>(
      *rpc_client_, [this](consensus::raft::NodeId to) -> std::string {
        consensus::ReplicatedLog* r = raft();
        if (r == nullptr) return {};
        if (std::string address = r->address_of(to); !address.empty()) return address;
        std::lock_guard lock(mu_);
        auto seed = seed_addresses_.find(to);
        return seed == seed_addresses_.end() ? std::string() : seed->second;
      });
  rpc_server_->on_message([this](rpc::Message m) {
    if (m.method == consensus::kRpcRaftMessages && raft_started_) transport_->deliver(m);
  });
  rpc_server_->handle(consensus::kRpcRaftApply, [this](rpc::Request r, rpc::Responder resp) {
    if (!raft_started_) {
      resp.fail(core::make_error(core::Code::kNotLeader, "No cluster leader"));
      return;
    }
    forwarding_->handle_apply(std::move(r), std::move(resp));
  });
  rpc_server_->handle(consensus::kRpcRaftOperator, [this](rpc::Request r, rpc::Responder resp) {
    if (!raft_started_) {
      resp.fail(core::make_error(core::Code::kNotLeader, "No cluster leader"));
      return;
    }
    forwarding_->handle_operator(std::move(r), std::move(resp));
  });
  rpc_server_->handle(consensus::kRpcServerInfo, [this](rpc::Request, rpc::Responder resp) {
    // The address is known only once the port is bound: a peer asking in between would
    // record this server with no address, and bootstrap a configuration nobody can reach.
    if (!address_ready_.load(std::memory_order_acquire)) {
      resp.fail(core::make_error(core::Code::kUnavailable, "server is starting"));
      return;
    }
    const consensus::LeaderInfo leader = this->leader();
    consensus::ReplicatedLog* r = raft();
    ServerInfo info;
    info.node_id = options_.node_id;
    info.node_name = options_.node_name;
    info.datacenter = options_.datacenter;
    info.rpc_address = rpc_address_;
    info.serf_lan_address = options_.serf_lan_address;
    if (r != nullptr) {
      const consensus::ReplicatedLog::Status status = r->status();
      if (leader.known_leader) info.leader_id = status.leader;
      for (const auto* ids : {&status.conf.voters, &status.conf.learners}) {
        info.members.insert(info.members.end(), ids->begin(), ids->end());
      }
    }
    if (leader.known_leader) info.leader_address = leader.leader_address;
    resp.respond(encode_server_info(info));
  });
  if (options_.register_handlers) options_.register_handlers(*rpc_server_);
  auto port = rpc_server_->start();
  if (!port) return port.error();
  rpc_address_ = with_server_port(options_.advertise_address + ":" + std::to_string(*port));
  address_ready_.store(true, std::memory_order_release);
  rpc_client_->start();

  endpoints::set_autopilot_settings(settings_of(options_.autopilot));
  if (has_raft_state() || options_.bootstrap) {
    auto s = has_raft_state() ? start_raft({}) : start_raft({{id_, rpc_address_}});
    if (!s) return s;
    discovery_ = std::thread([this] {
      core::set_thread_name("pc-servers");
      maintain();
    });
    return core::ok();
  }
  // A new server finds the others in the LAN pool (discover()). Without bootstrap_expect it
  // only joins a cluster that has a leader, as Consul's server waits to be added.
  core::log::info(kModule,
                  "looking for servers in the LAN pool (bootstrap_expect {}); joining a cluster "
                  "that has a leader, or bootstrapping once that many servers are alive",
                  options_.bootstrap_expect);
  discovery_ = std::thread([this] {
    core::set_thread_name("pc-servers");
    discover();
    maintain();
  });
  return core::ok();
}

core::Status ServerRuntime::start_raft(std::map<std::uint64_t, std::string> voters) {
  consensus::ReplicatedLogOptions o;
  o.id = id_;
  o.self_address = rpc_address_;
  o.dir = (std::filesystem::path(options_.data_dir) / "raft").string();
  o.bootstrap_voters = std::move(voters);
  // Consul's timing: 1 s heartbeat and election timeouts per multiplier step; one tick is a
  // tenth of the election timeout, the heartbeat interval.
  o.tick = std::chrono::milliseconds(100) * options_.raft_multiplier;
  o.election_tick = 10;
  o.heartbeat_tick = 1;
  o.snapshot_threshold = options_.snapshot_threshold;
  o.trailing_logs = options_.trailing_logs;
  raft_ = std::make_unique<consensus::ReplicatedLog>(o, fsm_, *transport_);
  forwarding_ = std::make_unique<consensus::ForwardingLog>(*raft_, *rpc_client_, codec_);
  transport_->set_log(raft_.get());
  if (auto s = raft_->start(); !s) return s;
  raft_started_ = true;
  return core::ok();
}

void ServerRuntime::discover() {
  std::string last_conflict;
  std::size_t last_count = 0;
  while (true) {
    const std::vector<PoolServer> servers =
        options_.pool_servers ? options_.pool_servers() : std::vector<PoolServer>{};
    // Consul asks every server it sees for its Raft peers before bootstrapping: a cluster
    // that already runs (a leader) is joined; one with peers but no leader yet is waited for,
    // unless its peers name this server: then another server bootstrapped first with this
    // one among its voters, and this one follows (Raft with no configuration of its own,
    // answering the votes and entries of that cluster, as Consul's servers whose Raft runs
    // from the start do).
    bool existing_peers = false;
    bool named = false;
    {
      // Until this server's log names the servers, their addresses come from the pool.
      std::lock_guard lock(mu_);
      for (const PoolServer& server : servers) {
        if (raft_id_of(server.node_id) != id_) {
          seed_addresses_[raft_id_of(server.node_id)] = server.rpc_address;
        }
      }
    }
    for (const PoolServer& server : servers) {
      if (raft_id_of(server.node_id) == id_ || server.rpc_address == rpc_address_) continue;
      auto info = server_info(server.rpc_address);
      if (!info) {
        core::log::debug(kModule, "server info from {}: {}", server.rpc_address,
                         info.error().message);
        continue;
      }
      if (info->datacenter != options_.datacenter) continue;
      if (!info->leader_address.empty()) {
        if (info->leader_id != 0) {
          std::lock_guard lock(mu_);
          seed_addresses_[info->leader_id] = info->leader_address;
        }
        join(info->leader_address);
        return;
      }
      existing_peers = existing_peers || !info->members.empty();
      named = named ||
              std::find(info->members.begin(), info->members.end(), id_) != info->members.end();
    }
    if (named) {
      core::log::info(kModule,
                      "a cluster that includes this server was bootstrapped; following it");
      if (auto s = start_raft({}); !s) {
        core::log::error(kModule, "starting Raft: {}", s.error().message);
      }
      return;
    }
    if (options_.bootstrap_expect > 0 && !existing_peers) {
      const BootstrapPlan plan =
          plan_bootstrap(servers, options_.bootstrap_expect, id_, rpc_address_);
      if (plan.conflict != last_conflict && !plan.conflict.empty()) {
        core::log::error(kModule, "not bootstrapping: {}", plan.conflict);
      }
      last_conflict = plan.conflict;
      if (plan.ready) {
        core::log::info(kModule, "found {} servers in the LAN pool; bootstrapping",
                        plan.voters.size());
        if (auto s = start_raft(plan.voters); !s) {
          core::log::error(kModule, "starting Raft: {}", s.error().message);
        }
        return;
      }
      if (plan.voters.size() != last_count) {
        core::log::info(kModule, "{} of {} expected servers seen in the LAN pool",
                        plan.voters.size(), options_.bootstrap_expect);
        last_count = plan.voters.size();
      }
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, kDiscoveryInterval, [this] { return stopping_; })) return;
  }
}

void ServerRuntime::join(std::string leader) {
  core::log::info(kModule, "joining the cluster led by {}", leader);
  if (auto s = start_raft({}); !s) {
    core::log::error(kModule, "starting Raft: {}", s.error().message);
    return;
  }
  // The leader adds this server as a voter; it then receives the log (or a snapshot) and
  // learns the configuration from it. Retried until it takes, following leader changes.
  while (true) {
    core::Status outcome = ask_to_join(leader);
    if (outcome) {
      core::log::info(kModule, "joined the cluster as a voter");
      return;
    }
    core::log::warn(kModule, "joining through {}: {}", leader, outcome.error().message);
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, kDiscoveryInterval, [this] { return stopping_; })) return;
    }
    // Ask again whoever this server now hears from, else the same address.
    if (auto l = raft_->leader(); l.known_leader && !l.leader_address.empty()) {
      leader = l.leader_address;
    }
  }
}

core::Status ServerRuntime::ask_to_join(const std::string& leader) {
  const std::string request = "join\n" + std::to_string(id_) + "\n" + rpc_address_;
  auto reply = std::make_shared<std::promise<core::Status>>();
  auto future = reply->get_future();
  auto sent = rpc_client_->call(leader, consensus::kRpcRaftOperator, request,
                                std::chrono::seconds(10), [reply](core::Result<std::string> r) {
                                  reply->set_value(r ? core::ok() : core::Status(r.error()));
                                });
  return sent ? future.get() : core::Status(sent.error());
}

void ServerRuntime::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (discovery_.joinable()) discovery_.join();
  if (raft_) raft_->stop();
  if (rpc_server_) rpc_server_->stop();
  if (rpc_client_) rpc_client_->stop();
}

void ServerRuntime::propose(std::string command, consensus::ProposeDone done) {
  if (!raft_started_) {
    done(core::make_error(core::Code::kNotLeader, "No cluster leader"));
    return;
  }
  forwarding_->propose(std::move(command), std::move(done));
}

consensus::LeaderInfo ServerRuntime::leader() const {
  if (!raft_started_) return consensus::LeaderInfo{};
  return raft_->leader();
}

std::uint64_t ServerRuntime::last_index() const {
  return raft_started_ ? raft_->last_index() : 0;
}

std::vector<std::string> ServerRuntime::voters() const {
  return raft_started_ ? raft_->voters() : std::vector<std::string>{};
}

void ServerRuntime::read_barrier(consensus::OperatorDone done) {
  if (!raft_started_) {
    done(core::make_error(core::Code::kNotLeader, "No cluster leader"));
    return;
  }
  forwarding_->read_barrier(std::move(done));
}

consensus::RaftConfiguration ServerRuntime::configuration() const {
  return raft_started_ ? raft_->configuration() : consensus::RaftConfiguration{};
}

void ServerRuntime::leader_configuration(ConfigurationDone done) {
  if (!raft_started_) {
    done(core::make_error(core::Code::kNotLeader, "No cluster leader"));
    return;
  }
  forwarding_->leader_configuration(std::move(done));
}

void ServerRuntime::remove_server(std::string address, consensus::OperatorDone done) {
  if (!raft_started_) {
    done(core::make_error(core::Code::kNotLeader, "No cluster leader"));
    return;
  }
  forwarding_->remove_server(std::move(address), std::move(done));
}

void ServerRuntime::transfer_leadership(std::string address, consensus::OperatorDone done) {
  if (!raft_started_) {
    done(core::make_error(core::Code::kNotLeader, "No cluster leader"));
    return;
  }
  forwarding_->transfer_leadership(std::move(address), std::move(done));
}

std::uint64_t ServerRuntime::applied_index() const {
  return raft_started_ ? raft_->applied_index() : 0;
}

}  // namespace pc::daemon
