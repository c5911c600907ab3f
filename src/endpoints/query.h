#pragma once
// Prepared queries (Consul's agent/consul/prepared_query_endpoint.go and state
// PreparedQueryResolve): create, update and delete through the log with Consul's validation
// and texts, list/get/explain reads, and execution: the local catalog's healthy instances of
// the query's service, filtered as the query says, and when none is left, the same query run
// in other datacenters (Failover: NearestN by WAN RTT, then Datacenters in order) through
// server RPC method 22 (query_rpc.h), the first that has instances answering.
//
// ACLs as Consul: writes need query:write on the query's prefix (its Name, for a template its
// Name even when ""; a query with neither has none to check); reads drop queries whose prefix
// the token may not read (a get by ID of a query without prefix is allowed); Token is shown as
// "<hidden>" to tokens without acl:write; execution filters instances with the query's Token,
// else the caller's (node:read and service:read).
//
// Thread-safe: every function may run on any thread; `done` callbacks run once, on the apply
// thread or an RPC thread.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "endpoints/acl_resolver.h"
#include "endpoints/context.h"
#include "endpoints/health.h"
#include "state/query_types.h"

namespace pc::endpoints {

// Server RPC method: run a query spec here, without failover (docs/formats/rpc.md).
inline constexpr std::uint16_t kRpcQueryExecuteRemote = 22;

// What failover needs from the WAN (the daemon binds it to federation's DcCaller): the
// datacenters the WAN pool knows, and a call of method 22 on a server of one of them.
struct QueryFederation {
  std::function<std::vector<std::string>()> known_datacenters;
  std::function<void(const std::string& dc, std::string payload, Done<std::string> done)> call;
};

// Consul's redactedToken.
inline constexpr std::string_view kRedactedToken = "<hidden>";

// Consul's parseQuery checks, without the "Invalid prepared query: " its caller adds.
core::Status validate_prepared_query(const state::PreparedQuery& query);

// Create (Consul's PreparedQuery.Apply with op create): `query.id` must be empty ("ID must be
// empty when creating a new prepared query"); answers the new ID.
void query_create(Context& ctx, const ResolvedToken& who, state::PreparedQuery query,
                  Done<std::string> done);
// Update of query.id ("Cannot modify non-existent prepared query: '<id>'").
void query_update(Context& ctx, const ResolvedToken& who, state::PreparedQuery query,
                  Done<bool> done);
void query_delete(Context& ctx, const ResolvedToken& who, const std::string& id, Done<bool> done);

struct QueryRead {
  std::uint64_t index = 0;  // the prepared-queries table's
  std::vector<state::PreparedQuery> queries;
  bool filtered = false;  // some were left out for the token
};
// Every query the token may read, in ID order; watches the table.
QueryRead query_list(const Context& ctx, state::WatchSet& ws, const ResolvedToken& who);
// One query by ID: NotFound "Query not found", or PermissionDenied.
core::Result<QueryRead> query_get(const Context& ctx, state::WatchSet& ws, const ResolvedToken& who,
                                  std::string_view id);

// Consul's PreparedQueryResolve: by ID (a template only by name: "prepared query templates can
// only be resolved up by name, not by ID"), else by exact name, else the template with the
// longest name prefix, rendered for the name. NotFound "Query not found" when none.
core::Result<state::PreparedQuery> query_resolve(const state::Snapshot& snap,
                                                 std::string_view id_or_name);
// /explain: the resolved (rendered) query, if the token may read it.
core::Result<state::PreparedQuery> query_explain(const Context& ctx, const ResolvedToken& who,
                                                 std::string_view id_or_name);

struct QueryExecuteOptions {
  std::string near;       // ?near=: overrides the query's Near; "_agent" is this agent
  std::string source_ip;  // the client's address, for Near "_ip"
  int limit = 0;          // ?limit=: at most this many instances; 0 all
  std::string secret;     // the caller's token secret
};

struct QueryResult {
  std::string service;
  std::vector<CheckServiceNode> nodes;
  std::string dns_ttl;     // DNS.TTL
  std::string datacenter;  // where the instances are
  int failovers = 0;       // datacenters tried after the local one
  std::uint64_t index = 0;
  // Instances the token could not read were left out (X-Consul-Results-Filtered-By-ACLs), in
  // the datacenter that answered.
  bool filtered = false;
};

// Runs the query named `id_or_name`: resolved, executed here, and failed over when nothing is
// left here. Errors: resolution's, "Bad limit" is the edge's.
void query_execute(Context& ctx, std::string_view id_or_name, QueryExecuteOptions options,
                   Done<QueryResult> done);

// The local half (Consul's execute): instances of the service with no critical check (no
// check that is not passing, with OnlyPassing) other than IgnoreCheckIDs, on nodes with every
// NodeMeta pair, with every ServiceMeta pair, with every tag and none of the "!tag"s (case
// ignored). In catalog order; the caller shuffles, sorts and limits.
QueryResult query_execute_here(const Context& ctx, const state::Snapshot& snap,
                               const state::PreparedQuery& query);

// The datacenters to try, in order: the first NearestN of `nearest` (the others by distance),
// then each of Datacenters that `nearest` holds and is not already listed.
std::vector<std::string> query_failover_order(const state::QueryFailover& failover,
                                              const std::vector<std::string>& nearest);
// The WAN pool's other datacenters by median estimated RTT from this server, nearest first;
// those without coordinates after, by name (Consul's GetDatacentersByDistance).
std::vector<std::string> datacenters_by_distance(const Context& ctx,
                                                 std::vector<std::string> known);

// Method 22's server side: decodes the request (InvalidArgument for bytes that do not
// parse), runs the query here and encodes the reply.
core::Result<std::string> query_execute_remote(const Context& ctx, std::string_view request);

}  // namespace pc::endpoints
