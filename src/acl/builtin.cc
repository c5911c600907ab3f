#include "acl/builtin.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/assert.h"

namespace pc::acl {

namespace {

constexpr std::size_t kIdentityNameSizeMax = 256;  // Consul's *IdentityNameMaxLength

bool is_identity_edge(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

void add(PolicyRules& rules, Resource resource, std::string name, bool prefix, AccessLevel access) {
  rules.rules(resource).push_back(NamedRule{std::move(name), prefix, access, AccessLevel::kUnset});
}

}  // namespace

Policy global_management_policy() {
  Policy policy;
  policy.id = std::string(kGlobalManagementPolicyId);
  policy.name = std::string(kGlobalManagementPolicyName);
  policy.description = std::string(kGlobalManagementPolicyDescription);
  policy.rules = std::string(kGlobalManagementPolicyRules);
  return policy;
}

Token anonymous_token() {
  Token token;
  token.accessor_id = std::string(kAnonymousTokenAccessorId);
  token.secret_id = std::string(kAnonymousTokenSecretId);
  token.description = std::string(kAnonymousTokenDescription);
  return token;
}

bool is_valid_identity_name(std::string_view name) {
  if (name.empty() || name.size() > kIdentityNameSizeMax) return false;
  if (!is_identity_edge(name.front()) || !is_identity_edge(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_identity_edge(c) || c == '-' || c == '_'; });
}

// Built as rules, not as text to parse, so no name can change the rules' meaning.
std::optional<PolicyRules> service_identity_rules(const ServiceIdentity& identity,
                                                  std::string_view datacenter) {
  const auto& dcs = identity.datacenters;
  if (!dcs.empty() && std::find(dcs.begin(), dcs.end(), datacenter) == dcs.end()) {
    return std::nullopt;
  }
  PolicyRules rules;
  add(rules, Resource::kService, identity.service_name, false, AccessLevel::kWrite);
  add(rules, Resource::kService, identity.service_name + "-sidecar-proxy", false,
      AccessLevel::kWrite);
  add(rules, Resource::kService, "", true, AccessLevel::kRead);
  add(rules, Resource::kNode, "", true, AccessLevel::kRead);
  return rules;
}

std::optional<PolicyRules> node_identity_rules(const NodeIdentity& identity,
                                               std::string_view datacenter) {
  if (identity.datacenter != datacenter) return std::nullopt;
  PolicyRules rules;
  add(rules, Resource::kNode, identity.node_name, false, AccessLevel::kWrite);
  add(rules, Resource::kService, "", true, AccessLevel::kRead);
  return rules;
}

bool policy_applies_in(const Policy& policy, std::string_view datacenter) {
  const auto& dcs = policy.datacenters;
  return dcs.empty() || std::find(dcs.begin(), dcs.end(), datacenter) != dcs.end();
}

std::vector<std::string> granted_policy_ids(const Token& token,
                                            std::span<const Role* const> roles) {
  std::vector<std::string> ids;
  auto add_once = [&ids](const PolicyLink& link) {
    if (std::find(ids.begin(), ids.end(), link.id) == ids.end()) ids.push_back(link.id);
  };
  for (const PolicyLink& link : token.policies) add_once(link);
  for (const Role* role : roles) {
    for (const PolicyLink& link : role->policies) add_once(link);
  }
  return ids;
}

GrantedIdentities granted_identities(const Token& token, std::span<const Role* const> roles) {
  GrantedIdentities out{token.service_identities, token.node_identities};
  for (const Role* role : roles) {
    out.services.insert(out.services.end(), role->service_identities.begin(),
                        role->service_identities.end());
    out.nodes.insert(out.nodes.end(), role->node_identities.begin(), role->node_identities.end());
  }
  return out;
}

AuthorizerPtr token_authorizer(const TokenGrants& grants, std::string_view datacenter,
                               DefaultPolicy default_policy) {
  std::vector<PolicyRules> synthesized;
  synthesized.reserve(grants.service_identities.size() + grants.node_identities.size());
  for (const ServiceIdentity& identity : grants.service_identities) {
    if (auto rules = service_identity_rules(identity, datacenter)) {
      synthesized.push_back(std::move(*rules));
    }
  }
  for (const NodeIdentity& identity : grants.node_identities) {
    if (auto rules = node_identity_rules(identity, datacenter)) {
      synthesized.push_back(std::move(*rules));
    }
  }
  std::vector<const PolicyRules*> all(grants.policies.begin(), grants.policies.end());
  for (const PolicyRules& rules : synthesized) all.push_back(&rules);
  PC_ASSERT(std::none_of(all.begin(), all.end(), [](const PolicyRules* p) { return !p; }),
            "token_authorizer: a null policy");
  return chain({compile_policies(all), default_authorizer(default_policy)});
}

}  // namespace pc::acl
