#include "agent/alias_check.h"

#include "core/strings.h"

namespace pc::agent {

AliasOutcome alias_outcome(const AliasTarget& target, const std::vector<state::HealthCheck>& checks,
                           bool service_exists) {
  AliasOutcome out{std::string(state::kHealthPassing), "No checks found."};
  bool service_found = false;
  for (const state::HealthCheck& c : checks) {
    if (!target.node.empty() && c.node != target.node) continue;
    // Consul would count the alias check itself when it is a node-level check of the aliased
    // node, which would then mirror its own status for ever; it never informs the alias.
    if (target.node.empty() && c.check_id == target.own_check_id) continue;
    const bool service_match = c.service_id == target.service_id;
    if (!c.service_id.empty() && !service_match) continue;
    if (service_match) service_found = true;
    if (c.status == state::kHealthCritical || c.status == state::kHealthWarning) {
      out.status = c.status;
      out.output = "Aliased check " + core::go_quote(c.name) + " failing: " + c.output;
      if (c.status == state::kHealthCritical) break;
    } else if (out.status == state::kHealthPassing) {
      out.output = "All checks passing.";
    }
  }
  if (!service_found && !service_exists) {
    out.status = state::kHealthCritical;
    out.output = "Service " + target.service_id + " could not be found on node " + target.node;
  }
  return out;
}

}  // namespace pc::agent
