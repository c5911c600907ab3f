#pragma once
// ResponseCache: renderings of large read results, shared by every request that asks for the
// same thing at the same index (shared/DESIGN.md: "a response that many readers ask for at the
// same index may be rendered once and shared"). A megabyte health list of a 1,000-instance
// service costs milliseconds to render and microseconds to copy.
//
// A key names the read and every parameter that shapes its result (the edge builds it); the
// caller's index must determine that result, as a per-service index does for the health and
// catalog lists of one service. Each key keeps only its latest rendering; the least recently
// used keys go first once the byte budget is spent.
//
// Thread-safe: one mutex around a map and an LRU list; bodies are immutable and shared.
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pc::endpoints {

class ResponseCache {
 public:
  explicit ResponseCache(std::size_t max_bytes);

  // The body rendered for `key` at exactly `index`, or null.
  std::shared_ptr<const std::string> find(const std::string& key, std::uint64_t index);
  // Stores (or replaces) the rendering of `key`; a body larger than the budget is not kept.
  void insert(const std::string& key, std::uint64_t index, std::shared_ptr<const std::string> body);

  std::size_t bytes() const;
  std::size_t entries() const;

 private:
  struct Entry {
    std::string key;
    std::uint64_t index = 0;
    std::shared_ptr<const std::string> body;
  };
  void evict_locked();

  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
  std::size_t bytes_ = 0;
};

}  // namespace pc::endpoints
