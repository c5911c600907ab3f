#pragma once
// The ACL objects as Consul's API and state store hold them (agent/structs/acl.go), as plain
// data: state/ stores them, endpoints/ and http/ render them. Field comments give Consul's
// JSON names. Rules text is parsed and compiled by acl/rules.h and acl/authorizer.h; these
// structs never hold compiled forms, so they copy and compare cheaply and carry no I/O types.
//
// Times are Unix nanoseconds (UTC) so that this header needs no clock; a value of nullopt is
// Consul's zero time (absent from the JSON).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pc::acl {

// A reference from a token or role to a policy (ACLTokenPolicyLink / ACLRolePolicyLink).
struct PolicyLink {
  std::string id;    // ID
  std::string name;  // Name
};

// A reference from a token to a role (ACLTokenRoleLink).
struct RoleLink {
  std::string id;    // ID
  std::string name;  // Name
};

// Grants what a service and its sidecar need (ACLServiceIdentity); the policy is synthesized
// from the name (acl/builtin.h), never stored.
struct ServiceIdentity {
  std::string service_name;              // ServiceName
  std::vector<std::string> datacenters;  // Datacenters: empty means every datacenter
};

// Grants what an agent needs for its own node (ACLNodeIdentity), in one datacenter.
struct NodeIdentity {
  std::string node_name;   // NodeName
  std::string datacenter;  // Datacenter
};

// ACLPolicy. `rules` is the source text; its parse is cached by whoever compiles it, keyed by
// id and modify_index, so a policy is parsed once per change, not once per request.
struct Policy {
  std::string id;                        // ID
  std::string name;                      // Name
  std::string description;               // Description
  std::string rules;                     // Rules (HCL or JSON)
  std::vector<std::string> datacenters;  // Datacenters: empty means every datacenter
  std::string hash;                      // Hash (base64 of a digest of the fields above)
  std::uint64_t create_index = 0;        // CreateIndex
  std::uint64_t modify_index = 0;        // ModifyIndex
};

// ACLRole: a named bundle of policies and identities that tokens link to.
struct Role {
  std::string id;                                   // ID
  std::string name;                                 // Name
  std::string description;                          // Description
  std::vector<PolicyLink> policies;                 // Policies
  std::vector<ServiceIdentity> service_identities;  // ServiceIdentities
  std::vector<NodeIdentity> node_identities;        // NodeIdentities
  std::string hash;                                 // Hash
  std::uint64_t create_index = 0;                   // CreateIndex
  std::uint64_t modify_index = 0;                   // ModifyIndex
};

// ACLToken. The secret is the bearer credential (X-Consul-Token); the accessor names the token
// in APIs and logs. The state store indexes tokens by both, so resolving a secret costs one
// index lookup whatever the number of tokens.
struct Token {
  std::string accessor_id;                              // AccessorID
  std::string secret_id;                                // SecretID
  std::string description;                              // Description
  std::vector<PolicyLink> policies;                     // Policies
  std::vector<RoleLink> roles;                          // Roles
  std::vector<ServiceIdentity> service_identities;      // ServiceIdentities
  std::vector<NodeIdentity> node_identities;            // NodeIdentities
  bool local = false;                                   // Local: not replicated to other DCs
  std::string auth_method;                              // AuthMethod (login tokens only)
  std::optional<std::int64_t> expiration_time_unix_ns;  // ExpirationTime
  std::chrono::nanoseconds expiration_ttl{0};           // ExpirationTTL (input only)
  std::int64_t create_time_unix_ns = 0;                 // CreateTime
  std::string hash;                                     // Hash
  std::uint64_t create_index = 0;                       // CreateIndex
  std::uint64_t modify_index = 0;                       // ModifyIndex

  // Consul treats a token as gone once its expiration time has passed (ACLToken.IsExpired),
  // before the reaper deletes it.
  bool is_expired(std::int64_t now_unix_ns) const {
    return expiration_time_unix_ns.has_value() && *expiration_time_unix_ns < now_unix_ns;
  }
};

}  // namespace pc::acl
