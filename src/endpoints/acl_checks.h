#pragma once
// ACL checks and filters for the API areas beyond KV, txn and the catalog and health lists
// (acl_filter.h): catalog writes, sessions, coordinates, a node's services, gossip members and
// user events. The rules are Consul's "ACL Required" column of each endpoint: a check answers
// PermissionDenied with Consul's text (permission_denied), a filter leaves out what the token
// may not read and says whether it did, for X-Consul-Results-Filtered-By-ACLs.
//
// Stateless; safe from any thread. Checks that look state up take the snapshot to read.
#include <string_view>
#include <vector>

#include "acl/rules.h"
#include "endpoints/acl_resolver.h"
#include "endpoints/catalog.h"
#include "endpoints/context.h"
#include "endpoints/user_event.h"
#include "state/store.h"

namespace pc::proto {
class CatalogRegister;
class CatalogDeregister;
}  // namespace pc::proto

namespace pc::endpoints {

// One rule: `resource`:`level` on `name`, or Consul's denial naming it.
core::Status require_rule(const ResolvedToken& who, acl::Resource resource, std::string_view name,
                          acl::AccessLevel level);
// A rule without a name (keyring, operator): Consul's text has no " on ..." part.
core::Status require_global(const ResolvedToken& who, acl::GlobalResource resource,
                            acl::AccessLevel level);

// PUT /v1/catalog/register (Consul's vetRegisterWithACL): node:write on the node when the
// registration would create or change it, service:write on the service (and on the name of
// an instance with the same ID it replaces), and for each check node:write (a node check) or
// service:write on the service it belongs to.
core::Status check_catalog_register(const ResolvedToken& who, const state::Snapshot& snap,
                                    const proto::CatalogRegister& req);
// PUT /v1/catalog/deregister (Consul's vetDeregisterWithACL): node:write on the node allows
// everything on it; otherwise a service (or a service's check) needs service:write on the
// service's name. What cannot be found needs node:write.
core::Status check_catalog_deregister(const ResolvedToken& who, const state::Snapshot& snap,
                                      const proto::CatalogDeregister& req);

// session:write on the node of session `id` (destroy, renew). An unknown session passes: the
// endpoint answers it as it does without ACLs.
core::Status check_session_write(const ResolvedToken& who, const state::Snapshot& snap,
                                 std::string_view id);

// session:read on each session's node.
bool filter_sessions(const ResolvedToken& who, std::vector<state::Session>& sessions);
// node:read on each coordinate's node.
bool filter_coordinates(const ResolvedToken& who, std::vector<state::CoordinateRow>& rows);
// /v1/catalog/node/:node: without node:read the node is hidden (Consul answers null and no
// services); with it, services the token may not read are left out.
bool filter_node_services(const ResolvedToken& who, CatalogNodeServices& read);
// node:read on each gossip member's name.
bool filter_members(const ResolvedToken& who, std::vector<LanMember>& members);
// event:read on each user event's name.
bool filter_user_events(const ResolvedToken& who, std::vector<UserEvent>& events);

}  // namespace pc::endpoints
