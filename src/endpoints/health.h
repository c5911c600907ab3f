#pragma once
// Health endpoint logic (Consul's Health RPC endpoint and the state/catalog.go check reads):
// which index each read reports, what it watches, and the ?tag / ?node-meta / ?passing /
// ?filter selection of service entries. Read-only; checks are written through the catalog.
// Rendering lives in http/.
#include <cstdint>
#include <string_view>
#include <vector>

#include "endpoints/catalog.h"
#include "endpoints/context.h"
#include "filter/filter.h"

namespace pc::endpoints {

struct HealthChecks {
  std::uint64_t index = 0;
  std::vector<state::HealthCheck> checks;
};

// Each read keeps only the checks matching `expr` when given (a HealthCheck filter,
// endpoints/check_filter.h); the index is the same either way.
// Consul's NodeChecks: the checks table's index; watches the checks table.
HealthChecks health_node_checks(const Context& ctx, state::WatchSet& ws, std::string_view node,
                                const filter::Expression* expr = nullptr);
// Checks of every instance of `name`. Watches only that service.
HealthChecks health_service_checks(const Context& ctx, state::WatchSet& ws, std::string_view name,
                                   const filter::Expression* expr = nullptr);
// Consul's ChecksInState: "any" or one status. Consul does not validate the state, so an
// unknown one is simply an empty list. The checks table's index; watches the checks table.
HealthChecks health_checks_in_state(const Context& ctx, state::WatchSet& ws,
                                    std::string_view status,
                                    const filter::Expression* expr = nullptr);
// The same two reads with Consul's ?node-meta: only checks on nodes carrying every pair. The
// nodes table is watched too (a node's meta decides membership); the index is the read's own.
HealthChecks health_service_checks(const Context& ctx, state::WatchSet& ws, std::string_view name,
                                   const NodeMetaFilter& node_meta, const filter::Expression* expr);
HealthChecks health_checks_in_state(const Context& ctx, state::WatchSet& ws,
                                    std::string_view status, const NodeMetaFilter& node_meta,
                                    const filter::Expression* expr);

// Consul's structs.CheckServiceNode: one instance, its node, the node's own checks (no
// ServiceID) and the instance's checks, ordered by check ID.
struct CheckServiceNode {
  state::Node node;
  state::Service service;
  std::vector<state::HealthCheck> checks;
};

// Compiles a ?filter= against the CheckServiceNode fields Node.* and Service.* (Consul's
// bexpr schema for it, without Checks, which the filter library cannot yet select into).
core::Result<filter::Expression> compile_check_service_node_filter(std::string_view text);

struct HealthServiceNodes {
  std::uint64_t index = 0;
  std::vector<CheckServiceNode> nodes;
};
// Instances of `name` with every tag in `tags`, on nodes matching `node_meta`, matching
// `expr` when given, and with `passing_only` only those whose every check is passing
// (Consul's filterNonPassing: warning does not count). Watches only that service.
HealthServiceNodes health_service_nodes(const Context& ctx, state::WatchSet& ws,
                                        std::string_view name, const std::vector<std::string>& tags,
                                        const NodeMetaFilter& node_meta, bool passing_only,
                                        const filter::Expression* expr);
// The same read on a snapshot the caller took after store.watch_service(ws, name), for a
// caller that looks the index up first (a shared rendering may already exist for it).
HealthServiceNodes health_service_nodes(const state::Snapshot& snap, std::string_view name,
                                        const std::vector<std::string>& tags,
                                        const NodeMetaFilter& node_meta, bool passing_only,
                                        const filter::Expression* expr);
// The index that read reports: it moves whenever its result can change.
std::uint64_t health_service_index(const state::Snapshot& snap, std::string_view name);

}  // namespace pc::endpoints
