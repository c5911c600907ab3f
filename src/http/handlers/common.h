#pragma once
// Pieces shared by the handlers: blocking-read setup, and rendering of Consul's rows.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "endpoints/catalog.h"
#include "endpoints/health.h"
#include "filter/filter.h"
#include "http/handler.h"
#include "http/json/writer.h"
#include "state/types.h"

namespace boost::json {
class object;
}  // namespace boost::json

namespace pc::http::handlers {

// Parses ?index, ?wait, ?stale, ?consistent; replies 400 on bad options, otherwise replies
// with a BlockingRead running `run`. Sets X-Consul-Effective-Consistency like Consul.
void reply_blocking(const Request& req, Reply& reply,
                    std::function<ReadOutcome(state::WatchSet&)> run);

// The identity of a read for a shared rendering (endpoints/response_cache.h): its path and
// every query parameter except those that only say how long to wait or how consistent to be
// (index, wait, stale, consistent, cached, max_stale) and dc, which names the local one here.
// When ACLs filter results, the token's identity will have to join the key.
std::string rendering_key(const Request& req);

// A read's JSON body at `index`: the shared rendering when the context has one for `key` at
// that index, otherwise `render()`, kept for the next reader when it is large enough to be
// worth it. `index` must determine what render() produces.
ReadOutcome shared_rendering(endpoints::Context& ctx, const std::string& key, std::uint64_t index,
                             const std::function<std::string()>& render);

// `true` / `false` as Consul's write endpoints answer.
Response bool_response(bool value);

// The part of the path after `prefix` ("/v1/kv/a/b" with "/v1/kv/" -> "a/b").
std::string_view path_suffix(const Request& req, std::string_view prefix);

void write_dir_entry(JsonWriter& w, const state::DirEntry& e, bool with_value);
void write_session(JsonWriter& w, const state::Session& s);

// Consul's parseMetaFilter: every ?node-meta=key:value, split at the first ':'.
endpoints::NodeMetaFilter node_meta_filter(const Request& req);

// The request's ?filter= compiled by `compile` (one of endpoints' compile_*_filter): nullopt
// when absent or empty, an InvalidArgument with go-bexpr's text when it does not compile
// (answer it with bad_request, as Consul answers 400).
using FilterCompiler = core::Result<filter::Expression> (*)(std::string_view);
core::Result<std::optional<filter::Expression>> query_filter(const Request& req,
                                                             FilterCompiler compile);
// The expression to hand the endpoints layer: nullptr when there is none.
inline const filter::Expression* filter_or_null(const std::optional<filter::Expression>& expr) {
  return expr ? &*expr : nullptr;
}

// Catalog and health rows, as Consul's structs marshal them.
void write_map_or_null(JsonWriter& w, const std::map<std::string, std::string>& m);
void write_tags(JsonWriter& w, const std::vector<std::string>& tags);
void write_weights(JsonWriter& w, const state::Weights& weights);
// A service's TaggedAddresses (Consul's map[string]ServiceAddress):
// {"lan": {"Address": "10.0.0.1", "Port": 8080}, ...}, {} when empty. Consul marks the field
// omitempty wherever a service is rendered (NodeService.TaggedAddresses,
// ServiceNode.ServiceTaggedAddresses, api.AgentService.TaggedAddresses), so callers write
// the key only for a non-empty map; see write_service_tagged_addresses_field.
void write_service_tagged_addresses(JsonWriter& w,
                                    const std::map<std::string, state::ServiceAddress>& m);
// Reads a service's TaggedAddresses from its JSON object `service` into `out`, as Go decodes
// map[string]ServiceAddress: each value an object {"Address": "...", "Port": N} whose keys
// match as Go matches struct fields (the documented lowercase "address"/"port" work), a null
// value the zero ServiceAddress, an absent or null map nothing. A value of another type is a
// 400-class InvalidArgument ("Request decode failed: json: cannot unmarshal string into Go
// struct field TaggedAddresses of type structs.ServiceAddress").
core::Status read_service_tagged_addresses(const boost::json::object& service,
                                           std::map<std::string, state::ServiceAddress>& out);
// A service's Weights object as given ({"Passing", "Warning"}, absent parts 0), or nullopt
// when the field is absent or null. Validation is the caller's: the catalog stores what it
// gets, the agent applies Consul's ValidateWeights.
core::Result<std::optional<state::Weights>> read_service_weights(
    const boost::json::object& service);
// `name` and the map, or nothing when the map is empty (Go's omitempty).
void write_service_tagged_addresses_field(JsonWriter& w, std::string_view name,
                                          const std::map<std::string, state::ServiceAddress>& m);
// A node's identity fields inside an object being written; Consul names the meta map "Meta"
// on a node and "NodeMeta" where the node is flattened into a service entry.
void write_node_fields(JsonWriter& w, const state::Node& n, std::string_view meta_key);
void write_node(JsonWriter& w, const state::Node& n);             // structs.Node
void write_node_service(JsonWriter& w, const state::Service& s);  // structs.NodeService
void write_health_check(JsonWriter& w, const state::HealthCheck& c);
// One health entry (structs.CheckServiceNode): {"Node", "Service", "Checks"}.
void write_check_service_node(JsonWriter& w, const endpoints::CheckServiceNode& csn);

// The node a ?near= read sorts from (handlers/coordinate.cc): nullopt without ?near or with
// an empty one; "_agent" is the node of the agent serving the request (a client agent
// rewrites it to its own node before forwarding, so a server sees a node name).
std::optional<std::string> near_origin(const endpoints::Context& ctx, const Request& req);

}  // namespace pc::http::handlers
