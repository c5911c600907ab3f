#pragma once
// The ACL objects as the replicated tables hold them and Consul's API shows them
// (agent/structs/acl.go), as plain data. acl/types.h names them for the policy layer
// (pc::acl::Token, ...); endpoints/ and http/ render them. Field comments give Consul's JSON
// names. Rules text is parsed and compiled above state/ (acl/rules.h, acl/authorizer.h): these
// structs never hold compiled forms, so they copy and compare cheaply and carry no I/O types.
//
// Times are Unix nanoseconds (UTC) so that this header needs no clock; a value of nullopt is
// Consul's zero time (absent from the JSON).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pc::state {

// A reference from a token or role to a policy (ACLTokenPolicyLink / ACLRolePolicyLink), or
// from a token to a role (ACLTokenRoleLink). Stored by ID; the name is looked up on read,
// since the linked object may have been renamed since.
struct AclLink {
  std::string id;    // ID
  std::string name;  // Name
  bool operator==(const AclLink&) const = default;
};

// Grants what a service and its sidecar need (ACLServiceIdentity); the policy is synthesized
// from the name (acl/builtin.h), never stored.
struct AclServiceIdentity {
  std::string service_name;              // ServiceName
  std::vector<std::string> datacenters;  // Datacenters: empty means every datacenter
  bool operator==(const AclServiceIdentity&) const = default;
};

// Grants what an agent needs for its own node (ACLNodeIdentity), in one datacenter.
struct AclNodeIdentity {
  std::string node_name;   // NodeName
  std::string datacenter;  // Datacenter
  bool operator==(const AclNodeIdentity&) const = default;
};

// ACLPolicy. `rules` is the source text; its parse is cached by whoever compiles it, keyed by
// id and modify_index, so a policy is parsed once per change, not once per request.
struct AclPolicy {
  std::string id;                        // ID
  std::string name;                      // Name
  std::string description;               // Description
  std::string rules;                     // Rules (HCL or JSON)
  std::vector<std::string> datacenters;  // Datacenters: empty means every datacenter
  std::string hash;                      // Hash (base64 of a digest of the fields above)
  std::uint64_t create_index = 0;        // CreateIndex
  std::uint64_t modify_index = 0;        // ModifyIndex
  bool operator==(const AclPolicy&) const = default;
};

// ACLRole: a named bundle of policies and identities that tokens link to.
struct AclRole {
  std::string id;                                      // ID
  std::string name;                                    // Name
  std::string description;                             // Description
  std::vector<AclLink> policies;                       // Policies
  std::vector<AclServiceIdentity> service_identities;  // ServiceIdentities
  std::vector<AclNodeIdentity> node_identities;        // NodeIdentities
  std::string hash;                                    // Hash
  std::uint64_t create_index = 0;                      // CreateIndex
  std::uint64_t modify_index = 0;                      // ModifyIndex
  bool operator==(const AclRole&) const = default;
};

// ACLToken. The secret is the bearer credential (X-Consul-Token); the accessor names the token
// in APIs and logs. The state store indexes tokens by both, so resolving a secret costs one
// index lookup whatever the number of tokens.
struct AclToken {
  std::string accessor_id;                              // AccessorID
  std::string secret_id;                                // SecretID
  std::string description;                              // Description
  std::vector<AclLink> policies;                        // Policies
  std::vector<AclLink> roles;                           // Roles
  std::vector<AclServiceIdentity> service_identities;   // ServiceIdentities
  std::vector<AclNodeIdentity> node_identities;         // NodeIdentities
  bool local = false;                                   // Local: not replicated to other DCs
  std::string auth_method;                              // AuthMethod (login tokens only)
  std::optional<std::int64_t> expiration_time_unix_ns;  // ExpirationTime
  std::chrono::nanoseconds expiration_ttl{0};           // ExpirationTTL (input only)
  std::int64_t create_time_unix_ns = 0;                 // CreateTime
  std::string hash;                                     // Hash
  std::uint64_t create_index = 0;                       // CreateIndex
  std::uint64_t modify_index = 0;                       // ModifyIndex
  bool operator==(const AclToken&) const = default;

  // Consul treats a token as gone once its expiration time has passed (ACLToken.IsExpired),
  // before the reaper deletes it.
  bool is_expired(std::int64_t now_unix_ns) const {
    return expiration_time_unix_ns.has_value() && *expiration_time_unix_ns < now_unix_ns;
  }
};

}  // namespace pc::state
