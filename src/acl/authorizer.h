#pragma once
// Authorization decisions, as Consul's acl.Authorizer gives them (acl/authorizer.go). Every
// check answers Allow, Deny or Default ("no rule says"), so authorizers chain: the first that
// decides wins, and the chain ends in a static authorizer for the agent's default_policy
// (Consul's ChainedAuthorizer). A token's authorizer is
//
//   chain(compile_policies(token's policies + its roles' policies + synthesized identity
//         policies), static_authorizer(default_policy))
//
// Thread-safety: authorizers are immutable once built; share them across threads freely.
// Cost: a named check walks the name once through a trie (acl/detail/rule_trie.h), whatever
// the number of rules; only the "any"/"all" checks and key_write_prefix visit many rules.
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "acl/rules.h"

namespace pc::acl {

enum class Decision : std::uint8_t { kDefault = 0, kAllow = 1, kDeny = 2 };

std::string_view decision_name(Decision decision);  // "allow", "deny", "default"

// The agent's acl.default_policy.
enum class DefaultPolicy : std::uint8_t { kAllow, kDeny };

class Authorizer {
 public:
  virtual ~Authorizer() = default;

  // --- what each implementation answers ---
  // A rule-named resource: does the rule for `name` grant `required` (read, list or write)?
  virtual Decision check(Resource resource, std::string_view name, AccessLevel required) const = 0;
  virtual Decision check_global(GlobalResource resource, AccessLevel required) const = 0;
  // Allow only if every rule of `resource` grants `required` (Consul's allAllowed: the
  // ServiceReadAll / NodeReadAll / IntentionWrite("*") checks).
  virtual Decision check_all(Resource resource, AccessLevel required) const = 0;
  // Allow if any rule of `resource` grants `required` (ServiceWriteAny, IntentionRead("*")).
  virtual Decision check_any(Resource resource, AccessLevel required) const = 0;
  // May everything under `prefix` be deleted? Deny if any rule under it does not grant
  // write, even if the prefix itself is writable (Consul's KeyWritePrefix, for recursive
  // KV deletes).
  virtual Decision key_write_prefix(std::string_view prefix) const = 0;

  // --- Consul's named checks, in terms of the above ---
  Decision acl_read() const { return check_global(GlobalResource::kAcl, AccessLevel::kRead); }
  Decision acl_write() const { return check_global(GlobalResource::kAcl, AccessLevel::kWrite); }
  // Taking or restoring a snapshot needs acl = "write" (Consul's Snapshot).
  Decision snapshot() const { return acl_write(); }
  Decision agent_read(std::string_view node) const { return read(Resource::kAgent, node); }
  Decision agent_write(std::string_view node) const { return write(Resource::kAgent, node); }
  Decision event_read(std::string_view name) const { return read(Resource::kEvent, name); }
  Decision event_write(std::string_view name) const { return write(Resource::kEvent, name); }
  Decision intention_read(std::string_view service) const;
  Decision intention_write(std::string_view service) const;
  Decision key_read(std::string_view key) const { return read(Resource::kKey, key); }
  // Listing keys needs list or write: read alone does not imply list (Consul's KeyList).
  Decision key_list(std::string_view key) const {
    return check(Resource::kKey, key, AccessLevel::kList);
  }
  Decision key_write(std::string_view key) const { return write(Resource::kKey, key); }
  Decision keyring_read() const {
    return check_global(GlobalResource::kKeyring, AccessLevel::kRead);
  }
  Decision keyring_write() const {
    return check_global(GlobalResource::kKeyring, AccessLevel::kWrite);
  }
  // mesh and peering fall back to operator when a policy has no mesh/peering rule.
  Decision mesh_read() const { return check_global(GlobalResource::kMesh, AccessLevel::kRead); }
  Decision mesh_write() const { return check_global(GlobalResource::kMesh, AccessLevel::kWrite); }
  Decision peering_read() const {
    return check_global(GlobalResource::kPeering, AccessLevel::kRead);
  }
  Decision peering_write() const {
    return check_global(GlobalResource::kPeering, AccessLevel::kWrite);
  }
  Decision operator_read() const {
    return check_global(GlobalResource::kOperator, AccessLevel::kRead);
  }
  Decision operator_write() const {
    return check_global(GlobalResource::kOperator, AccessLevel::kWrite);
  }
  Decision node_read(std::string_view node) const { return read(Resource::kNode, node); }
  Decision node_read_all() const { return check_all(Resource::kNode, AccessLevel::kRead); }
  Decision node_write(std::string_view node) const { return write(Resource::kNode, node); }
  Decision query_read(std::string_view name) const { return read(Resource::kQuery, name); }
  Decision query_write(std::string_view name) const { return write(Resource::kQuery, name); }
  Decision service_read(std::string_view name) const { return read(Resource::kService, name); }
  Decision service_read_all() const { return check_all(Resource::kService, AccessLevel::kRead); }
  Decision service_write(std::string_view name) const { return write(Resource::kService, name); }
  Decision service_write_any() const { return check_any(Resource::kService, AccessLevel::kWrite); }
  Decision session_read(std::string_view node) const { return read(Resource::kSession, node); }
  Decision session_write(std::string_view node) const { return write(Resource::kSession, node); }

 private:
  Decision read(Resource r, std::string_view name) const {
    return check(r, name, AccessLevel::kRead);
  }
  Decision write(Resource r, std::string_view name) const {
    return check(r, name, AccessLevel::kWrite);
  }
};

using AuthorizerPtr = std::shared_ptr<const Authorizer>;

// Consul's static authorizers. allow_all (default_policy "allow") and deny_all decide every
// check except acl/snapshot, which only manage_all allows: a default-allow agent still needs
// a token with acl = "write" to manage ACLs.
AuthorizerPtr allow_all();
AuthorizerPtr deny_all();
AuthorizerPtr manage_all();
AuthorizerPtr default_authorizer(DefaultPolicy policy);

// Merges the policies (Consul's MergePolicies: for one name, deny wins, then the most
// permissive; a service rule's intentions merge separately from its policy) and compiles the
// result. Never fails: PolicyRules are validated when parsed.
AuthorizerPtr compile_policies(std::span<const PolicyRules* const> policies);

// The first authorizer that decides, in order; Default if none does.
AuthorizerPtr chain(std::vector<AuthorizerPtr> authorizers);

// True only for kAllow; use on the result of a chain that ends in a default authorizer.
inline bool allowed(Decision decision) {
  return decision == Decision::kAllow;
}

}  // namespace pc::acl
