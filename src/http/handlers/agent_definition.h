#pragma once
// Decoding of Consul's agent registration bodies: structs.ServiceDefinition (PUT
// /v1/agent/service/register) and structs.CheckDefinition (PUT /v1/agent/check/register and
// a service's Check/Checks), with Consul's key matching (json/read.h), its duration forms
// ("10s" or nanoseconds) and its 400 texts. Check kinds this agent cannot run (Docker,
// H2PING, UDP, OS service) are refused by name instead of being mistaken for TTL checks.
#include <string_view>

#include "agent/local_agent.h"
#include "core/result.h"

namespace pc::http::handlers {

core::Result<agent::ServiceRegistration> parse_service_definition(std::string_view body);
core::Result<agent::CheckRegistration> parse_check_definition(std::string_view body);

}  // namespace pc::http::handlers
