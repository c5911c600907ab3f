// The trie against a naive twin: a linear scan over every rule, written straight from the
// definitions (exact rule, else the longest prefix rule; KeyWritePrefix's conditions), on
// seeded random rule sets over a tiny alphabet so that names share prefixes often.
#include "acl/detail/rule_trie.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "acl/authorizer.h"
#include "core/split_mix64.h"

namespace pc::acl {
namespace {

using Rules = std::map<std::pair<std::string, bool>, AccessLevel>;  // (name, prefix) -> level

std::string random_name(core::SplitMix64& rng) {
  static constexpr char kAlphabet[] = {'a', 'b', '/'};
  std::string name;
  const auto length = rng.below(5);
  for (std::uint64_t i = 0; i < length; ++i) name.push_back(kAlphabet[rng.below(3)]);
  return name;
}

AccessLevel random_level(core::SplitMix64& rng) {
  return static_cast<AccessLevel>(1 + rng.below(4));  // read, list, write or deny
}

// The level of the longest prefix rule that `name` starts with, or kUnset.
AccessLevel naive_longest_prefix(const Rules& rules, const std::string& name) {
  AccessLevel best = AccessLevel::kUnset;
  std::size_t best_length = 0;
  for (const auto& [key, level] : rules) {
    const auto& [rule_name, prefix] = key;
    if (!prefix || name.compare(0, rule_name.size(), rule_name) != 0) continue;
    if (best == AccessLevel::kUnset || rule_name.size() >= best_length) {
      best = level;
      best_length = rule_name.size();
    }
  }
  return best;
}

AccessLevel naive_lookup(const Rules& rules, const std::string& name) {
  if (auto it = rules.find({name, false}); it != rules.end()) return it->second;
  return naive_longest_prefix(rules, name);
}

// Allow iff the longest prefix rule covering `prefix` is write and every rule whose name
// starts with `prefix` is write; Default iff no prefix rule covers it and none below refuses.
Decision naive_key_write_prefix(const Rules& rules, const std::string& prefix) {
  const AccessLevel cover = naive_longest_prefix(rules, prefix);
  if (cover != AccessLevel::kUnset && cover != AccessLevel::kWrite) return Decision::kDeny;
  for (const auto& [key, level] : rules) {
    if (key.first.compare(0, prefix.size(), prefix) == 0 && level != AccessLevel::kWrite) {
      return Decision::kDeny;
    }
  }
  return cover == AccessLevel::kWrite ? Decision::kAllow : Decision::kDefault;
}

TEST(RuleTrie, MatchesANaiveScan) {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    core::SplitMix64 rng(seed);
    Rules rules;
    detail::RuleTrie trie;
    PolicyRules policy;
    const auto count = rng.below(12);
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::string name = random_name(rng);
      const bool prefix = rng.below(2) == 0;
      const AccessLevel level = random_level(rng);
      rules[{name, prefix}] = level;  // last one wins in both
      trie.set(name, prefix, level);
    }
    for (const auto& [key, level] : rules) {
      policy.rules(Resource::kKey).push_back(NamedRule{key.first, key.second, level});
    }
    const PolicyRules* list[] = {&policy};
    const AuthorizerPtr authz = compile_policies(list);
    for (int probe = 0; probe < 40; ++probe) {
      const std::string name = random_name(rng);
      ASSERT_EQ(trie.lookup(name), naive_lookup(rules, name))
          << "seed " << seed << " name '" << name << "'";
      ASSERT_EQ(authz->key_write_prefix(name), naive_key_write_prefix(rules, name))
          << "seed " << seed << " prefix '" << name << "'";
    }
  }
}

}  // namespace
}  // namespace pc::acl
