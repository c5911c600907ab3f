#pragma once
// A byte trie of rule names, private to acl/: each node may hold an exact rule and a prefix
// rule for the name that leads to it (Consul keeps the same pair per radix-tree leaf,
// policyAuthorizerRadixLeaf). A lookup walks the name once, so it costs O(length · log
// fan-out) whatever the number of rules; walks over a subtree serve the checks that look at
// every rule under a prefix (KeyWritePrefix, ServiceReadAll, ServiceWriteAny).
//
// Built once, then immutable: concurrent const use is safe.
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "acl/rules.h"

namespace pc::acl::detail {

struct RuleLeaf {
  AccessLevel exact = AccessLevel::kUnset;
  AccessLevel prefix = AccessLevel::kUnset;
  bool empty() const { return exact == AccessLevel::kUnset && prefix == AccessLevel::kUnset; }
};

class RuleTrie {
 public:
  RuleTrie() : nodes_(1) {}

  // Sets the exact or prefix rule of `name`, replacing one already there (the caller merges
  // policies first).
  void set(std::string_view name, bool prefix, AccessLevel access);

  // The exact rule for `name` if there is one, else the longest prefix rule that `name`
  // starts with, else kUnset (Consul's getPolicy).
  AccessLevel lookup(std::string_view name) const;

  // The leaf of the empty name (the catch-all `x_prefix ""`), or an empty leaf.
  const RuleLeaf& root() const { return nodes_[0].leaf; }

  // Calls fn(leaf) for each leaf on the path from the root to `name`, shortest first,
  // including `name`'s own (go-radix WalkPath).
  template <typename Fn>
  void walk_path(std::string_view name, Fn&& fn) const {
    std::uint32_t node = 0;
    for (std::size_t i = 0;; ++i) {
      if (!nodes_[node].leaf.empty()) fn(nodes_[node].leaf);
      if (i == name.size()) return;
      node = child(node, static_cast<unsigned char>(name[i]));
      if (node == kNone) return;
    }
  }

  // Calls fn(leaf) for each leaf whose name starts with `prefix` (`prefix` included) until fn
  // returns true; returns whether one did (go-radix WalkPrefix; "" walks everything).
  template <typename Fn>
  bool walk_under(std::string_view prefix, Fn&& fn) const {
    std::uint32_t start = 0;
    for (char c : prefix) {
      start = child(start, static_cast<unsigned char>(c));
      if (start == kNone) return false;
    }
    std::vector<std::uint32_t> stack{start};  // explicit: names can be long
    while (!stack.empty()) {
      const std::uint32_t node = stack.back();
      stack.pop_back();
      if (!nodes_[node].leaf.empty() && fn(nodes_[node].leaf)) return true;
      for (const auto& edge : nodes_[node].children) stack.push_back(edge.second);
    }
    return false;
  }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFF;
  struct Node {
    RuleLeaf leaf;
    std::vector<std::pair<unsigned char, std::uint32_t>> children;  // sorted by byte
  };
  std::uint32_t child(std::uint32_t node, unsigned char byte) const;

  std::vector<Node> nodes_;
};

}  // namespace pc::acl::detail
