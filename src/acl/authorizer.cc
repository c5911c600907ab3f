// The three kinds of authorizer: static (default policy, management), compiled policies
// (Consul's policyAuthorizer), and a chain of others (ChainedAuthorizer).
#include "acl/authorizer.h"

#include <array>
#include <map>
#include <string>
#include <utility>

#include "acl/detail/rule_trie.h"

namespace pc::acl {

std::string_view decision_name(Decision decision) {
  switch (decision) {
    case Decision::kDefault: return "default";
    case Decision::kAllow: return "allow";
    case Decision::kDeny: return "deny";
  }
  return "";
}

// IntentionRead("*") asks "may this token read some intention?", IntentionWrite("*") "may it
// write every intention?" (Consul's policyAuthorizer).
Decision Authorizer::intention_read(std::string_view service) const {
  if (service == "*") return check_any(Resource::kIntention, AccessLevel::kRead);
  return check(Resource::kIntention, service, AccessLevel::kRead);
}

Decision Authorizer::intention_write(std::string_view service) const {
  if (service == "*") return check_all(Resource::kIntention, AccessLevel::kWrite);
  return check(Resource::kIntention, service, AccessLevel::kWrite);
}

namespace {

// What a rule's level means for a required level (Consul's enforce): write grants all, list
// grants list and read, read grants read, deny refuses, no rule defers.
Decision enforce(AccessLevel rule, AccessLevel required) {
  switch (rule) {
    case AccessLevel::kWrite: return Decision::kAllow;
    case AccessLevel::kList:
      return required == AccessLevel::kWrite ? Decision::kDeny : Decision::kAllow;
    case AccessLevel::kRead:
      return required == AccessLevel::kRead ? Decision::kAllow : Decision::kDeny;
    case AccessLevel::kDeny: return Decision::kDeny;
    case AccessLevel::kUnset: return Decision::kDefault;
  }
  return Decision::kDefault;
}

class StaticAuthorizer final : public Authorizer {
 public:
  StaticAuthorizer(bool allow_manage, bool default_allow)
      : manage_(allow_manage ? Decision::kAllow : Decision::kDeny),
        other_(default_allow ? Decision::kAllow : Decision::kDeny) {}

  Decision check(Resource, std::string_view, AccessLevel) const override { return other_; }
  Decision check_global(GlobalResource resource, AccessLevel) const override {
    return resource == GlobalResource::kAcl ? manage_ : other_;
  }
  Decision check_all(Resource, AccessLevel) const override { return other_; }
  Decision check_any(Resource, AccessLevel) const override { return other_; }
  Decision key_write_prefix(std::string_view) const override { return other_; }

 private:
  Decision manage_;
  Decision other_;
};

class ChainedAuthorizer final : public Authorizer {
 public:
  explicit ChainedAuthorizer(std::vector<AuthorizerPtr> chain) : chain_(std::move(chain)) {}

  Decision check(Resource r, std::string_view name, AccessLevel required) const override {
    return first([&](const Authorizer& a) { return a.check(r, name, required); });
  }
  Decision check_global(GlobalResource r, AccessLevel required) const override {
    return first([&](const Authorizer& a) { return a.check_global(r, required); });
  }
  Decision check_all(Resource r, AccessLevel required) const override {
    return first([&](const Authorizer& a) { return a.check_all(r, required); });
  }
  Decision check_any(Resource r, AccessLevel required) const override {
    return first([&](const Authorizer& a) { return a.check_any(r, required); });
  }
  Decision key_write_prefix(std::string_view prefix) const override {
    return first([&](const Authorizer& a) { return a.key_write_prefix(prefix); });
  }

 private:
  template <typename Fn>
  Decision first(Fn&& fn) const {
    for (const AuthorizerPtr& a : chain_) {
      const Decision d = fn(*a);
      if (d != Decision::kDefault) return d;
    }
    return Decision::kDefault;
  }

  std::vector<AuthorizerPtr> chain_;
};

class PolicyAuthorizer final : public Authorizer {
 public:
  PolicyAuthorizer(std::array<detail::RuleTrie, kResourceCount> tries,
                   std::array<AccessLevel, kGlobalResourceCount> global)
      : tries_(std::move(tries)), global_(global) {}

  Decision check(Resource r, std::string_view name, AccessLevel required) const override {
    return enforce(trie(r).lookup(name), required);
  }

  Decision check_global(GlobalResource r, AccessLevel required) const override {
    AccessLevel level = global_[static_cast<std::size_t>(r)];
    // mesh and peering default to the operator rule (Consul's MeshRead, PeeringRead).
    if (level == AccessLevel::kUnset &&
        (r == GlobalResource::kMesh || r == GlobalResource::kPeering)) {
      level = global_[static_cast<std::size_t>(GlobalResource::kOperator)];
    }
    return enforce(level, required);
  }

  Decision check_all(Resource r, AccessLevel required) const override;
  Decision check_any(Resource r, AccessLevel required) const override;
  Decision key_write_prefix(std::string_view prefix) const override;

 private:
  const detail::RuleTrie& trie(Resource r) const { return tries_[static_cast<std::size_t>(r)]; }

  std::array<detail::RuleTrie, kResourceCount> tries_;
  std::array<AccessLevel, kGlobalResourceCount> global_;
};

// A catch-all prefix that denies makes the default Deny, but a more specific rule that
// allows still wins (Consul's anyAllowed).
Decision PolicyAuthorizer::check_any(Resource r, AccessLevel required) const {
  auto leaf_decision = [required](const detail::RuleLeaf& leaf, bool prefix_only) {
    const Decision d = enforce(leaf.prefix, required);
    if (prefix_only || d == Decision::kAllow || leaf.exact == AccessLevel::kUnset) return d;
    return enforce(leaf.exact, required);
  };
  const detail::RuleTrie& rules = trie(r);
  Decision decision = Decision::kDefault;
  if (!rules.root().empty()) {
    decision = leaf_decision(rules.root(), true);
    if (decision == Decision::kAllow) return decision;
  }
  const bool any = rules.walk_under("", [&](const detail::RuleLeaf& leaf) {
    return leaf_decision(leaf, false) == Decision::kAllow;
  });
  return any ? Decision::kAllow : decision;
}

// Allow needs the catch-all to allow and nothing below it to deny (Consul's allAllowed).
Decision PolicyAuthorizer::check_all(Resource r, AccessLevel required) const {
  auto leaf_decision = [required](const detail::RuleLeaf& leaf, bool prefix_only) {
    const Decision prefix_decision = enforce(leaf.prefix, required);
    if (prefix_only || prefix_decision == Decision::kDeny || leaf.exact == AccessLevel::kUnset) {
      return prefix_decision;
    }
    const Decision d = enforce(leaf.exact, required);
    return d == Decision::kDefault ? prefix_decision : d;
  };
  const detail::RuleTrie& rules = trie(r);
  Decision decision = Decision::kDefault;
  if (!rules.root().empty()) {
    decision = leaf_decision(rules.root(), true);
    if (decision == Decision::kDeny) return decision;
  }
  const bool any_denied = rules.walk_under("", [&](const detail::RuleLeaf& leaf) {
    return leaf_decision(leaf, false) == Decision::kDeny;
  });
  return any_denied ? Decision::kDeny : decision;
}

// Allow: the longest prefix rule covering `prefix` grants write, and no rule under `prefix`
// (exact or prefix) grants less. Deny if either fails. Default: no covering prefix rule and
// nothing under it that refuses.
Decision PolicyAuthorizer::key_write_prefix(std::string_view prefix) const {
  const detail::RuleTrie& keys = trie(Resource::kKey);
  Decision base = Decision::kDefault;
  keys.walk_path(prefix, [&base](const detail::RuleLeaf& leaf) {
    if (leaf.prefix != AccessLevel::kUnset) {
      base = leaf.prefix == AccessLevel::kWrite ? Decision::kAllow : Decision::kDeny;
    }
  });
  if (base == Decision::kDeny) return base;
  const bool refused_below = keys.walk_under(prefix, [](const detail::RuleLeaf& leaf) {
    return (leaf.prefix != AccessLevel::kUnset && leaf.prefix != AccessLevel::kWrite) ||
           (leaf.exact != AccessLevel::kUnset && leaf.exact != AccessLevel::kWrite);
  });
  return refused_below ? Decision::kDeny : base;
}

// Per name and kind (exact or prefix), the winning levels across all policies.
struct MergedRule {
  AccessLevel access = AccessLevel::kUnset;
  AccessLevel intentions = AccessLevel::kUnset;
};
using MergeKey = std::pair<std::string, bool>;  // name, prefix

// A service rule without `intentions` grants intention read when it grants read or write,
// and denies intentions otherwise (Consul's loadRules). Derived after merging, as Consul does.
AccessLevel derived_intentions(const MergedRule& rule) {
  if (rule.intentions != AccessLevel::kUnset) return rule.intentions;
  return rule.access == AccessLevel::kRead || rule.access == AccessLevel::kWrite
             ? AccessLevel::kRead
             : AccessLevel::kDeny;
}

}  // namespace

AuthorizerPtr allow_all() {
  static const AuthorizerPtr instance = std::make_shared<StaticAuthorizer>(false, true);
  return instance;
}

AuthorizerPtr deny_all() {
  static const AuthorizerPtr instance = std::make_shared<StaticAuthorizer>(false, false);
  return instance;
}

AuthorizerPtr manage_all() {
  static const AuthorizerPtr instance = std::make_shared<StaticAuthorizer>(true, true);
  return instance;
}

AuthorizerPtr default_authorizer(DefaultPolicy policy) {
  return policy == DefaultPolicy::kAllow ? allow_all() : deny_all();
}

AuthorizerPtr chain(std::vector<AuthorizerPtr> authorizers) {
  return std::make_shared<ChainedAuthorizer>(std::move(authorizers));
}

AuthorizerPtr compile_policies(std::span<const PolicyRules* const> policies) {
  std::array<std::map<MergeKey, MergedRule>, kRuleResourceCount> merged;
  std::array<AccessLevel, kGlobalResourceCount> global{};
  for (const PolicyRules* policy : policies) {
    for (std::size_t r = 0; r < kRuleResourceCount; ++r) {
      for (const NamedRule& rule : policy->named[r]) {
        MergedRule& into = merged[r][MergeKey{rule.name, rule.prefix}];
        if (takes_precedence_over(rule.access, into.access)) into.access = rule.access;
        if (takes_precedence_over(rule.intentions, into.intentions)) {
          into.intentions = rule.intentions;
        }
      }
    }
    for (std::size_t g = 0; g < kGlobalResourceCount; ++g) {
      if (takes_precedence_over(policy->global[g], global[g])) global[g] = policy->global[g];
    }
  }
  std::array<detail::RuleTrie, kResourceCount> tries;
  for (std::size_t r = 0; r < kRuleResourceCount; ++r) {
    for (const auto& [key, rule] : merged[r]) {
      tries[r].set(key.first, key.second, rule.access);
      if (static_cast<Resource>(r) == Resource::kService) {
        tries[static_cast<std::size_t>(Resource::kIntention)].set(key.first, key.second,
                                                                  derived_intentions(rule));
      }
    }
  }
  return std::make_shared<PolicyAuthorizer>(std::move(tries), global);
}

}  // namespace pc::acl
