#pragma once
// Catalog endpoint logic (Consul's Catalog RPC endpoint and state/catalog.go reads):
// validation of register/deregister with Consul's texts, which index each read reports, what
// each read watches, and the ?tag / ?node-meta / ?filter selection of service instances.
// Rendering lives in http/.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endpoints/context.h"
#include "filter/filter.h"

namespace pc::proto {
class CatalogRegister;
class CatalogDeregister;
}  // namespace pc::proto

namespace pc::endpoints {

// Writes. Validation errors carry Consul's texts ("Must provide node", "Must provide address
// if SkipNodeUpdate is not set", "Bad node ID: ...", "Must provide service name with ID",
// "Invalid service address"); Consul returns them from its RPC, so the edge answers 500.
void catalog_register(Context& ctx, proto::CatalogRegister req, Done<bool> done);
void catalog_deregister(Context& ctx, const proto::CatalogDeregister& req, Done<bool> done);

// ?node-meta=key:value pairs; a node matches when it has every pair.
using NodeMetaFilter = std::vector<std::pair<std::string, std::string>>;
bool node_meta_matches(const state::Node& node, const NodeMetaFilter& filter);

// True if the instance carries every tag in `tags`, case ignored (Consul's ?tag).
bool has_all_tags(const state::Service& s, const std::vector<std::string>& tags);

// Consul's structs.ServiceNode: one instance joined with its node.
struct ServiceNode {
  state::Node node;
  state::Service service;
};

// Compiles a ?filter= against the ServiceNode fields (Consul's bexpr schema for it; the
// Raft indexes are not selectable, as in Consul).
core::Result<filter::Expression> compile_service_node_filter(std::string_view text);

struct CatalogServices {
  std::uint64_t index = 0;
  std::map<std::string, std::vector<std::string>> services;  // name -> tags
};
// Every service name with its instances' tags, counting only instances on nodes matching
// `node_meta` and, when given, matching `expr` (a ServiceNode filter, as Consul's
// ListServices runs it on each instance before gathering the names).
CatalogServices catalog_services(const Context& ctx, state::WatchSet& ws,
                                 const NodeMetaFilter& node_meta,
                                 const filter::Expression* expr = nullptr);

struct CatalogServiceNodes {
  std::uint64_t index = 0;
  std::vector<ServiceNode> nodes;
};
// Instances of `name` carrying every tag in `tags` (case ignored, as Consul), on nodes
// matching `node_meta`, and matching `expr` when given. Watches only that service, so a
// change to another service does not wake a blocking query here.
CatalogServiceNodes catalog_service_nodes(const Context& ctx, state::WatchSet& ws,
                                          std::string_view name,
                                          const std::vector<std::string>& tags,
                                          const NodeMetaFilter& node_meta,
                                          const filter::Expression* expr);
// The same read on a snapshot the caller took after store.watch_service(ws, name), and the
// index it reports, for a caller that looks the index up first.
CatalogServiceNodes catalog_service_nodes(const state::Snapshot& snap, std::string_view name,
                                          const std::vector<std::string>& tags,
                                          const NodeMetaFilter& node_meta,
                                          const filter::Expression* expr);
std::uint64_t catalog_service_index(const state::Snapshot& snap, std::string_view name);

struct CatalogNodes {
  std::uint64_t index = 0;
  std::vector<state::Node> nodes;
};
// Nodes matching `node_meta` and, when given, `expr` (endpoints/node_filter.h).
CatalogNodes catalog_nodes(const Context& ctx, state::WatchSet& ws, const NodeMetaFilter& node_meta,
                           const filter::Expression* expr = nullptr);

struct CatalogNodeServices {
  std::uint64_t index = 0;
  std::optional<state::Node> node;       // nullopt: Consul answers null
  std::vector<state::Service> services;  // ordered by ID
};
// One node and its services, those matching `expr` when given (a NodeService filter,
// endpoints/node_filter.h); the filter never hides the node. Serves both
// /v1/catalog/node/:node (a map by ID) and /v1/catalog/node-services/:node (a list).
CatalogNodeServices catalog_node_services(const Context& ctx, state::WatchSet& ws,
                                          std::string_view node,
                                          const filter::Expression* expr = nullptr);

}  // namespace pc::endpoints
