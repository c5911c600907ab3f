#pragma once
// Pieces shared by the handlers: blocking-read setup, and rendering of Consul's rows.
#include <functional>
#include <string>
#include <string_view>

#include "endpoints/catalog.h"
#include "http/handler.h"
#include "http/json/writer.h"
#include "state/types.h"

namespace pc::http::handlers {

// Parses ?index, ?wait, ?stale, ?consistent; replies 400 on bad options, otherwise replies
// with a BlockingRead running `run`. Sets X-Consul-Effective-Consistency like Consul.
void reply_blocking(const Request& req, Reply& reply,
                    std::function<ReadOutcome(state::WatchSet&)> run);

// `true` / `false` as Consul's write endpoints answer.
Response bool_response(bool value);

// The part of the path after `prefix` ("/v1/kv/a/b" with "/v1/kv/" -> "a/b").
std::string_view path_suffix(const Request& req, std::string_view prefix);

void write_dir_entry(JsonWriter& w, const state::DirEntry& e, bool with_value);
void write_session(JsonWriter& w, const state::Session& s);

// Consul's parseMetaFilter: every ?node-meta=key:value, split at the first ':'.
endpoints::NodeMetaFilter node_meta_filter(const Request& req);

// Catalog and health rows, as Consul's structs marshal them.
void write_map_or_null(JsonWriter& w, const std::map<std::string, std::string>& m);
void write_tags(JsonWriter& w, const std::vector<std::string>& tags);
void write_weights(JsonWriter& w, const state::Weights& weights);
// A node's identity fields inside an object being written; Consul names the meta map "Meta"
// on a node and "NodeMeta" where the node is flattened into a service entry.
void write_node_fields(JsonWriter& w, const state::Node& n, std::string_view meta_key);
void write_node(JsonWriter& w, const state::Node& n);             // structs.Node
void write_node_service(JsonWriter& w, const state::Service& s);  // structs.NodeService
void write_health_check(JsonWriter& w, const state::HealthCheck& c);

}  // namespace pc::http::handlers
