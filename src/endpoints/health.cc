#include "endpoints/health.h"

#include <algorithm>

#include "endpoints/service_filter.h"

namespace pc::endpoints {
namespace {

// The selectors of Consul's CheckServiceNode (bexpr tags in agent/structs).
class CheckServiceNodeSchema final : public filter::Schema {
 public:
  core::Result<filter::Field> resolve(const filter::Selector& s) const override {
    using filter::FieldType;
    namespace sf = service_filter;
    static constexpr sf::FieldName kNames[] = {
        {{"Node", "ID"}, 2, FieldType::kString, sf::kNodeId, sf::kNodeId},
        {{"Node", "Node"}, 2, FieldType::kString, sf::kNodeName, sf::kNodeName},
        {{"Node", "Address"}, 2, FieldType::kString, sf::kNodeAddress, sf::kNodeAddress},
        {{"Node", "Datacenter"}, 2, FieldType::kString, sf::kNodeDatacenter, sf::kNodeDatacenter},
        {{"Node", "TaggedAddresses"},
         2,
         FieldType::kStringMap,
         sf::kNodeTaggedAddresses,
         sf::kNodeTaggedAddressesKey},
        {{"Node", "Meta"}, 2, FieldType::kStringMap, sf::kNodeMeta, sf::kNodeMetaKey},
        {{"Service", "Kind"}, 2, FieldType::kString, sf::kServiceKind, sf::kServiceKind},
        {{"Service", "ID"}, 2, FieldType::kString, sf::kServiceId, sf::kServiceId},
        {{"Service", "Service"}, 2, FieldType::kString, sf::kServiceName, sf::kServiceName},
        {{"Service", "Tags"}, 2, FieldType::kStringList, sf::kServiceTags, sf::kServiceTags},
        {{"Service", "Address"}, 2, FieldType::kString, sf::kServiceAddress, sf::kServiceAddress},
        {{"Service", "TaggedAddresses"},
         2,
         FieldType::kStringMap,
         sf::kServiceTaggedAddresses,
         sf::kServiceTaggedAddressesKey},
        {{"Service", "Meta"}, 2, FieldType::kStringMap, sf::kServiceMeta, sf::kServiceMetaKey},
        {{"Service", "Port"}, 2, FieldType::kInt, sf::kServicePort, sf::kServicePort},
        {{"Service", "Weights", "Passing"},
         3,
         FieldType::kInt,
         sf::kServiceWeightsPassing,
         sf::kServiceWeightsPassing},
        {{"Service", "Weights", "Warning"},
         3,
         FieldType::kInt,
         sf::kServiceWeightsWarning,
         sf::kServiceWeightsWarning},
        {{"Service", "EnableTagOverride"},
         2,
         FieldType::kBool,
         sf::kServiceEnableTagOverride,
         sf::kServiceEnableTagOverride},
    };
    return sf::resolve(kNames, s);
  }
};

class CheckServiceNodeObject final : public filter::Object {
 public:
  explicit CheckServiceNodeObject(const CheckServiceNode& csn) : csn_(csn) {}
  filter::Value get(const filter::Selector& s) const override {
    return service_filter::value(s, csn_.node, csn_.service);
  }

 private:
  const CheckServiceNode& csn_;
};

bool all_passing(const std::vector<state::HealthCheck>& checks) {
  return std::all_of(checks.begin(), checks.end(),
                     [](const state::HealthCheck& c) { return c.status == state::kHealthPassing; });
}

}  // namespace

HealthChecks health_node_checks(const Context& ctx, state::WatchSet& ws, std::string_view node) {
  ctx.store.watch_table(ws, state::Table::kChecks);
  state::Snapshot snap = ctx.store.snapshot();
  return {snap.table_index(state::Table::kChecks), snap.checks_for_node(node)};
}

HealthChecks health_service_checks(const Context& ctx, state::WatchSet& ws, std::string_view name) {
  ctx.store.watch_service(ws, name);
  state::Snapshot snap = ctx.store.snapshot();
  // The per-service index, as for the catalog, so a blocking query woken only by this
  // service's changes reports an index that moved; a name never registered falls back.
  std::uint64_t index = snap.service_index(name);
  if (index == 0) index = snap.table_index(state::Table::kChecks);
  return {index, snap.checks_for_service(name)};
}

HealthChecks health_checks_in_state(const Context& ctx, state::WatchSet& ws,
                                    std::string_view status) {
  ctx.store.watch_table(ws, state::Table::kChecks);
  state::Snapshot snap = ctx.store.snapshot();
  return {snap.table_index(state::Table::kChecks), snap.checks_in_state(status)};
}

core::Result<filter::Expression> compile_check_service_node_filter(std::string_view text) {
  static const CheckServiceNodeSchema kSchema;
  return filter::Expression::compile(text, kSchema);
}

HealthServiceNodes health_service_nodes(const Context& ctx, state::WatchSet& ws,
                                        std::string_view name, const std::vector<std::string>& tags,
                                        const NodeMetaFilter& node_meta, bool passing_only,
                                        const filter::Expression* expr) {
  ctx.store.watch_service(ws, name);
  state::Snapshot snap = ctx.store.snapshot();
  HealthServiceNodes out;
  // Consul's maxIndexForService with checks: the per-service index, or for a name never
  // registered the nodes, services and checks tables' index.
  out.index = snap.service_index(name);
  if (out.index == 0) {
    out.index =
        snap.max_index({state::Table::kNodes, state::Table::kServices, state::Table::kChecks});
  }
  for (auto& s : snap.service_instances(name)) {
    if (!has_all_tags(s, tags)) continue;
    auto node = snap.node_get(s.node);
    if (!node || !node_meta_matches(*node, node_meta)) continue;
    CheckServiceNode csn{std::move(*node), std::move(s), {}};
    for (auto& c : snap.checks_for_node(csn.node.node)) {
      if (c.service_id.empty() || c.service_id == csn.service.id) {
        csn.checks.push_back(std::move(c));
      }
    }
    if (passing_only && !all_passing(csn.checks)) continue;
    if (expr != nullptr && !expr->matches(CheckServiceNodeObject(csn))) continue;
    out.nodes.push_back(std::move(csn));
  }
  return out;
}

}  // namespace pc::endpoints
