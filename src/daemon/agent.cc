#include "daemon/agent.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "agent/checks/probe.h"
#include "agent/local_agent.h"
#include "consensus/runtime/single_node_log.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/timer_thread.h"
#include "core/version.h"
#include "daemon/acl_client.h"
#include "daemon/acl_init.h"
#include "daemon/acl_replication.h"
#include "daemon/acl_token_reaper.h"
#include "daemon/agent_membership.h"
#include "daemon/apply_outcome.h"
#include "daemon/audit_service.h"
#include "daemon/client_runtime.h"
#include "daemon/client_service.h"
#include "daemon/config_reload.h"
#include "daemon/config_services.h"
#include "daemon/coordinate_sync.h"
#include "daemon/dc_forward.h"
#include "daemon/dns_service.h"
#include "daemon/lan_gossip.h"
#include "daemon/lan_reconcile.h"
#include "daemon/lan_reconciler.h"
#include "daemon/leader_duties.h"
#include "daemon/query_wiring.h"
#include "daemon/replication_source.h"
#include "daemon/server_runtime.h"
#include "daemon/store_fsm.h"
#include "daemon/tls_service.h"
#include "daemon/user_events.h"
#include "daemon/wan_gossip.h"
#include "endpoints/acl_replication.h"
#include "endpoints/acl_write.h"
#include "endpoints/context.h"
#include "endpoints/coordinate.h"
#include "endpoints/gossip_stats.h"
#include "endpoints/response_cache.h"
#include "endpoints/session_timers.h"
#include "endpoints/tombstone_gc.h"
#include "federation/router.h"
#include "federation/wan_dc_caller.h"
#include "http/gossip_routes.h"
#include "http/router.h"
#include "http/routes.h"
#include "http/server.h"
#include "proto/commands.pb.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "agent";
// Consul's TombstoneTTL, unless the tombstone_ttl key shortens it (tests).
constexpr auto kTombstoneTtl = std::chrono::minutes(15);
// Shared renderings of large reads (endpoints/response_cache.h): room for the lists of a few
// dozen large services.
constexpr std::size_t kResponseCacheBytes = 64 * 1024 * 1024;

std::string pick_advertise(const core::AgentConfig& config) {
  if (!config.advertise_addr.empty()) return config.advertise_addr;
  if (!config.bind_addr.empty() && config.bind_addr != "0.0.0.0") return config.bind_addr;
  return "127.0.0.1";
}

// Registers the agent's own node through the log, as Consul's agent does on start, and waits
// for it: sessions need the node to exist.
// Registers this agent's node with its serfHealth check and the "consul" service, in one
// command, as Consul's leader does for each server (handleAliveMember): sessions depend on
// serfHealth by default, and session create refuses checks that do not exist.
core::Status register_self(endpoints::Context& ctx, const core::AgentConfig& config) {
  proto::Command cmd;
  auto* reg = cmd.mutable_catalog_register();
  reg->set_id(ctx.identity.node_id);
  reg->set_node(ctx.identity.node_name);
  reg->set_address(ctx.identity.advertise_address);
  reg->set_datacenter(ctx.identity.datacenter);
  for (const char* kind : {"lan", "wan"}) {
    auto* address = reg->add_tagged_addresses();
    address->set_key(kind);
    address->set_value(ctx.identity.advertise_address);
  }
  for (const auto& [k, v] : config.node_meta) {
    auto* meta = reg->add_node_meta();
    meta->set_key(k);
    meta->set_value(v);
  }
  // The "consul" service every server carries (Consul's leader registers it per server),
  // which clients use to find the servers.
  *reg->mutable_service() = consul_service(ctx.identity.server_port, std::string(core::kVersion));
  auto* serf = reg->mutable_check();
  serf->set_node(ctx.identity.node_name);
  serf->set_check_id("serfHealth");
  serf->set_name("Serf Health Status");
  serf->set_status("passing");
  serf->set_output("Agent alive and reachable");
  std::promise<core::Status> done;
  endpoints::submit(ctx, std::move(cmd), [&done](core::Result<state::ApplyResult> r) {
    done.set_value(r ? core::ok() : core::Status(r.error()));
  });
  return done.get_future().get();
}

// Consul's agent sends every catalog write of its anti-entropy through the servers' RPC and
// waits; here the log is in-process, so the sink submits and waits for the apply.
core::Status submit_and_wait(endpoints::Context& ctx, proto::Command cmd) {
  std::promise<core::Status> done;
  endpoints::submit(ctx, std::move(cmd), [&done](core::Result<state::ApplyResult> r) {
    done.set_value(r ? core::ok() : core::Status(r.error()));
  });
  return done.get_future().get();
}

// Anti-entropy's sink. On a client agent a write registered with its own token (a service
// registered through the agent API) acts for that token, which the server checks; a server's
// agent writes to its own log after the same check, acting for that token or else its agent
// token (endpoints/acl_write.h), as Consul's servers check their own agent's writes.
agent::CommandSink anti_entropy_sink(endpoints::Context& ctx, ClientRuntime* runtime) {
  return [&ctx, runtime](proto::Command cmd, const std::string& token) {
    if (runtime == nullptr) {
      if (auto st = endpoints::authorize_own_write(ctx, cmd, token); !st) return st;
      return submit_and_wait(ctx, std::move(cmd));
    }
    if (token.empty()) return submit_and_wait(ctx, std::move(cmd));
    std::promise<core::Status> done;
    endpoints::submit_via(
        [runtime, &token](std::string bytes, consensus::ProposeDone d) {
          runtime->propose_as(std::move(bytes), token, std::move(d));
        },
        ctx, std::move(cmd),
        [&done](core::Result<state::ApplyResult> r) {
          done.set_value(r ? core::ok() : core::Status(r.error()));
        });
    return done.get_future().get();
  };
}

core::Result<agent::LocalAgent::Options> local_agent_options(const core::AgentConfig& config) {
  agent::LocalAgent::Options options;
  options.enable_script_checks = config.enable_script_checks;
  options.enable_local_script_checks = config.enable_local_script_checks;
  // The config loader validated these durations.
  options.sync.check_update_interval = *core::parse_go_duration(config.check_update_interval);
  options.deregister_interval_min = *core::parse_go_duration(config.check_deregister_interval_min);
  options.reap_interval = *core::parse_go_duration(config.check_reap_interval);
  if (auto ae = *core::parse_go_duration(config.ae_interval); ae.count() > 0) {
    options.sync.full_sync_interval = ae;
  }
  return options;
}

// Anti-entropy spreads its full passes by the LAN pool's size (Consul's ClusterSize), which
// the pool (alive until after the local agent stops) counts; without a pool it counts one.
agent::LocalAgent::Options local_agent_options_with_pool(const core::AgentConfig& config,
                                                         const LanGossip* lan, core::Rand& rand) {
  agent::LocalAgent::Options options = *local_agent_options(config);
  if (lan != nullptr) options.sync.cluster_size = [lan] { return lan->members().size(); };
  options.sync.random = [&rand] { return rand.next_u64(); };
  return options;
}

// client_addr holds space-separated addresses (the loader checked them); DNS serves the first.
// A validated Go duration in whole seconds, as DNS TTLs carry it.
void print_banner(const core::AgentConfig& config, const endpoints::AgentIdentity& id,
                  std::uint16_t http_port, int dns_port, int https_port) {
  std::printf("==> Starting Proconsul agent...\n");
  std::printf("               Version: 'v%s'\n", std::string(core::kVersion).c_str());
  std::printf("               Node ID: '%s'\n", id.node_id.c_str());
  std::printf("             Node name: '%s'\n", id.node_name.c_str());
  std::printf("            Datacenter: '%s'\n", id.datacenter.c_str());
  std::printf("                Server: %s (Bootstrap: %s, dev mode: %s)\n",
              config.dev || config.server ? "true" : "false",
              config.dev || config.bootstrap || config.bootstrap_expect > 0 ? "true" : "false",
              config.dev ? "in-memory" : "no");
  std::printf("           Client Addr: [%s] (HTTP: %u, HTTPS: %d, DNS: %d)\n",
              config.client_addr.c_str(), static_cast<unsigned>(http_port), https_port, dns_port);
  std::printf("          Cluster Addr: %s (LAN: %d, WAN: %d)\n", id.advertise_address.c_str(),
              id.serf_lan_port, id.serf_wan_port);
  std::printf("\n==> Proconsul agent running!\n");
  std::printf("==> Log data will now stream in as it occurs:\n\n");
  std::fflush(stdout);
}

// The node ID a server keeps across restarts: <data-dir>/node-id, written on first start (as
// Consul does); a configured node_id must match it.
core::Result<std::string> persistent_node_id(const core::AgentConfig& config, core::Rand& rand) {
  const std::filesystem::path path = std::filesystem::path(config.data_dir) / "node-id";
  std::ifstream in(path);
  std::string stored;
  if (in && std::getline(in, stored) && core::is_uuid(stored)) {
    if (!config.node_id.empty() && config.node_id != stored) {
      return core::make_error(
          core::Code::kInvalidArgument,
          "node_id " + config.node_id + " differs from " + stored + " in " + path.string());
    }
    return stored;
  }
  std::string id = config.node_id.empty() ? core::make_uuid(rand) : config.node_id;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  std::ofstream out(path, std::ios::trunc);
  out << id << "\n";
  out.flush();
  if (!out) {
    return core::make_error(core::Code::kIoError, "writing " + path.string());
  }
  return id;
}

// Keeps freed memory mapped instead of returning it to the kernel after every large response
// (docs/decisions/0005): a 1,000-instance health list is a megabyte, and faulting its pages in
// anew on every request cost two thirds of the request's time.
void tune_malloc() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);   // glibc's largest; also stops its adjusting
  mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);  // give back only beyond this much free memory
}

// Starts this server's WAN pool into `wan`, joins start_join_wan (nobody answering is an
// error, as Consul's start_join_wan is) and starts the retry_join_wan loop. -dev goes on
// without the pool when its port is taken (the caller decides).
core::Status start_wan(const core::AgentConfig& config, const endpoints::AgentIdentity& identity,
                       std::unique_ptr<WanGossip>& wan) {
  wan =
      std::make_unique<WanGossip>(wan_gossip_options(config, identity, lan_tags(config, identity)));
  if (auto s = wan->start(); !s) {
    return core::make_error(s.error().code, "Error starting WAN gossip: " + s.error().message);
  }
  if (!config.start_join_wan.empty()) {
    const gossip::Pool::JoinOutcome joined = wan->join(config.start_join_wan);
    if (joined.answered == 0) {
      wan->stop();
      return core::make_error(core::Code::kUnavailable,
                              "Error joining WAN: no member answered at any start_join_wan "
                              "address" +
                                  key_mismatch_hint(joined.refused));
    }
  }
  wan->start_retry_join(config.retry_join_wan);
  return core::ok();
}

void stop_log_for_error(consensus::SingleNodeLog* dev_log, ServerRuntime* server) {
  if (dev_log) dev_log->stop();
  if (server) server->stop();
}

}  // namespace

int run_agent(const core::AgentConfig& initial) {
  tune_malloc();
  core::AgentConfig config = initial;
  // Handle the signals in this thread with sigwait; every thread started later inherits
  // the mask, so no other thread is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto level = core::log::parse_level(config.log_level);
  if (!level) {
    std::fprintf(stderr, "%s\n", level.error().message.c_str());
    return 1;
  }
  core::log::configure(*level, config.log_json);
  const bool client_mode = !config.dev && !config.server;
  // The `tls` files are read before any listener opens: a bad one is a configuration error.
  TlsService tls;
  if (auto s = tls.start(config); !s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    return 1;
  }

  core::SystemRand rand;
  state::Store store;
  StoreFsm fsm(store);
  endpoints::AgentIdentity identity;
  identity.datacenter = config.datacenter;
  identity.node_name = config.node_name;
  if (config.dev) {
    identity.node_id = config.node_id.empty() ? core::make_uuid(rand) : config.node_id;
  } else {
    auto node_id = persistent_node_id(config, rand);
    if (!node_id) {
      std::fprintf(stderr, "%s\n", node_id.error().message.c_str());
      return 1;
    }
    identity.node_id = *node_id;
  }
  identity.advertise_address = pick_advertise(config);
  identity.server_port = config.ports.server;
  identity.serf_lan_port = config.ports.serf_lan;
  identity.serf_wan_port = config.ports.serf_wan;
  identity.node_meta = config.node_meta;
  identity.version = std::string(core::kVersion);
  identity.server = !client_mode;
  auto ttl_min = core::parse_go_duration(config.session_ttl_min);
  if (!ttl_min) {
    std::fprintf(stderr, "session_ttl_min: %s\n", ttl_min.error().message.c_str());
    return 1;
  }
  identity.session_ttl_min = *ttl_min;

  // The LAN gossip pool, before the server runtime: its kRpcServerInfo answers carry the
  // pool's address. -dev goes on without a pool when its port is taken (several -dev agents
  // on one host); a server or client needs one.
  std::atomic<LanReconciler*> reconciler_hook{nullptr};
  // Consul's user events this agent receives (before the pool, which delivers them, and the
  // timers, which park /v1/event/list on its log).
  UserEventIngest user_events(identity.node_name);
  LanGossipOptions lan_options = lan_gossip_options(config, identity);
  lan_options.on_user_event = [&user_events](const gossip::UserEvent& e) { user_events.ingest(e); };
  lan_options.on_change = [&reconciler_hook] {
    if (LanReconciler* r = reconciler_hook.load()) r->trigger();
  };
  auto lan = std::make_unique<LanGossip>(std::move(lan_options));
  if (auto s = lan->start(); !s) {
    if (!config.dev) {
      std::fprintf(stderr, "Error starting LAN gossip: %s\n", s.error().message.c_str());
      return 1;
    }
    core::log::warn(kModule, "running without LAN gossip: {}", s.error().message);
    lan.reset();
  } else {
    identity.serf_lan_port = lan->port();
  }

  // -dev: one in-memory server. -server: Raft under <data-dir>/raft, peers over the server
  // port. Neither: a client agent, whose writes and reads go to the servers.
  std::unique_ptr<consensus::SingleNodeLog> dev_log;
  // The agent's own ACL tokens, from acl.tokens; /v1/agent/token/ changes them at runtime.
  endpoints::AgentTokens agent_tokens(agent_tokens_of(config.acl));
  persist_agent_tokens(config, agent_tokens);  // acl.enable_token_persistence
  std::unique_ptr<ServerRuntime> server_runtime;
  std::unique_ptr<ClientRuntime> client_runtime;
  ClientService client_service;
  // Answers other datacenters' replication fetches (method 21) when this one is primary.
  ReplicationSource replication_source;
  if (client_mode) {
    // The servers come from the LAN pool (a client refuses to start without one).
    client_runtime = std::make_unique<ClientRuntime>([pool = lan.get(), dc = config.datacenter] {
      std::vector<std::string> servers;
      for (const PoolServer& s : pool->servers(dc)) servers.push_back(s.rpc_address);
      return servers;
    });
    client_runtime->set_stream_wrapper(tls.rpc_wrapper());
    // Read per write, so a token set through /v1/agent/token/agent is used at once
    // (agent_token() falls back to the default token, else anonymous).
    client_runtime->set_write_token([&agent_tokens] { return agent_tokens.agent_token(); });
    if (auto s = client_runtime->start(); !s) {
      std::fprintf(stderr, "Error starting the client agent: %s\n", s.error().message.c_str());
      return 1;
    }
  } else if (config.dev) {
    dev_log = std::make_unique<consensus::SingleNodeLog>(
        fsm, identity.advertise_address + ":" + std::to_string(identity.server_port));
    dev_log->start();
  } else {
    ServerRuntimeOptions so;
    so.node_id = identity.node_id;
    so.node_name = identity.node_name;
    so.datacenter = identity.datacenter;
    so.bind_address = config.bind_addr;
    so.advertise_address = identity.advertise_address;
    so.serf_lan_address = lan ? lan->address() : "";
    so.port = config.ports.server;
    so.data_dir = config.data_dir;
    so.bootstrap = config.bootstrap;
    so.bootstrap_expect = config.bootstrap_expect;
    so.pool_servers = [pool = lan.get(), dc = config.datacenter] { return pool->servers(dc); };
    so.raft_multiplier = config.raft_multiplier;
    so.snapshot_threshold = static_cast<std::uint64_t>(config.raft_snapshot_threshold);
    so.trailing_logs = static_cast<std::uint64_t>(config.raft_trailing_logs);
    so.autopilot = config.autopilot;
    so.wrap_stream = tls.rpc_wrapper();
    so.register_handlers = [&client_service, &replication_source](rpc::RpcServer& server) {
      client_service.register_handlers(server);
      replication_source.register_handler(server);
    };
    server_runtime = std::make_unique<ServerRuntime>(so, fsm, apply_outcome_codec());
    if (auto s = server_runtime->start(); !s) {
      std::fprintf(stderr, "Error starting the server: %s\n", s.error().message.c_str());
      return 1;
    }
    const std::string& rpc = server_runtime->rpc_address();
    identity.server_port = std::stoi(rpc.substr(rpc.rfind(':') + 1));
  }
  if (lan) {
    // A server's tags carry its RPC port, known now; retry_join names LAN addresses.
    if (!client_mode) (void)lan->set_tags(lan_tags(config, identity));
    if (auto joined = lan->join_now(config.start_join); !joined) {
      std::fprintf(stderr, "Error joining the LAN pool: %s\n", joined.error().message.c_str());
      return 1;
    }
    lan->start_joining(config.retry_join);
  }
  // The WAN pool of servers (daemon/wan_gossip.h), once the RPC port its tags carry is known.
  std::unique_ptr<WanGossip> wan;
  if (!client_mode && config.ports.serf_wan >= 0) {
    if (auto s = start_wan(config, identity, wan); !s) {
      if (!config.dev) {
        std::fprintf(stderr, "%s\n", s.error().message.c_str());
        stop_log_for_error(dev_log.get(), server_runtime.get());
        return 1;
      }
      core::log::warn(kModule, "running without WAN gossip: {}", s.error().message);
      wan.reset();
    }
  }
  if (wan) {
    identity.serf_wan_port = wan->port();
    // The LAN tags now name the bound WAN port (wan_join_port): the other servers of this
    // datacenter flood-join it, and this server joins theirs.
    if (lan) {
      (void)lan->set_tags(lan_tags(config, identity));
      wan->start_flood([pool = lan.get()] { return pool->members(); });
    }
  } else if (!client_mode) {
    identity.serf_wan_port = -1;  // a server without a WAN pool
  }
  // Calls to the servers of other datacenters, found in the WAN pool (federation/): ?dc=
  // forwarding of HTTP and DNS goes through it.
  std::unique_ptr<federation::WanDcCaller> dc_caller;
  if (wan) {
    federation::WanDcCallerOptions dco;
    dco.members = [pool = wan.get()] { return pool->members(); };
    // TLS checks each remote server's certificate for its own datacenter's name.
    dco.wrap_stream = tls.rpc_wrapper_across(config, [pool = wan.get()](const std::string& peer) {
      return federation::datacenter_of(pool->members(), peer);
    });
    dc_caller = std::make_unique<federation::WanDcCaller>(std::move(dco));
    dc_caller->start();
  }
  AgentMembership membership(lan.get(), wan.get(), identity.datacenter);
  consensus::Log& log = client_mode  ? static_cast<consensus::Log&>(*client_runtime)
                        : config.dev ? static_cast<consensus::Log&>(*dev_log)
                                     : static_cast<consensus::Log&>(*server_runtime);
  auto stop_log = [&] {
    if (dev_log) dev_log->stop();
    if (server_runtime) server_runtime->stop();
    if (client_runtime) client_runtime->stop();
  };
  endpoints::Context ctx{store, log, core::SystemClock::instance(), rand, identity};
  // Prepared-query failover's view of the WAN (wired below); lives as long as ctx.
  endpoints::QueryFederation query_federation;
  core::TimerThread timers;
  endpoints::SessionTimers session_timers(ctx, timers);
  // The loader validated the duration; "0s" keeps the default.
  core::Duration tombstone_ttl = *core::parse_go_duration(config.tombstone_ttl);
  if (tombstone_ttl.count() <= 0) tombstone_ttl = kTombstoneTtl;
  endpoints::TombstoneGc tombstone_gc(ctx, timers, tombstone_ttl,
                                      endpoints::tombstone_granularity(tombstone_ttl));
  ctx.session_timers = &session_timers;
  // Session TTL timers and the tombstone GC run on the Raft leader only; renewals sent to a
  // follower go there. A client agent holds no tombstones: its servers' leader reaps them.
  std::unique_ptr<LeaderDuties> leader_duties;
  if (server_runtime) {
    session_timers.set_leader(false);
    tombstone_gc.set_enabled(false);
    leader_duties = std::make_unique<LeaderDuties>(log, server_runtime->rpc_address(),
                                                   session_timers, tombstone_gc, timers);
    leader_duties->start();
  }
  if (!client_mode) tombstone_gc.start();
  endpoints::ResponseCache response_cache(kResponseCacheBytes);
  ctx.response_cache = &response_cache;
  // ACLs: servers resolve tokens against their replicated tables and the leader creates the
  // builtin objects. Client agents hold no ACL tables: a server resolves their tokens
  // (daemon/acl_client.h), and the API they do not answer themselves is forwarded.
  std::unique_ptr<endpoints::AclResolver> acl_resolver;
  std::unique_ptr<AclLeaderInit> acl_init;
  std::unique_ptr<AclTokenReaper> acl_reaper;
  ctx.agent_tokens = &agent_tokens;
  if (!client_mode) {
    endpoints::AclSettings settings = acl_settings(config.acl);
    settings.primary_datacenter = config.primary_datacenter;
    acl_resolver = std::make_unique<endpoints::AclResolver>(
        store, std::move(settings), identity.datacenter, core::SystemClock::instance());
    acl_resolver->set_agent_tokens(&agent_tokens);
    ctx.acl = acl_resolver.get();
    if (config.acl.enabled) {
      std::function<bool()> leading = [] { return true; };
      if (leader_duties) leading = [duties = leader_duties.get()] { return duties->leading(); };
      acl_init = std::make_unique<AclLeaderInit>(ctx, timers, leading);
      acl_init->start();
      // Global tokens are the primary's to reap; a secondary reaps only its local ones (the
      // primary's deletions reach it by replication), as Consul's leaders do.
      acl_reaper = std::make_unique<AclTokenReaper>(ctx, timers, std::move(leading),
                                                    endpoints::acl_in_primary(ctx));
      acl_reaper->start();
    }
    replication_source.attach(ctx, timers);
  } else if (config.acl.enabled) {
    // A client agent asks a server what a token grants and enforces it itself.
    auto resolver =
        client_acl_resolver(config.acl, identity.datacenter, client_runtime->acl_fetcher());
    if (!resolver) {
      std::fprintf(stderr, "%s\n", resolver.error().message.c_str());
      stop_log();
      return 1;
    }
    acl_resolver = std::move(*resolver);
    acl_resolver->set_agent_tokens(&agent_tokens);
    ctx.acl = acl_resolver.get();
  }
  // Without token replication a secondary asks the primary for the global tokens it lacks.
  if (!client_mode && config.acl.enabled && dc_caller && !endpoints::acl_in_primary(ctx) &&
      !config.acl.enable_token_replication) {
    auto source = primary_token_source(config.acl, identity.datacenter,
                                       endpoints::acl_primary_datacenter(ctx), *dc_caller);
    if (!source) {
      std::fprintf(stderr, "%s\n", source.error().message.c_str());
      stop_log();
      return 1;
    }
    acl_resolver->set_remote_fallback(std::move(*source));
  }
  // A secondary datacenter's leader copies the primary's ACLs through the WAN pool.
  std::unique_ptr<AclReplication> acl_replication;
  if (!client_mode && config.acl.enabled && dc_caller && !endpoints::acl_in_primary(ctx)) {
    ReplicatorDeps deps;
    deps.primary_datacenter = endpoints::acl_primary_datacenter(ctx);
    deps.local_datacenter = identity.datacenter;
    deps.token = agent_tokens.get(endpoints::AgentTokens::Kind::kReplication);
    deps.remote = [caller = dc_caller.get()](const std::string& dc, std::uint16_t method,
                                             std::string payload, core::Duration timeout,
                                             federation::DcReplyFn done) {
      caller->call_idempotent(dc, method, std::move(payload), timeout, std::move(done));
    };
    deps.local = [&store] { return store.snapshot(); };
    deps.submit = [&ctx](proto::Command cmd) { return submit_and_wait(ctx, std::move(cmd)); };
    deps.leading = [duties = leader_duties.get()] {
      return duties == nullptr || duties->leading();
    };
    deps.unix_now_ns = [&ctx] { return endpoints::unix_now_ns(ctx); };
    acl_replication =
        std::make_unique<AclReplication>(std::move(deps), config.acl.enable_token_replication);
    ctx.acl_replication = acl_replication.get();
    acl_replication->start();
  }
  ctx.membership = &membership;
  if (wan) ctx.wan_coordinates = [pool = wan.get()] { return pool->server_coordinates(); };
  if (lan) ctx.lan_members = [pool = lan.get()] { return pool->lan_members(); };
  ctx.gossip_stats = [lan = lan.get(), wan = wan.get()] {
    endpoints::GossipStats pools;
    if (lan) pools.lan = lan->stats();
    if (wan) pools.wan = wan->stats();
    return pools;
  };
  // The keyring and user events, answered by every agent from its own LAN pool.
  endpoints::GossipOps gossip_ops;
  gossip_ops.user_events = &user_events.log();
  gossip_ops.timers = &timers;
  gossip_ops.rand = &rand;
  gossip_ops.datacenter = &identity.datacenter;
  gossip_ops.acl = ctx.acl;
  if (lan) {
    // A server's keyring operations cover its WAN pool too (WAN first, as Consul answers).
    gossip_ops.keyring = [lan = lan.get(), wan = wan.get()](
                             const endpoints::KeyringRequest& request,
                             endpoints::KeyringDone done) {
      std::vector<PoolKeyringOp> ops;
      if (wan) {
        ops.push_back(
            [wan, request](PoolKeyringDone d) { wan->keyring_operation(request, std::move(d)); });
      }
      ops.push_back(
          [lan, request](PoolKeyringDone d) { lan->keyring_operation(request, std::move(d)); });
      run_on_pools(std::move(ops), std::move(done));
    };
    gossip_ops.fire_user_event = [pool = lan.get()](const endpoints::UserEvent& event) {
      return pool->fire_user_event(event);
    };
  }
  // On the leader, the pool's members become nodes with serfHealth checks. It starts once
  // this server's own registration is in, so that no pass writes this node without the meta
  // and tagged addresses register_self gives it.
  std::unique_ptr<LanReconciler> reconciler;
  if (lan && !client_mode) {
    // -dev is a one-node cluster: always the leader.
    std::function<bool()> is_leader = [] { return true; };
    if (leader_duties) is_leader = [duties = leader_duties.get()] { return duties->leading(); };
    reconciler = std::make_unique<LanReconciler>(
        ctx, *lan, reconciler_options(server_runtime.get(), identity.node_id, is_leader));
  }
  auto start_reconciler = [&reconciler, &reconciler_hook] {
    if (!reconciler) return;
    reconciler->start();
    reconciler_hook = reconciler.get();
  };

  // A server registers itself once the cluster has a leader (in Consul the leader does it);
  // -dev has one at once.
  std::atomic<bool> stopping{false};
  std::thread registrar;
  if (client_mode) {
    // A client agent's node reaches the catalog through anti-entropy (its first pass
    // registers the node); the servers' own rows are the servers' business.
  } else if (config.dev) {
    if (auto st = register_self(ctx, config); !st) {
      std::fprintf(stderr, "Failed to register node %s: %s\n", identity.node_name.c_str(),
                   st.error().message.c_str());
      return 1;
    }
    session_timers.arm_all_from_state();
    start_reconciler();
  } else {
    // A copy: a reload (SIGHUP, /v1/agent/reload) replaces `config` while this thread runs.
    registrar = std::thread([&ctx, config, &stopping, &start_reconciler] {
      core::set_thread_name("pc-register");
      while (!stopping) {
        if (register_self(ctx, config)) {
          start_reconciler();
          return;
        }
        for (int i = 0; i < 10 && !stopping; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }
  auto stop_registrar = [&] {
    stopping = true;
    if (registrar.joinable()) registrar.join();
  };

  agent::NodeInfo node_info{
      identity.node_id,
      identity.node_name,
      identity.advertise_address,
      identity.datacenter,
      {{"lan", identity.advertise_address}, {"wan", identity.advertise_address}},
      config.node_meta};
  core::SystemRand agent_rand;
  agent::LocalAgent::Options agent_options =
      local_agent_options_with_pool(config, lan.get(), agent_rand);
  // Alias checks naming an AliasNode read that node's rows as anti-entropy reads its own.
  agent_options.runner.node_reader = [&store,
                                      runtime = client_runtime.get()](const std::string& node) {
    return (runtime != nullptr ? runtime->node_reader(node) : agent::store_reader(store, node))();
  };
  // What the agent API registers survives restarts in <data_dir>/services and /checks,
  // restored by start() below before the first anti-entropy pass; -dev keeps nothing.
  agent_options.data_dir = config.dev ? std::string() : config.data_dir;
  agent::LocalAgent local_agent(node_info,
                                client_mode ? client_runtime->node_reader(node_info.name)
                                            : agent::store_reader(store, node_info.name),
                                anti_entropy_sink(ctx, client_runtime.get()), timers,
                                core::SystemClock::instance(), agent_rand,
                                std::move(agent_options));
  ctx.agent = &local_agent;
  user_events.set_agent(&local_agent);
  // The config files' services and checks, registered before the first anti-entropy pass;
  // a refused definition stops the start below, once everything started can be undone.
  ConfigServices config_services(local_agent);
  ConfigReloader reloader(config, config_services, [&agent_tokens] {
    return agent_tokens.get(endpoints::AgentTokens::Kind::kConfigFileRegistration);
  });
  core::Status config_services_registered = reloader.register_initial();
  ctx.reload_config = [&reloader] { return reloader.reload(); };
  local_agent.start();

  // Servers batch the coordinate updates they receive and commit them every period.
  endpoints::CoordinateBatcher coordinate_batcher(ctx, {});
  std::unique_ptr<CoordinateFlusher> coordinate_flusher;
  if (!client_mode) {
    ctx.coordinate_batcher = &coordinate_batcher;
    coordinate_flusher = std::make_unique<CoordinateFlusher>(
        timers, coordinate_batcher,
        std::chrono::duration_cast<std::chrono::milliseconds>(
            *core::parse_go_duration(config.coordinate_update_period)));
    coordinate_flusher->start();
  }

  http::Router router;
  if (client_mode) {
    // The agent's own API here; every other path is answered by a server.
    http::register_routes(router, ctx, http::RouteSet::kAgentOnly);
    // Events for another datacenter go through the server too, which forwards them on.
    http::register_gossip_routes(router, gossip_ops, client_runtime->http_forwarder(),
                                 client_runtime->http_forwarder());
    router.add("/", {}, resolve_near_agent(client_runtime->http_forwarder(), identity.node_name));
  } else {
    http::Handler to_dc = dc_caller ? dc_http_forwarder(*dc_caller) : http::Handler();
    http::register_routes(router, ctx, http::RouteSet::kAll,
                          leader_duties ? leader_duties->forwarder(server_runtime->rpc_client())
                                        : http::LeaderForwarder(),
                          to_dc);
    http::register_gossip_routes(router, gossip_ops, nullptr, to_dc);
    client_service.attach(ctx, router, timers);
  }
  // The audit log (config `audit`), declared before the HTTP servers that feed it so it
  // outlives them; started below, once a failure can undo the rest.
  AuditService audit;
  http::ServerOptions options;
  options.port = static_cast<std::uint16_t>(config.ports.http);
  options.threads = config.http_threads > 0 ? config.http_threads : 2;
  // Consul states the configured default policy on every response; clients and UIs read it.
  options.default_headers = {{"X-Consul-Default-ACL-Policy", config.acl.default_policy}};
  options.leader_info = [&log] {
    auto l = log.leader();
    return http::LeaderInfo{l.known_leader, l.last_contact_ms};
  };
  // One HTTP server per client address, all on the port the first one bound.
  std::vector<std::unique_ptr<http::Server>> http_servers;
  auto stop_http = [&http_servers] {
    for (auto& s : http_servers) s->stop();
  };
  auto stop_gossip = [&] {
    reconciler_hook = nullptr;  // the pool's events must not reach a reconciler going away
    if (reconciler) reconciler->stop();
  };
  // A listener that cannot start ends the agent before it ran: undo what started.
  auto abandon_start = [&] {
    stop_http();
    stop_registrar();  // before the reconciler it may start
    stop_gossip();
    // Before the pools: anti-entropy asks the LAN pool its size, which a stopped pool never
    // answers.
    local_agent.stop();
    if (lan) lan->stop();
    if (wan) wan->stop();
    timers.stop();
    stop_log();
    return 1;
  };
  if (!config_services_registered) {
    std::fprintf(stderr, "%s\n", config_services_registered.error().message.c_str());
    return abandon_start();
  }
  if (auto started = audit.start(config, acl_resolver.get(), store); !started) {
    std::fprintf(stderr, "Error starting the audit log: %s\n", started.error().message.c_str());
    return abandon_start();
  }
  options.wrap_reply = audit.wrapper();
  core::Result<std::uint16_t> port = options.port;
  for (const std::string& address : core::client_addresses(config)) {
    options.address = address;
    auto server = std::make_unique<http::Server>(options, router);
    port = server->start();
    if (!port) {
      std::fprintf(stderr, "Error starting HTTP server on %s:%d: %s\n", address.c_str(),
                   config.ports.http, port.error().message.c_str());
      return abandon_start();
    }
    options.port = *port;
    http_servers.push_back(std::move(server));
  }

  // HTTPS (ports.https) beside HTTP, the same routes, when tls.https has a certificate.
  int https_port = -1;
  if (tls.https_enabled(config)) {
    http::ServerOptions tls_options = options;
    tls_options.port = static_cast<std::uint16_t>(config.ports.https);
    tls_options.tls = tls.https();
    for (const std::string& address : core::client_addresses(config)) {
      tls_options.address = address;
      auto server = std::make_unique<http::Server>(tls_options, router);
      auto bound = server->start();
      if (!bound) {
        std::fprintf(stderr, "Error starting HTTPS server on %s:%d: %s\n", address.c_str(),
                     config.ports.https, bound.error().message.c_str());
        return abandon_start();
      }
      tls_options.port = *bound;
      https_port = *bound;
      http_servers.push_back(std::move(server));
      core::log::info(kModule, "HTTPS API listening on https://{}:{}", address, *bound);
    }
  }

  // Every agent with a LAN pool sends its coordinate to the servers (Consul's sendCoordinate).
  std::unique_ptr<CoordinateSender> coordinate_sender;
  if (lan && !config.disable_coordinates) {
    CoordinateSender::Options so;
    so.node = identity.node_name;
    so.interval_min = std::chrono::duration_cast<std::chrono::milliseconds>(
        *core::parse_go_duration(config.sync_coordinate_interval_min));
    so.coordinate = [pool = lan.get()] { return pool->coordinate(); };
    so.pool_size = [pool = lan.get()] { return pool->members().size(); };
    so.route = [&router](const http::Request& req, http::Reply reply) {
      router.dispatch(req, std::move(reply));
    };
    // Consul sends it acting for the agent token, read per update.
    so.token = [&agent_tokens] { return agent_tokens.agent_token(); };
    coordinate_sender = std::make_unique<CoordinateSender>(timers, std::move(so));
    coordinate_sender->start();
  }

  // The DNS interface on every client address, answering from the latest snapshot. A client
  // agent's resolver has no catalog: its domains are answered by a server, whose resolver
  // exists even when its own DNS port is disabled.
  std::unique_ptr<DnsService> dns = std::make_unique<DnsService>(
      store, log, config, identity.node_name,
      client_mode ? client_runtime->dns_forwarder(&agent_tokens) : AskServer());
  dns->set_acl(acl_resolver.get(), &agent_tokens);
  if (!client_mode) client_service.attach_dns(dns.get());
  if (dc_caller) dns->set_datacenter_forwarding(dc_dns_forwarding(*dc_caller));
  if (leader_duties) {
    dns->set_leader_forwarding(leader_duties->dns_forwarder(server_runtime->rpc_client()));
  }
  // Prepared queries: NAME.query names run here on a server (failover included), with the
  // agent's token as the caller's.
  query_federation.known_datacenters = [&membership] { return membership.datacenters(); };
  if (dc_caller) {
    query_federation.known_datacenters = [caller = dc_caller.get()] {
      return caller->known_datacenters();
    };
    query_federation.call = [caller = dc_caller.get()](const std::string& dc, std::string payload,
                                                       endpoints::Done<std::string> done) {
      caller->call(dc, endpoints::kRpcQueryExecuteRemote, std::move(payload),
                   std::chrono::seconds(10), std::move(done));
    };
  }
  ctx.query_federation = &query_federation;
  if (!client_mode) {
    // Run with the agent's DNS token, read per question (a runtime change applies at once).
    dns->set_query_runner(
        dns_query_runner(ctx, [&agent_tokens] { return agent_tokens.dns_token(); }));
  }
  int dns_port = -1;
  if (config.ports.dns >= 0) {
    auto bound = dns->start();
    if (!bound) {
      std::fprintf(stderr, "Error starting DNS server on %s:%d: %s\n", config.client_addr.c_str(),
                   config.ports.dns, bound.error().message.c_str());
      return abandon_start();
    }
    dns_port = *bound;
  }
  reloader.set_apply_rest([&dns, &tls](const core::AgentConfig& next) {
    dns->reload(next);
    tls.reload(next);
  });
  print_banner(config, identity, *port, dns_port, https_port);
  for (const std::string& address : core::client_addresses(config)) {
    core::log::info(kModule, "HTTP API listening on http://{}:{}", address, *port);
  }
  if (dns_port >= 0) {
    for (const std::string& address : dns->addresses()) {
      core::log::info(kModule, "DNS server listening on {}:{} (udp, tcp)", address, dns_port);
    }
  }

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      audit.reopen();
      core::log::info(kModule, "Caught signal: hangup; reloading configuration");
      (void)reloader.reload();  // a failure is logged; the agent goes on as it was
      continue;
    }
    core::log::info(kModule, "Caught signal: {}", sig == SIGINT ? "interrupt" : "terminated");
    break;
  }
  core::log::info(kModule, "Gracefully shutting down agent...");
  if (coordinate_sender) coordinate_sender->stop();
  if (coordinate_flusher) coordinate_flusher->stop();
  dns->stop();
  stop_http();
  if (dc_caller) dc_caller->stop();  // after the listeners whose requests it carries
  // The writers stopped next may be waiting for a leader (a held write lasts up to 7 s):
  // stopping the log first fails them at once instead of holding up the exit.
  stop_log();
  if (acl_replication) acl_replication->stop();  // its writes failed with the log's stop
  stop_registrar();                              // before the reconciler it may start
  stop_gossip();
  local_agent.stop();
  agent::kill_running_scripts();  // a check script must not outlive its agent
  // Consul's defaults: a client leaves the pool on SIGTERM and SIGINT (leave_on_terminate,
  // skip_leave_on_interrupt), so its node is deregistered; a server just stops, and the
  // others mark it failed.
  // `proconsul leave` (/v1/agent/leave) makes a server leave both pools, WAN first, as
  // Consul's Server.Leave does.
  if (wan && membership.leave_requested()) {
    wan->leave();
  } else if (wan) {
    wan->stop();
  }
  if (lan && (client_mode || membership.leave_requested())) {
    lan->leave();
  } else if (lan) {
    lan->stop();
  }
  timers.stop();
  core::log::info(kModule, "Agent stopped");
  return 0;
}

}  // namespace pc::daemon
