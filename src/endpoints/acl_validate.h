#pragma once
// Shared pieces of the ACL endpoints (acl.cc, acl_policies.cc): the enabled and permission
// checks, link resolution by ID or name, identity validation, Hash, IDs.
#include <string>
#include <string_view>
#include <vector>

#include "acl/types.h"
#include "endpoints/acl_resolver.h"
#include "endpoints/context.h"

namespace pc::endpoints::acl_detail {

// An InvalidArgument with Consul's text (answered 500 like Consul's RPC errors, 400 where the
// edge decides so).
core::Error invalid(std::string text);

// ACLs enabled and `who` may read (write) ACLs; otherwise the error to answer.
core::Status check_enabled(const Context& ctx);
core::Status check_acl(const Context& ctx, const ResolvedToken& who, bool write);

// Fills each link's ID from its name (or checks the ID exists), drops repeats; Consul's
// texts: "No such ACL policy with name x", "No such ACL policy with ID x" (likewise role).
core::Status resolve_policy_links(const state::Snapshot& snap, std::vector<acl::PolicyLink>& links);
core::Status resolve_role_links(const state::Snapshot& snap, std::vector<acl::RoleLink>& links);
// Service and node identities, with Consul's texts; `owner` is "token" or "role".
core::Status validate_identities(const std::vector<acl::ServiceIdentity>& services,
                                 const std::vector<acl::NodeIdentity>& nodes,
                                 std::string_view owner);

// Policy and role names: [A-Za-z0-9-_], 1 to `max` bytes (Consul's validPolicyName and
// validRoleName).
bool valid_object_name(std::string_view name, std::size_t max);

// Base64 of a SHA-256 digest of every field a client sets (Consul's Hash, which uses
// BLAKE2b-256: the value is opaque to clients, who only compare it).
std::string hash_of(const acl::Token& t);
std::string hash_of(const acl::Policy& p);
std::string hash_of(const acl::Role& r);

std::string new_uuid(Context& ctx);

}  // namespace pc::endpoints::acl_detail
