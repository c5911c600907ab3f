#pragma once
// ?filter= over nodes (Consul's structs.Node: /v1/catalog/nodes) and over one node's services
// (structs.NodeService: /v1/catalog/node/:node, /v1/catalog/node-services/:node and the
// agent's service list). Compile once per request; errors are InvalidArgument with go-bexpr's
// text, which the HTTP edge answers with 400.
//
// Node selectors: ID, Node, Address, Datacenter, TaggedAddresses[.<key>], Meta[.<key>].
// NodeService selectors: Kind, ID, Service, Tags, Address, TaggedAddresses (keys),
// TaggedAddresses.<key>.Address, TaggedAddresses.<key>.Port, Meta[.<key>], Port,
// Weights.Passing, Weights.Warning, EnableTagOverride. (Consul's Proxy.* and Connect.* are
// not stored yet, so not selectable.)
//
// Thread-safety: stateless; a compiled Expression may be shared across threads.
#include <string_view>

#include "core/result.h"
#include "filter/filter.h"
#include "state/types.h"

namespace pc::endpoints {

core::Result<filter::Expression> compile_node_filter(std::string_view text);
bool node_matches(const filter::Expression& expr, const state::Node& node);

core::Result<filter::Expression> compile_node_service_filter(std::string_view text);
bool node_service_matches(const filter::Expression& expr, const state::Service& service);

}  // namespace pc::endpoints
