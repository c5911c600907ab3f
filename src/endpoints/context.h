#pragma once
// What every endpoint needs: the store to read, the log to write through, time, randomness
// and the agent's identity. Owned by the daemon; endpoints hold references only.
// Thread-safe: every member is safe to use from any thread.
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "consensus/log.h"
#include "core/clock.h"
#include "core/rand.h"
#include "core/result.h"
#include "state/store.h"

namespace pc::proto {
class Command;
}

namespace pc::agent {
class LocalAgent;
}

namespace pc::endpoints {

class ResponseCache;
class SessionTimers;
class TombstoneGc;

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

struct Context {
  state::Store& store;
  consensus::Log& log;
  const core::Clock& clock;
  core::Rand& rand;
  AgentIdentity identity;
  SessionTimers* session_timers = nullptr;  // leader-side TTL timers; null in unit tests
  TombstoneGc* tombstone_gc = nullptr;      // null in unit tests
  ResponseCache* response_cache = nullptr;  // shared renderings of large reads; null: none
  agent::LocalAgent* agent = nullptr;       // this agent's services and checks; null in unit tests
};

template <typename T>
using Done = std::function<void(core::Result<T>)>;

// Sends a command through the log. `done` runs once, on the apply thread, with the apply
// result, or with the log's error or the apply's rejection (ApplyResult.status) as an Error.
void submit(Context& ctx, proto::Command command, Done<state::ApplyResult> done);

// Unix nanoseconds of the context's wall clock.
std::int64_t unix_now_ns(const Context& ctx);

}  // namespace pc::endpoints
