#pragma once
// What every endpoint needs: the store to read, the log to write through, time, randomness
// and the agent's identity. Owned by the daemon; endpoints hold references only.
// Thread-safe: every member is safe to use from any thread.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "consensus/log.h"
#include "core/clock.h"
#include "core/rand.h"
#include "core/result.h"
#include "endpoints/keyring.h"
#include "endpoints/user_event.h"
#include "state/store.h"

namespace pc::proto {
class Command;
}

namespace pc::agent {
class LocalAgent;
}

namespace pc::core {
class TimerThread;
}

namespace pc::endpoints {

class Membership;
class CoordinateBatcher;
struct WanServerCoordinate;
class AclResolver;
class AgentTokens;
class AclReplicationStatusSource;
class ResponseCache;
class SessionTimers;
struct QueryFederation;
struct GossipStats;

struct AgentIdentity {
  std::string datacenter;
  std::string node_name;
  std::string node_id;
  std::string advertise_address;  // IP the agent advertises
  int server_port = 8300;
  int serf_lan_port = 8301;
  int serf_wan_port = 8302;
  std::map<std::string, std::string> node_meta;
  std::string version;
  core::Duration session_ttl_min{std::chrono::seconds(10)};
  bool server = true;  // false on a client agent
};

// One member of the LAN gossip pool, as /v1/agent/members shows it (Consul's serf.Member).
struct LanMember {
  std::string name;
  std::string addr;  // IP
  int port = 0;      // gossip port
  std::map<std::string, std::string> tags;
  int status = 1;  // serf's MemberStatus: 1 alive, 2 leaving, 3 left, 4 failed
};

struct Context {
  state::Store& store;
  consensus::Log& log;
  const core::Clock& clock;
  core::Rand& rand;
  AgentIdentity identity;
  SessionTimers* session_timers = nullptr;  // leader-side TTL timers; null in unit tests
  ResponseCache* response_cache = nullptr;  // shared renderings of large reads; null: none
  agent::LocalAgent* agent = nullptr;       // this agent's services and checks; null in unit tests
  // The LAN pool's members, this agent included; null when the agent runs no pool (it then
  // reports itself alone). Safe to call from any thread.
  std::function<std::vector<LanMember>()> lan_members;
  // The agent's pools for join, leave, force-leave, WAN members and datacenters
  // (endpoints/membership.h); null in unit tests and where no pool runs.
  Membership* membership = nullptr;
  // Coordinate updates wait here for the next batch (endpoints/coordinate.h); null: each
  // update is its own command (unit tests).
  CoordinateBatcher* coordinate_batcher = nullptr;
  // The dimensionality of coordinates the servers accept (serf's 8).
  std::size_t coordinate_dimensionality = 8;
  // The WAN pool's servers with their coordinates, for /v1/coordinate/datacenters; null
  // until a WAN pool exists (the local datacenter is then listed with none).
  std::function<std::vector<WanServerCoordinate>()> wan_coordinates;
  // Token resolution and the agent's acl settings; null or disabled: ACLs are off.
  const AclResolver* acl = nullptr;
  // The agent's own tokens (acl.tokens, changed by /v1/agent/token/); null in unit tests.
  AgentTokens* agent_tokens = nullptr;
  // A secondary datacenter's ACL replication status (endpoints/acl_replication.h); null in
  // the primary and in unit tests.
  const AclReplicationStatusSource* acl_replication = nullptr;
  // Prepared-query failover to other datacenters (endpoints/query.h); null: no failover.
  QueryFederation* query_federation = nullptr;
  // The gossip pools' statistics for /v1/agent/self (endpoints/gossip_stats.h); null: the
  // agent runs no pool (unit tests). Safe to call from any thread.
  std::function<GossipStats()> gossip_stats;
  // Reloads the agent's configuration files (PUT /v1/agent/reload; daemon/config_reload.h);
  // null where nothing can be reloaded (unit tests).
  std::function<core::Status()> reload_config;
};

template <typename T>
using Done = std::function<void(core::Result<T>)>;

// Sends a command through the log. `done` runs once, on the apply thread, with the apply
// result, or with the log's error or the apply's rejection (ApplyResult.status) as an Error.
void submit(Context& ctx, proto::Command command, Done<state::ApplyResult> done);

// As submit(), through `propose` instead of ctx.log.propose (a client agent's write that
// acts for a token other than the agent's own).
using ProposeFn = std::function<void(std::string command, consensus::ProposeDone done)>;
void submit_via(const ProposeFn& propose, Context& ctx, proto::Command command,
                Done<state::ApplyResult> done);

// Unix nanoseconds of the context's wall clock.
std::int64_t unix_now_ns(const Context& ctx);

}  // namespace pc::endpoints
