#include "endpoints/catalog.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/strings.h"
#include "endpoints/node_filter.h"
#include "endpoints/service_filter.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

core::Error server_error(std::string message) {
  // Consul's Catalog.Register/Deregister return plain errors; its HTTP edge answers 500.
  return core::make_error(core::Code::kInternal, std::move(message));
}

// go-uuid's ParseUUID checks, with its texts (Consul wraps them as "Bad node ID: <err>").
std::optional<std::string> uuid_error(std::string_view id) {
  constexpr std::size_t kUuidLength = 36;
  if (id.size() != kUuidLength) return "uuid string is wrong length";
  for (std::size_t i = 0; i < id.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position != (id[i] == '-')) {
      if (dash_position) return "uuid is improperly formatted";
      return "encoding/hex: invalid byte: U+002D '-'";
    }
    if (!dash_position && std::isxdigit(static_cast<unsigned char>(id[i])) == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04X", static_cast<unsigned char>(id[i]));
      return std::string("encoding/hex: invalid byte: U+") + buf + " '" + id[i] + "'";
    }
  }
  return std::nullopt;
}

// Consul's ipaddr.IsAny: an unspecified address cannot be reached, so it is refused.
bool is_any_address(std::string_view a) {
  return a == "0.0.0.0" || a == "::" || a == "[::]";
}

}  // namespace

void catalog_register(Context& ctx, proto::CatalogRegister req, Done<bool> done) {
  // Consul's Catalog.Register checks, in its order.
  if (req.node().empty()) return done(server_error("Must provide node"));
  if (!req.id().empty()) {
    if (auto err = uuid_error(req.id())) return done(server_error("Bad node ID: " + *err));
  }
  if (req.address().empty() && !req.skip_node_update()) {
    return done(server_error("Must provide address if SkipNodeUpdate is not set"));
  }
  if (req.datacenter().empty()) req.set_datacenter(ctx.identity.datacenter);
  if (req.has_service()) {
    proto::Service* s = req.mutable_service();
    if (s->id().empty() && !s->service().empty()) s->set_id(s->service());
    if (!s->id().empty() && s->service().empty()) {
      return done(server_error("Must provide service name with ID"));
    }
    if (is_any_address(s->address())) return done(server_error("Invalid service address"));
  }
  proto::Command cmd;
  *cmd.mutable_catalog_register() = std::move(req);
  submit(ctx, std::move(cmd), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) return done(server_error(r.error().message));
    done(true);
  });
}

void catalog_deregister(Context& ctx, const proto::CatalogDeregister& req, Done<bool> done) {
  if (req.node().empty()) return done(server_error("Must provide node"));
  proto::Command cmd;
  *cmd.mutable_catalog_deregister() = req;
  submit(ctx, std::move(cmd), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) return done(server_error(r.error().message));
    done(true);
  });
}

bool has_all_tags(const state::Service& s, const std::vector<std::string>& tags) {
  return std::all_of(tags.begin(), tags.end(), [&](const std::string& tag) {
    return std::any_of(s.tags.begin(), s.tags.end(),
                       [&](const std::string& t) { return core::iequals(t, tag); });
  });
}

bool node_meta_matches(const state::Node& node, const NodeMetaFilter& filter) {
  for (const auto& [k, v] : filter) {
    auto it = node.meta.find(k);
    if (it == node.meta.end() || it->second != v) return false;
  }
  return true;
}

core::Result<filter::Expression> compile_service_node_filter(std::string_view text) {
  return service_filter::compile(text, service_filter::kServiceNodeLayout);
}

CatalogServices catalog_services(const Context& ctx, state::WatchSet& ws,
                                 const NodeMetaFilter& node_meta, const filter::Expression* expr) {
  const bool reads_nodes = !node_meta.empty() || expr != nullptr;
  ctx.store.watch_table(ws, state::Table::kServices);
  if (reads_nodes) ctx.store.watch_table(ws, state::Table::kNodes);
  state::Snapshot snap = ctx.store.snapshot();
  CatalogServices out;
  if (!reads_nodes) {
    // Consul's Services: the services table's index.
    out.index = snap.table_index(state::Table::kServices);
    out.services = snap.service_names();
    return out;
  }
  // Consul's ServicesByNodeMeta (and ListServices' filter over each ServiceNode): the union
  // over matching instances. A filter may select node fields, so the nodes table's index
  // counts too, as it does for ?node-meta.
  out.index = snap.max_index({state::Table::kNodes, state::Table::kServices});
  for (const auto& n : snap.node_list()) {
    if (!node_meta_matches(n, node_meta)) continue;
    for (auto& s : snap.node_services(n.node)) {
      if (expr != nullptr && !service_filter::matches(*expr, {.node = &n, .service = &s})) {
        continue;
      }
      auto& tags = out.services[s.service];
      tags.insert(tags.end(), s.tags.begin(), s.tags.end());
    }
  }
  for (auto& [name, tags] : out.services) {
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  }
  return out;
}

CatalogServiceNodes catalog_service_nodes(const Context& ctx, state::WatchSet& ws,
                                          std::string_view name,
                                          const std::vector<std::string>& tags,
                                          const NodeMetaFilter& node_meta,
                                          const filter::Expression* expr) {
  ctx.store.watch_service(ws, name);
  return catalog_service_nodes(ctx.store.snapshot(), name, tags, node_meta, expr);
}

std::uint64_t catalog_service_index(const state::Snapshot& snap, std::string_view name) {
  // Consul's per-service index: it moves only when this service's instances (or their nodes
  // or checks) change, so a blocking query is not answered early by writes to other services,
  // and it never goes backwards. A name never registered falls back to the tables' index.
  std::uint64_t index = snap.service_index(name);
  if (index != 0) return index;
  return snap.max_index({state::Table::kNodes, state::Table::kServices});
}

CatalogServiceNodes catalog_service_nodes(const state::Snapshot& snap, std::string_view name,
                                          const std::vector<std::string>& tags,
                                          const NodeMetaFilter& node_meta,
                                          const filter::Expression* expr) {
  CatalogServiceNodes out;
  out.index = catalog_service_index(snap, name);
  std::vector<state::Service> instances = snap.service_instances(name);
  out.nodes.reserve(instances.size());
  for (auto& s : instances) {
    if (!has_all_tags(s, tags)) continue;
    auto node = snap.node_get(s.node);
    if (!node || !node_meta_matches(*node, node_meta)) continue;
    ServiceNode sn{std::move(*node), std::move(s)};
    if (expr != nullptr && !service_filter::matches(*expr, {&sn.node, &sn.service})) continue;
    out.nodes.push_back(std::move(sn));
  }
  return out;
}

CatalogNodes catalog_nodes(const Context& ctx, state::WatchSet& ws, const NodeMetaFilter& node_meta,
                           const filter::Expression* expr) {
  ctx.store.watch_table(ws, state::Table::kNodes);
  state::Snapshot snap = ctx.store.snapshot();
  CatalogNodes out;
  out.index = snap.table_index(state::Table::kNodes);
  for (auto& n : snap.node_list()) {
    if (!node_meta_matches(n, node_meta)) continue;
    if (expr != nullptr && !node_matches(*expr, n)) continue;
    out.nodes.push_back(std::move(n));
  }
  return out;
}

CatalogNodeServices catalog_node_services(const Context& ctx, state::WatchSet& ws,
                                          std::string_view node, const filter::Expression* expr) {
  ctx.store.watch_table(ws, state::Table::kNodes);
  ctx.store.watch_table(ws, state::Table::kServices);
  state::Snapshot snap = ctx.store.snapshot();
  CatalogNodeServices out;
  out.index = snap.max_index({state::Table::kNodes, state::Table::kServices});
  out.node = snap.node_get(node);
  if (!out.node) return out;
  for (auto& s : snap.node_services(node)) {
    if (expr != nullptr && !node_service_matches(*expr, s)) continue;
    out.services.push_back(std::move(s));
  }
  return out;
}

}  // namespace pc::endpoints
