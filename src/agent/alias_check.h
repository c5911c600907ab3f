#pragma once
// Alias checks (Consul's CheckAlias, agent/checks/alias.go): a check whose status mirrors the
// health of another service instance or node. This is the pure rule; CheckRunner feeds it
// the aliased node's checks, from this agent's LocalState when AliasNode is empty, otherwise
// from the catalog.
//
// The rule, as Consul's processChecks: among the checks of the aliased node (AliasNode, or
// any node when it is empty), keep the node's own checks (no ServiceID) and the aliased
// service's (ServiceID == AliasService; with no AliasService, only the node's own). Any
// critical → critical "Aliased check \"<name>\" failing: <output>"; else any warning →
// warning with the same text for the (last) warning; else passing, "All checks passing."
// or "No checks found." when nothing matched. When no check of the aliased service itself
// matched and the service does not exist, critical "Service <id> could not be found on node
// <node>".
//
// Pure; thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "state/types.h"

namespace pc::agent {

struct AliasTarget {
  std::string node;          // AliasNode; "" = this agent's local state
  std::string service_id;    // AliasService (an instance ID, not a name); "" = the node itself
  std::string own_check_id;  // the alias check itself, never counted (see alias_check.cc)
};

struct AliasOutcome {
  std::string status;
  std::string output;
  bool operator==(const AliasOutcome&) const = default;
};

// `service_exists`: whether the aliased service instance is registered (locally or in the
// catalog, wherever the checks came from).
AliasOutcome alias_outcome(const AliasTarget& target, const std::vector<state::HealthCheck>& checks,
                           bool service_exists);

}  // namespace pc::agent
