#pragma once
// Consul's ACL rules language (acl/policy.go): a policy's Rules text, in HCL or in JSON, parsed
// and validated into PolicyRules. Parsing is pure; compile the result with acl/authorizer.h.
//
//   key_prefix "" { policy = "read" }          # a prefix rule: every key starting with ""
//   key "secret/root" { policy = "deny" }      # an exact rule: that key only
//   service_prefix "web" { policy = "write" intentions = "read" }
//   operator = "read"                          # single-valued resources
//
// What is an error (each names the line and column, "At 3:14: ..."): a syntax error, an
// unknown resource or field, a value of the wrong type, an access level that is not one of
// read/write/deny (plus list for key and key_prefix), `intentions` outside service rules, a
// rule without `policy`, and a field or single-valued resource set twice in one place (Consul
// decodes with hcl.DecodeErrorOnDuplicates). Access levels are case-insensitive, as in Consul.
//
// Differences from Consul, on purpose: Consul's HCL decoder ignores unknown top-level keys
// and fields (a misspelt `polcy` silently grants nothing); we refuse them, naming the place.
// Enterprise-only resources (namespace, partition) are unknown here.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::acl {

// Ordered by precedence when policies merge (Consul's takesPrecedenceOver): deny beats
// everything, then the most permissive. kUnset is "no rule", which any rule beats. In-memory
// only; never stored or sent.
enum class AccessLevel : std::uint8_t { kUnset = 0, kRead = 1, kList = 2, kWrite = 3, kDeny = 4 };

std::string_view access_level_name(AccessLevel level);  // "read", ...; "" for kUnset

// True when `a` replaces `b` for the same name when policies merge.
inline bool takes_precedence_over(AccessLevel a, AccessLevel b) {
  return static_cast<std::uint8_t>(a) > static_cast<std::uint8_t>(b);
}

// Resources whose rules name something (exact `key "x"` or prefix `key_prefix "x"`). The
// intention resource has no rules of its own: it derives from service rules.
enum class Resource : std::uint8_t {
  kAgent = 0,    // agent / agent_prefix: a node's agent endpoints
  kEvent = 1,    // event / event_prefix: user events by name
  kKey = 2,      // key / key_prefix: KV keys
  kNode = 3,     // node / node_prefix: catalog nodes
  kQuery = 4,    // query / query_prefix: prepared queries by name
  kService = 5,  // service / service_prefix: catalog services
  kSession = 6,  // session / session_prefix: sessions by node name
  kIntention = 7,
};
inline constexpr std::size_t kRuleResourceCount = 7;  // the ones rules name directly
inline constexpr std::size_t kResourceCount = 8;

std::string_view resource_name(Resource resource);  // "key", ...

// Resources with a single access level for the whole cluster: `operator = "read"`.
enum class GlobalResource : std::uint8_t {
  kAcl = 0,
  kKeyring = 1,
  kMesh = 2,
  kOperator = 3,
  kPeering = 4,
};
inline constexpr std::size_t kGlobalResourceCount = 5;

std::string_view global_resource_name(GlobalResource resource);  // "acl", ...

// One `key_prefix "foo/" { policy = "read" }`.
struct NamedRule {
  std::string name;
  bool prefix = false;
  AccessLevel access = AccessLevel::kUnset;
  // Service rules only: access to intentions whose destination this rule matches. kUnset
  // means "derive from `access`" (read or write give read, deny gives deny).
  AccessLevel intentions = AccessLevel::kUnset;

  bool operator==(const NamedRule&) const = default;
};

// A parsed policy: rules in source order per resource, duplicates kept (the merge in
// acl/authorizer.h resolves them as Consul does).
struct PolicyRules {
  std::array<std::vector<NamedRule>, kRuleResourceCount> named;
  std::array<AccessLevel, kGlobalResourceCount> global{};

  std::vector<NamedRule>& rules(Resource r) { return named[static_cast<std::size_t>(r)]; }
  const std::vector<NamedRule>& rules(Resource r) const {
    return named[static_cast<std::size_t>(r)];
  }
  AccessLevel& level(GlobalResource r) { return global[static_cast<std::size_t>(r)]; }
  AccessLevel level(GlobalResource r) const { return global[static_cast<std::size_t>(r)]; }
};

// Parses a policy's Rules (HCL, or JSON when the first non-blank byte is '{'). Errors are
// InvalidArgument, "Failed to parse ACL rules: At <line>:<column>: <what>".
core::Result<PolicyRules> parse_rules(std::string_view text);

}  // namespace pc::acl
