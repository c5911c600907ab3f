#pragma once
// The ACL objects under the names the policy layer uses. They are the rows of the replicated
// ACL tables (state/acl_types.h, plain data with no dependencies), so a token read from the
// store is resolved without copying it into another shape.
#include "state/acl_types.h"

namespace pc::acl {

using PolicyLink = state::AclLink;
using RoleLink = state::AclLink;
using ServiceIdentity = state::AclServiceIdentity;
using NodeIdentity = state::AclNodeIdentity;
using Policy = state::AclPolicy;
using Role = state::AclRole;
using Token = state::AclToken;

}  // namespace pc::acl
