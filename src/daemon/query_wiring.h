#pragma once
// Prepared queries in the daemon: the DNS interface's runner for NAME.query names (executes
// the query with failover, as /v1/query/NAME/execute does, with the agent's token) and the
// failover's view of the WAN (endpoints::QueryFederation). The cross-datacenter call is bound
// once federation's DcCaller exists (see bind_dc_caller); until then failover tries nothing.
//
// Lifecycle: owned by the agent, outliving the DNS service and the endpoints Context that
// point at it. Thread-safe once wired.
#include <string>

#include "daemon/dns_service.h"
#include "endpoints/context.h"
#include "endpoints/query.h"

namespace pc::daemon {

// The runner DnsService::set_query_runner takes: resolves and executes `name` on `ctx`, with
// `secret()` (read per question) as the caller's token, and hands the DNS answer back.
DnsService::QueryRunner dns_query_runner(endpoints::Context& ctx,
                                         std::function<std::string()> secret);

}  // namespace pc::daemon
