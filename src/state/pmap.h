#pragma once
// PMap<V>: a persistent (immutable) ordered map from std::string to V, the building block of
// every table of the state store (state/README.md).
//
// Every update returns a new map and leaves the old one untouched: set() and erase() copy
// only the O(log n) nodes on the path from the root to the change and share everything else
// (path copying, as go-memdb's immutable radix trees do under Consul). Holding a PMap pins
// that version for as long as it is held, so a reader can keep one while the writer goes on.
//
// The tree is an AVL tree, so its height stays within 1.44 log2(n + 2) whatever the keys:
// KV keys come from users, and a balance that depended on the keys (a treap with hashed
// priorities, say) could be driven into a list by a chosen key set.
//
// Thread-safety: a PMap value is not synchronized, but the nodes it points to are immutable
// and their reference counts atomic, so copies of one PMap may be read on any number of
// threads at once while another thread builds new versions from it.
// Invariants: in-order keys strictly increase; every node's height is 1 + the taller child's,
// and its children's heights differ by at most one; size_ counts the nodes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pc::state {

template <class V>
class PMap {
 public:
  struct Entry {
    std::string key;
    V value;
  };

 private:
  struct Node;
  using NodePtr = std::shared_ptr<const Node>;
  using EntryPtr = std::shared_ptr<const Entry>;
  // Entries sit behind their own pointer so that copying a path, and rotating, copies
  // pointers rather than values (a KV value can be 512 KiB).
  struct Node {
    EntryPtr entry;
    NodePtr left;
    NodePtr right;
    std::uint8_t height = 1;
  };

 public:
  // In-order iteration. Valid while the PMap it came from (or any copy of it) is alive: it
  // walks that version's nodes through raw pointers.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using pointer = const Entry*;
    using reference = const Entry&;

    Iterator() = default;
    const Entry& operator*() const { return *stack_.back()->entry; }
    const Entry* operator->() const { return stack_.back()->entry.get(); }
    Iterator& operator++() {
      const Node* n = stack_.back();
      stack_.pop_back();
      for (const Node* c = n->right.get(); c != nullptr; c = c->left.get()) stack_.push_back(c);
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const Iterator& other) const { return stack_ == other.stack_; }
    bool operator==(std::default_sentinel_t) const { return stack_.empty(); }

   private:
    friend class PMap;
    // The path still to visit: the back is the current node; every node below it in the
    // stack is an ancestor whose own entry and right subtree come next.
    std::vector<const Node*> stack_;
  };

  PMap() = default;

  // Builds a map from entries appended in strictly increasing key order (the caller checks,
  // with last_key(): a decoded snapshot's tables arrive in key order). O(n), where n set()
  // calls would copy n paths: each entry is allocated once, as it is appended, and build()
  // makes each range's middle entry its root, so sibling subtrees differ in size by at most
  // one, hence in height by at most one, and the AVL invariant holds as built.
  class SortedBuilder {
   public:
    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }
    const std::string& last_key() const { return entries_.back()->key; }
    void append(std::string key, V value) {
      entries_.push_back(make_entry(std::move(key), std::move(value)));
    }
    PMap build() && {
      NodePtr root = build_sorted(entries_, 0, entries_.size());
      return PMap(std::move(root), entries_.size());
    }

   private:
    std::vector<EntryPtr> entries_;
  };

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The value stored under `key`, or nullptr. The pointer lives as long as this version.
  const V* find(std::string_view key) const {
    const Node* n = root_.get();
    while (n != nullptr) {
      const int c = key.compare(n->entry->key);
      if (c == 0) return &n->entry->value;
      n = c < 0 ? n->left.get() : n->right.get();
    }
    return nullptr;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }

  // A new version with `key` mapped to `value` (inserted or replaced).
  [[nodiscard]] PMap set(std::string key, V value) const {
    bool inserted = false;
    NodePtr root = insert(root_, std::move(key), std::move(value), inserted);
    return PMap(std::move(root), size_ + (inserted ? 1 : 0));
  }

  // A new version without `key`; shares this version's root when `key` is absent.
  [[nodiscard]] PMap erase(std::string_view key) const {
    if (!contains(key)) return *this;
    return PMap(remove(root_, key), size_ - 1);
  }

  Iterator begin() const { return lower_bound(std::string_view()); }
  std::default_sentinel_t end() const { return std::default_sentinel; }

  // The first entry whose key is >= `key`. Prefix scans start here and stop at the first
  // key that no longer starts with the prefix.
  Iterator lower_bound(std::string_view key) const {
    Iterator it;
    for (const Node* n = root_.get(); n != nullptr;) {
      if (n->entry->key.compare(key) >= 0) {
        it.stack_.push_back(n);  // a candidate; anything smaller but still >= key is left
        n = n->left.get();
      } else {
        n = n->right.get();
      }
    }
    return it;
  }

  // Calls fn(entry) for every key starting with `prefix`, in key order, until fn returns
  // false.
  template <class Fn>
  void scan_prefix(std::string_view prefix, Fn&& fn) const {
    for (auto it = lower_bound(prefix); it != end(); ++it) {
      if (!std::string_view(it->key).starts_with(prefix)) return;
      if (!fn(*it)) return;
    }
  }

  // True when both versions share one root: equal without comparing entries. Used to skip
  // work (and to test structural sharing), never to decide equality of different roots.
  bool same_root(const PMap& other) const { return root_ == other.root_; }

  // Checks the invariants in the header comment; O(n), for tests.
  bool check_invariants_for_test() const {
    std::size_t count = 0;
    const std::string* prev = nullptr;
    bool ok = check(root_.get(), count, prev);
    return ok && count == size_;
  }
  int height_for_test() const { return height(root_); }

 private:
  PMap(NodePtr root, std::size_t size) : root_(std::move(root)), size_(size) {}

  static int height(const NodePtr& n) { return n ? n->height : 0; }
  static EntryPtr make_entry(std::string&& key, V&& value) {
    return std::make_shared<const Entry>(Entry{std::move(key), std::move(value)});
  }

  static NodePtr make(EntryPtr entry, NodePtr left, NodePtr right) {
    auto h = static_cast<std::uint8_t>(1 + std::max(height(left), height(right)));
    return std::make_shared<const Node>(
        Node{std::move(entry), std::move(left), std::move(right), h});
  }
  // `n`'s entry under new children (a new node: `n` itself may be shared).
  static NodePtr with_children(const Node& n, NodePtr left, NodePtr right) {
    return balance(n.entry, std::move(left), std::move(right));
  }

  // Builds a node from an entry and two AVL subtrees whose heights differ by at most two,
  // rotating once or twice so the result is balanced again.
  static NodePtr balance(EntryPtr entry, NodePtr l, NodePtr r) {
    const int hl = height(l);
    const int hr = height(r);
    if (hl > hr + 1) {
      if (height(l->left) >= height(l->right)) {
        return make(l->entry, l->left, make(std::move(entry), l->right, std::move(r)));
      }
      const Node& lr = *l->right;
      return make(lr.entry, make(l->entry, l->left, lr.left),
                  make(std::move(entry), lr.right, std::move(r)));
    }
    if (hr > hl + 1) {
      if (height(r->right) >= height(r->left)) {
        return make(r->entry, make(std::move(entry), std::move(l), r->left), r->right);
      }
      const Node& rl = *r->left;
      return make(rl.entry, make(std::move(entry), std::move(l), rl.left),
                  make(r->entry, rl.right, r->right));
    }
    return make(std::move(entry), std::move(l), std::move(r));
  }

  static NodePtr insert(const NodePtr& n, std::string&& key, V&& value, bool& inserted) {
    if (!n) {
      inserted = true;
      return make(make_entry(std::move(key), std::move(value)), nullptr, nullptr);
    }
    const int c = key.compare(n->entry->key);
    if (c == 0) return make(make_entry(std::move(key), std::move(value)), n->left, n->right);
    if (c < 0)
      return with_children(*n, insert(n->left, std::move(key), std::move(value), inserted),
                           n->right);
    return with_children(*n, n->left, insert(n->right, std::move(key), std::move(value), inserted));
  }

  // The subtree of entries[lo, hi), moving them out. Recursion depth is log2(n).
  static NodePtr build_sorted(std::vector<EntryPtr>& entries, std::size_t lo, std::size_t hi) {
    if (lo == hi) return nullptr;
    const std::size_t mid = lo + (hi - lo) / 2;
    NodePtr left = build_sorted(entries, lo, mid);
    NodePtr right = build_sorted(entries, mid + 1, hi);
    return make(std::move(entries[mid]), std::move(left), std::move(right));
  }

  // Precondition: `key` is present under `n`.
  static NodePtr remove(const NodePtr& n, std::string_view key) {
    const int c = key.compare(n->entry->key);
    if (c < 0) return with_children(*n, remove(n->left, key), n->right);
    if (c > 0) return with_children(*n, n->left, remove(n->right, key));
    if (!n->left) return n->right;
    if (!n->right) return n->left;
    // Replace the entry with its in-order successor, the leftmost entry on the right.
    const Node* successor = n->right.get();
    while (successor->left) successor = successor->left.get();
    NodePtr right = remove(n->right, successor->entry->key);
    return balance(successor->entry, n->left, std::move(right));
  }

  static bool check(const Node* n, std::size_t& count, const std::string*& prev) {
    if (n == nullptr) return true;
    if (!check(n->left.get(), count, prev)) return false;
    if (prev != nullptr && !(*prev < n->entry->key)) return false;
    prev = &n->entry->key;
    ++count;
    if (!check(n->right.get(), count, prev)) return false;
    const int hl = height(n->left);
    const int hr = height(n->right);
    return n->height == 1 + std::max(hl, hr) && hl - hr <= 1 && hr - hl <= 1;
  }

  NodePtr root_;
  std::size_t size_ = 0;
};

}  // namespace pc::state
