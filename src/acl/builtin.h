#pragma once
// What Consul builds in: the global-management policy, the anonymous token, and the policies
// synthesized for service and node identities (agent/structs/acl.go, acl_ce.go). IDs and
// rules are Consul's, so clients and tools that look for them by ID find them.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acl/authorizer.h"
#include "acl/rules.h"
#include "acl/types.h"

namespace pc::acl {

// IDs with the first 120 bits zero are reserved for built-in objects (Consul's ACLIDReserved).
inline constexpr std::string_view kReservedIdPrefix = "00000000-0000-0000-0000-0000000000";
inline bool is_reserved_id(std::string_view id) {
  return id.substr(0, kReservedIdPrefix.size()) == kReservedIdPrefix;
}

inline constexpr std::string_view kGlobalManagementPolicyId =
    "00000000-0000-0000-0000-000000000001";
inline constexpr std::string_view kGlobalManagementPolicyName = "global-management";
inline constexpr std::string_view kGlobalManagementPolicyDescription =
    "Builtin Policy that grants unlimited access";
// Users may rename the policy but not change these rules.
inline constexpr std::string_view kGlobalManagementPolicyRules = R"(
acl = "write"
agent_prefix "" {
	policy = "write"
}
event_prefix "" {
	policy = "write"
}
key_prefix "" {
	policy = "write"
}
keyring = "write"
node_prefix "" {
	policy = "write"
}
operator = "write"
mesh = "write"
peering = "write"
query_prefix "" {
	policy = "write"
}
service_prefix "" {
	policy = "write"
	intentions = "write"
}
session_prefix "" {
	policy = "write"
})";

// The token used for requests without one. Its policies are the operator's to choose; it
// starts with none, so under default_policy "deny" anonymous requests see nothing.
inline constexpr std::string_view kAnonymousTokenAccessorId =
    "00000000-0000-0000-0000-000000000002";
inline constexpr std::string_view kAnonymousTokenSecretId = "anonymous";
inline constexpr std::string_view kAnonymousTokenDescription = "Anonymous Token";

Policy global_management_policy();
Token anonymous_token();

// Consul's rule for identity names: lowercase letters, digits, '-' and '_', starting and
// ending with a letter or digit, at most 256 bytes (isValidServiceIdentityName).
bool is_valid_identity_name(std::string_view name);

// service "<name>" and "<name>-sidecar-proxy" write, service_prefix "" and node_prefix ""
// read; nullopt when the identity is scoped to other datacenters.
std::optional<PolicyRules> service_identity_rules(const ServiceIdentity& identity,
                                                  std::string_view datacenter);
// node "<name>" write and service_prefix "" read; nullopt unless the identity's datacenter
// is `datacenter`.
std::optional<PolicyRules> node_identity_rules(const NodeIdentity& identity,
                                               std::string_view datacenter);

// A policy scoped to datacenters applies only in those (Policy.Datacenters; empty = all).
bool policy_applies_in(const Policy& policy, std::string_view datacenter);

// The IDs of the policies a token grants, from its own links and then its roles' links, each
// once, in that order. `roles` are the token's roles as the caller found them (a role link
// whose role is gone is simply absent).
std::vector<std::string> granted_policy_ids(const Token& token, std::span<const Role* const> roles);

// The token's own identities followed by its roles'.
struct GrantedIdentities {
  std::vector<ServiceIdentity> services;
  std::vector<NodeIdentity> nodes;
};
GrantedIdentities granted_identities(const Token& token, std::span<const Role* const> roles);

// Everything a token grants, already looked up by the caller: the parsed rules of its
// policies and of its roles' policies (each policy once, those scoped to other datacenters
// left out), and its own and its roles' identities.
struct TokenGrants {
  std::span<const PolicyRules* const> policies;
  std::span<const ServiceIdentity> service_identities;
  std::span<const NodeIdentity> node_identities;
};

// The token's merged rules, then the default policy (see acl/authorizer.h).
AuthorizerPtr token_authorizer(const TokenGrants& grants, std::string_view datacenter,
                               DefaultPolicy default_policy);

}  // namespace pc::acl
