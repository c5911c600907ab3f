#pragma once
// ACL checks for the agent's own endpoints (/v1/agent/service/*, /v1/agent/check/*, the
// local lists), as Consul's agent vets them (vetServiceRegister, vetServiceUpdate,
// vetCheckRegister, vetCheckUpdate, filterServices, filterChecks): a service's registration
// and updates need service:write on its name; a check needs service:write on its service, or
// node:write on the agent's node for a node check. Reads filter by service:read and node:read.
//
// Stateless; the LocalState passed in is read once per call (it is itself thread-safe).
#include <string_view>
#include <vector>

#include "agent/local_agent.h"
#include "agent/local_state.h"
#include "endpoints/acl_resolver.h"

namespace pc::endpoints {

core::Status check_agent_service_register(const ResolvedToken& who,
                                          const agent::ServiceRegistration& reg);
// An update of local service `service_id` (deregister, maintenance). An unknown ID passes:
// the agent answers it as it does without ACLs.
core::Status check_agent_service_update(const ResolvedToken& who, const agent::LocalState& local,
                                        std::string_view service_id);
core::Status check_agent_check_register(const ResolvedToken& who, const agent::LocalState& local,
                                        std::string_view node, const agent::CheckRegistration& reg);
// An update of local check `check_id` (deregister, pass/warn/fail, update).
core::Status check_agent_check_update(const ResolvedToken& who, const agent::LocalState& local,
                                      std::string_view node, std::string_view check_id);

bool filter_agent_services(const ResolvedToken& who, std::vector<state::Service>& services);
// A service's check needs service:read on it, a node check node:read on its node.
bool filter_agent_checks(const ResolvedToken& who, std::vector<agent::LocalCheck>& checks);

}  // namespace pc::endpoints
