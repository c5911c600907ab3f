#pragma once
// Session endpoint logic (Consul's Session RPC endpoint): defaults and validation of create,
// destroy, renew with the TTL timers, and the reads with their indexes and watches.
#include <optional>
#include <string>
#include <vector>

#include "endpoints/context.h"

namespace pc::endpoints {

// What a client asked for; unset fields take Consul's defaults.
struct SessionCreateArgs {
  std::string name;
  std::optional<std::string> node;                      // unset = this agent's node; "" is refused
  std::string behavior;                                 // "" = release
  std::string ttl;                                      // Go duration text, "" = none
  std::optional<std::int64_t> lock_delay_ns;            // unset = 15s
  std::optional<std::vector<std::string>> node_checks;  // unset = serfHealth
  std::optional<std::vector<state::ServiceCheckRef>> service_checks;
};

// Creates a session; `done` gets its ID. Validation errors use Consul's texts, e.g.
// "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]".
void session_create(Context& ctx, SessionCreateArgs args, Done<std::string> done);
// Destroys a session (releasing or deleting its locks); unknown IDs are not an error.
void session_destroy(Context& ctx, const std::string& id, Done<bool> done);
// Resets the TTL timer; NotFound "Session id '<id>' not found" for unknown sessions.
core::Result<std::vector<state::Session>> session_renew(Context& ctx, const std::string& id);

struct SessionsRead {
  std::uint64_t index = 0;
  std::vector<state::Session> sessions;
};
SessionsRead session_info(const Context& ctx, state::WatchSet& ws, const std::string& id);
SessionsRead session_node(const Context& ctx, state::WatchSet& ws, const std::string& node);
SessionsRead session_list(const Context& ctx, state::WatchSet& ws);

}  // namespace pc::endpoints
