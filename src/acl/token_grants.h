#pragma once
// What a token grants, as text rather than as a compiled authorizer: the token's identity,
// the rules of the policies it links to (its own and its roles', each once, those scoped to
// other datacenters left out) and its service and node identities. A server looks this up
// from its replicated tables; a client agent, which holds no ACL tables, gets it from a
// server over RPC and compiles the authorizer itself (endpoints/acl_remote.h), so both sides
// end in the same acl::token_authorizer call.
//
// A plain value: copy it freely.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "acl/types.h"

namespace pc::acl {

struct GrantedPolicy {
  std::string id;
  std::uint64_t modify_index = 0;  // with id, the key parsed rules are cached under
  std::string rules;               // the policy's Rules text as stored
  bool operator==(const GrantedPolicy&) const = default;
};

struct TokenGrantsText {
  std::string accessor_id;
  std::string description;
  std::vector<GrantedPolicy> policies;
  std::vector<ServiceIdentity> service_identities;
  std::vector<NodeIdentity> node_identities;
  std::optional<std::int64_t> expiration_time_unix_ns;  // none: the token never expires
  bool operator==(const TokenGrantsText&) const = default;
};

}  // namespace pc::acl
