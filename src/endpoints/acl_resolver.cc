#include "endpoints/acl_resolver.h"

#include <vector>

#include "acl/builtin.h"
#include "core/limits.h"
#include "core/strings.h"
#include "endpoints/agent_tokens.h"

namespace pc::endpoints {
namespace {

std::int64_t unix_ns(const core::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.wall_now().time_since_epoch())
      .count();
}

// Consul's aclCacheSize: past it the cache starts over rather than grow without bound.
constexpr std::size_t kTokenCacheSizeMax = 10 * 1024;

}  // namespace

core::Error acl_not_found() {
  return core::make_error(core::Code::kPermissionDenied, "ACL not found");
}

core::Error permission_denied(const ResolvedToken& who, std::string_view resource,
                              std::string_view access, std::optional<std::string_view> name) {
  std::string text = "Permission denied: token with AccessorID '" + who.accessor_id +
                     "' lacks permission '" + std::string(resource) + ":" + std::string(access) +
                     "'";
  if (name) text += " on " + core::go_quote(*name);
  return core::make_error(core::Code::kPermissionDenied, std::move(text));
}

AclResolver::AclResolver(const state::Store& store, AclSettings settings, std::string datacenter,
                         const core::Clock& clock)
    : store_(&store),
      settings_(std::move(settings)),
      datacenter_(std::move(datacenter)),
      clock_(&clock) {}

AclResolver::AclResolver(AclSettings settings, std::unique_ptr<const TokenSource> source)
    : settings_(std::move(settings)), source_(std::move(source)) {}

AclResolver::Stats AclResolver::stats_for_test() const {
  std::lock_guard lock(mu_);
  return stats_;
}

core::Result<ResolvedToken> AclResolver::resolve(std::string_view secret) const {
  if (!settings_.enabled) return ResolvedToken{"", acl::allow_all()};
  std::string key(secret);
  if (key.empty()) {
    key = tokens_ != nullptr ? tokens_->default_token() : settings_.default_token;
    if (key.empty()) key = std::string(acl::kAnonymousTokenSecretId);
  }
  if (source_) return source_->resolve(key);
  const state::Snapshot snap = store_->snapshot();
  const std::uint64_t index = snap.acl_index();
  const std::int64_t now = unix_ns(*clock_);
  {
    std::lock_guard lock(mu_);
    if (index != cache_index_) {
      cache_.clear();
      cache_index_ = index;
    }
    if (auto it = cache_.find(key); it != cache_.end()) {
      ++stats_.cache_hits;
      if (it->second.expires_unix_ns && *it->second.expires_unix_ns < now) return acl_not_found();
      return it->second.token;
    }
  }
  auto built = build(snap, key);
  if (!built) {
    // Not held here: a secondary without token replication asks the primary (not cached
    // here: the fallback keeps its own cache for acl.token_ttl).
    if (fallback_ && !snap.acl_token_by_secret(key)) return fallback_->resolve(key);
    return built.error();
  }
  if (built->expires_unix_ns && *built->expires_unix_ns < now) return acl_not_found();
  std::lock_guard lock(mu_);
  if (cache_index_ == index) {
    if (cache_.size() >= kTokenCacheSizeMax) cache_.clear();
    cache_[key] = *built;
  }
  return built->token;
}

std::shared_ptr<const acl::PolicyRules> AclResolver::parsed(
    const acl::GrantedPolicy& policy) const {
  {
    std::lock_guard lock(mu_);
    auto it = policies_.find(policy.id);
    if (it != policies_.end() && it->second.modify_index == policy.modify_index) {
      return it->second.rules;
    }
  }
  // Rules were validated when the policy was written; a policy that no longer parses (written
  // by a newer version, say) grants nothing rather than failing every request.
  auto rules = acl::parse_rules(policy.rules);
  auto shared =
      std::make_shared<const acl::PolicyRules>(rules ? std::move(*rules) : acl::PolicyRules{});
  std::lock_guard lock(mu_);
  ++stats_.policies_parsed;
  if (policies_.size() >= kTokenCacheSizeMax) policies_.clear();
  policies_[policy.id] = ParsedPolicy{policy.modify_index, shared};
  return shared;
}

core::Result<acl::TokenGrantsText> describe_token(const state::Snapshot& snap,
                                                  std::string_view secret,
                                                  std::string_view datacenter,
                                                  std::uint64_t* rows_read) {
  std::uint64_t rows = 1;
  auto count = [&] {
    if (rows_read != nullptr) *rows_read += rows;
  };
  auto token = snap.acl_token_by_secret(secret);
  if (!token) {
    count();
    return acl_not_found();
  }
  std::vector<acl::Role> roles;
  for (const auto& link : token->roles) {
    ++rows;
    if (auto role = snap.acl_role(link.id)) roles.push_back(std::move(*role));
  }
  std::vector<const acl::Role*> role_ptrs;
  for (const auto& r : roles) role_ptrs.push_back(&r);
  acl::TokenGrantsText out;
  for (const std::string& id : acl::granted_policy_ids(*token, role_ptrs)) {
    ++rows;
    auto policy = snap.acl_policy(id);
    if (!policy || !acl::policy_applies_in(*policy, datacenter)) continue;
    out.policies.push_back({policy->id, policy->modify_index, std::move(policy->rules)});
  }
  acl::GrantedIdentities identities = acl::granted_identities(*token, role_ptrs);
  out.accessor_id = token->accessor_id;
  out.description = token->description;
  out.service_identities = std::move(identities.services);
  out.node_identities = std::move(identities.nodes);
  out.expiration_time_unix_ns = token->expiration_time_unix_ns;
  count();
  return out;
}

ResolvedToken compile_grants(const acl::TokenGrantsText& grants, std::string_view datacenter,
                             acl::DefaultPolicy default_policy, const ParsePolicyFn& parse) {
  std::vector<std::shared_ptr<const acl::PolicyRules>> held;
  held.reserve(grants.policies.size());
  for (const auto& p : grants.policies) held.push_back(parse(p));
  std::vector<const acl::PolicyRules*> policies;
  for (const auto& p : held) policies.push_back(p.get());
  acl::TokenGrants compiled{policies, grants.service_identities, grants.node_identities};
  return ResolvedToken{grants.accessor_id,
                       acl::token_authorizer(compiled, datacenter, default_policy)};
}

core::Result<AclResolver::Cached> AclResolver::build(const state::Snapshot& snap,
                                                     std::string_view secret) const {
  std::uint64_t rows = 0;
  auto grants = describe_token(snap, secret, datacenter_, &rows);
  {
    std::lock_guard lock(mu_);
    stats_.rows_read += rows;
  }
  if (!grants) return grants.error();
  Cached out;
  out.token = compile_grants(*grants, datacenter_, settings_.default_policy,
                             [this](const acl::GrantedPolicy& p) { return parsed(p); });
  out.expires_unix_ns = grants->expiration_time_unix_ns;
  return out;
}

}  // namespace pc::endpoints
