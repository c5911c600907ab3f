#pragma once
// What ACLs do to the other API areas (Consul's aclFilter and the per-endpoint checks in
// agent/consul/*_endpoint.go): checks that answer PermissionDenied with Consul's text, and
// filters that leave out what a token may not read and say whether they did (Consul's
// QueryMeta.ResultsFilteredByACLs, the X-Consul-Results-Filtered-By-ACLs header).
#include <string>
#include <string_view>
#include <vector>

#include "endpoints/acl_resolver.h"
#include "endpoints/catalog.h"
#include "endpoints/health.h"
#include "state/types.h"

namespace pc::proto {
class KvOp;
}

namespace pc::endpoints {

// key:read on `key` (GET /v1/kv/<key>).
core::Status check_key_read(const ResolvedToken& who, std::string_view key);
// What one KV write needs (Consul's kvsPreApply): key:write on the key, or write on every key
// under the prefix for a recursive delete. Reads inside a txn need key:read.
core::Status check_kv_op(const ResolvedToken& who, const proto::KvOp& op);

// Leave out entries (keys) the token may not read; true when any was left out.
bool filter_kv_entries(const ResolvedToken& who, std::vector<state::DirEntry>& entries);
bool filter_kv_keys(const ResolvedToken& who, std::vector<std::string>& keys);

// Catalog and health (Consul's aclFilter): a node needs node:read, a service service:read, a
// check both (node:read on its node, service:read on its service if it has one); a
// service-node row needs both. Each returns true when it left anything out.
bool filter_service_names(const ResolvedToken& who,
                          std::map<std::string, std::vector<std::string>>& services);
bool filter_nodes(const ResolvedToken& who, std::vector<state::Node>& nodes);
bool filter_service_nodes(const ResolvedToken& who, std::vector<ServiceNode>& nodes);
bool filter_check_service_nodes(const ResolvedToken& who, std::vector<CheckServiceNode>& nodes);
bool filter_health_checks(const ResolvedToken& who, std::vector<state::HealthCheck>& checks);

}  // namespace pc::endpoints
