#pragma once
// ?filter= over health checks (Consul's structs.HealthCheck: /v1/health/node/:node,
// /v1/health/checks/:service, /v1/health/state/:state and the agent's check list). Compile
// once per request; errors are InvalidArgument with go-bexpr's text (HTTP 400).
//
// Selectors: Node, CheckID, Name, Status, Notes, Output, ServiceID, ServiceName, ServiceTags,
// Type. (Consul's reflection also reaches Interval, Timeout, ExposedPort and PeerName, which
// are not selectable here; Definition and the Raft indexes are not selectable in Consul
// either.)
//
// Thread-safety: stateless; a compiled Expression may be shared across threads.
#include <string_view>

#include "core/result.h"
#include "filter/filter.h"
#include "state/types.h"

namespace pc::endpoints {

core::Result<filter::Expression> compile_health_check_filter(std::string_view text);
bool health_check_matches(const filter::Expression& expr, const state::HealthCheck& check);

}  // namespace pc::endpoints
