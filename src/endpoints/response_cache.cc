#include "endpoints/response_cache.h"

namespace pc::endpoints {

ResponseCache::ResponseCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

std::shared_ptr<const std::string> ResponseCache::find(const std::string& key,
                                                       std::uint64_t index) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end() || it->second->index != index) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->body;
}

void ResponseCache::insert(const std::string& key, std::uint64_t index,
                           std::shared_ptr<const std::string> body) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) {
    // Never replace a newer rendering with an older one (two readers raced).
    if (it->second->index > index) return;
    bytes_ -= it->second->body->size();
    lru_.erase(it->second);
    by_key_.erase(it);
  }
  if (body->size() > max_bytes_) return;
  bytes_ += body->size();
  lru_.push_front(Entry{key, index, std::move(body)});
  by_key_.emplace(key, lru_.begin());
  evict_locked();
}

void ResponseCache::evict_locked() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().body->size();
    by_key_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

std::size_t ResponseCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::size_t ResponseCache::entries() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace pc::endpoints
