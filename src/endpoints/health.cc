#include "endpoints/health.h"

#include <algorithm>

#include "endpoints/check_filter.h"
#include "endpoints/service_filter.h"

namespace pc::endpoints {
namespace {

bool all_passing(const std::vector<state::HealthCheck>& checks) {
  return std::all_of(checks.begin(), checks.end(),
                     [](const state::HealthCheck& c) { return c.status == state::kHealthPassing; });
}

// `checks` without those on nodes missing a ?node-meta pair and those `expr` (when given)
// rejects.
HealthChecks filtered(const state::Snapshot& snap, std::uint64_t index,
                      std::vector<state::HealthCheck> checks, const NodeMetaFilter& node_meta,
                      const filter::Expression* expr) {
  if (!node_meta.empty()) {
    std::erase_if(checks, [&](const state::HealthCheck& c) {
      auto node = snap.node_get(c.node);
      return !node || !node_meta_matches(*node, node_meta);
    });
  }
  if (expr != nullptr) {
    std::erase_if(checks,
                  [&](const state::HealthCheck& c) { return !health_check_matches(*expr, c); });
  }
  return {index, std::move(checks)};
}

}  // namespace

HealthChecks health_node_checks(const Context& ctx, state::WatchSet& ws, std::string_view node,
                                const filter::Expression* expr) {
  ctx.store.watch_table(ws, state::Table::kChecks);
  state::Snapshot snap = ctx.store.snapshot();
  return filtered(snap, snap.table_index(state::Table::kChecks), snap.checks_for_node(node), {},
                  expr);
}

HealthChecks health_service_checks(const Context& ctx, state::WatchSet& ws, std::string_view name,
                                   const filter::Expression* expr) {
  return health_service_checks(ctx, ws, name, NodeMetaFilter{}, expr);
}

HealthChecks health_checks_in_state(const Context& ctx, state::WatchSet& ws,
                                    std::string_view status, const filter::Expression* expr) {
  return health_checks_in_state(ctx, ws, status, NodeMetaFilter{}, expr);
}

HealthChecks health_service_checks(const Context& ctx, state::WatchSet& ws, std::string_view name,
                                   const NodeMetaFilter& node_meta,
                                   const filter::Expression* expr) {
  ctx.store.watch_service(ws, name);
  if (!node_meta.empty()) ctx.store.watch_table(ws, state::Table::kNodes);
  state::Snapshot snap = ctx.store.snapshot();
  // The per-service index, as for the catalog, so a blocking query woken only by this
  // service's changes reports an index that moved; a name never registered falls back.
  std::uint64_t index = snap.service_index(name);
  if (index == 0) index = snap.table_index(state::Table::kChecks);
  return filtered(snap, index, snap.checks_for_service(name), node_meta, expr);
}

HealthChecks health_checks_in_state(const Context& ctx, state::WatchSet& ws,
                                    std::string_view status, const NodeMetaFilter& node_meta,
                                    const filter::Expression* expr) {
  ctx.store.watch_table(ws, state::Table::kChecks);
  if (!node_meta.empty()) ctx.store.watch_table(ws, state::Table::kNodes);
  state::Snapshot snap = ctx.store.snapshot();
  return filtered(snap, snap.table_index(state::Table::kChecks), snap.checks_in_state(status),
                  node_meta, expr);
}

core::Result<filter::Expression> compile_check_service_node_filter(std::string_view text) {
  return service_filter::compile(text, service_filter::kCheckServiceNodeLayout);
}

HealthServiceNodes health_service_nodes(const Context& ctx, state::WatchSet& ws,
                                        std::string_view name, const std::vector<std::string>& tags,
                                        const NodeMetaFilter& node_meta, bool passing_only,
                                        const filter::Expression* expr) {
  ctx.store.watch_service(ws, name);
  return health_service_nodes(ctx.store.snapshot(), name, tags, node_meta, passing_only, expr);
}

std::uint64_t health_service_index(const state::Snapshot& snap, std::string_view name) {
  // Consul's maxIndexForService with checks: the per-service index, or for a name never
  // registered the nodes, services and checks tables' index.
  std::uint64_t index = snap.service_index(name);
  if (index != 0) return index;
  return snap.max_index({state::Table::kNodes, state::Table::kServices, state::Table::kChecks});
}

HealthServiceNodes health_service_nodes(const state::Snapshot& snap, std::string_view name,
                                        const std::vector<std::string>& tags,
                                        const NodeMetaFilter& node_meta, bool passing_only,
                                        const filter::Expression* expr) {
  HealthServiceNodes out;
  out.index = health_service_index(snap, name);
  std::vector<state::Service> instances = snap.service_instances(name);
  out.nodes.reserve(instances.size());
  for (auto& s : instances) {
    if (!has_all_tags(s, tags)) continue;
    auto node = snap.node_get(s.node);
    if (!node || !node_meta_matches(*node, node_meta)) continue;
    CheckServiceNode csn{std::move(*node), std::move(s), {}};
    csn.checks = snap.checks_for_instance(csn.node.node, csn.service.id);
    if (passing_only && !all_passing(csn.checks)) continue;
    if (expr != nullptr && !service_filter::matches(*expr, {&csn.node, &csn.service})) continue;
    out.nodes.push_back(std::move(csn));
  }
  return out;
}

}  // namespace pc::endpoints
