#include "acl/detail/rule_trie.h"

#include <algorithm>

namespace pc::acl::detail {

std::uint32_t RuleTrie::child(std::uint32_t node, unsigned char byte) const {
  const auto& children = nodes_[node].children;
  const auto it =
      std::lower_bound(children.begin(), children.end(), byte,
                       [](const auto& edge, unsigned char b) { return edge.first < b; });
  return it != children.end() && it->first == byte ? it->second : kNone;
}

void RuleTrie::set(std::string_view name, bool prefix, AccessLevel access) {
  std::uint32_t node = 0;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    std::uint32_t next = child(node, byte);
    if (next == kNone) {
      next = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& children = nodes_[node].children;
      const auto it =
          std::lower_bound(children.begin(), children.end(), byte,
                           [](const auto& edge, unsigned char b) { return edge.first < b; });
      children.insert(it, {byte, next});
    }
    node = next;
  }
  (prefix ? nodes_[node].leaf.prefix : nodes_[node].leaf.exact) = access;
}

AccessLevel RuleTrie::lookup(std::string_view name) const {
  AccessLevel longest_prefix = AccessLevel::kUnset;
  std::uint32_t node = 0;
  for (std::size_t i = 0;; ++i) {
    const RuleLeaf& leaf = nodes_[node].leaf;
    if (i == name.size() && leaf.exact != AccessLevel::kUnset) return leaf.exact;
    if (leaf.prefix != AccessLevel::kUnset) longest_prefix = leaf.prefix;
    if (i == name.size()) break;
    node = child(node, static_cast<unsigned char>(name[i]));
    if (node == kNone) break;
  }
  return longest_prefix;
}

}  // namespace pc::acl::detail
