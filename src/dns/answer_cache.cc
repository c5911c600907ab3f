#include "dns/answer_cache.h"

#include <utility>

namespace pc::dns {

AnswerCache::AnswerCache(std::size_t max_entries, std::size_t variants)
    : max_entries_(max_entries), variants_(variants == 0 ? 1 : variants) {}

std::optional<std::string> AnswerCache::key_of(std::span<const std::uint8_t> query, bool tcp) {
  constexpr std::size_t kHeader = 12;
  if (query.size() <= kHeader) return std::nullopt;
  auto u16 = [&query](std::size_t at) { return (query[at] << 8) | query[at + 1]; };
  const bool qr = (query[2] & 0x80) != 0;
  const int opcode = (query[2] >> 3) & 0x0f;
  if (qr || opcode != 0 || u16(4) != 1 || u16(6) != 0 || u16(8) != 0 || u16(10) > 1) {
    return std::nullopt;
  }
  std::string key;
  key.reserve(query.size() - kHeader + 2);
  key += tcp ? 't' : 'u';
  key += static_cast<char>(query[2] & 0x01);  // RD, echoed in the answer
  key.append(reinterpret_cast<const char*>(query.data()) + kHeader, query.size() - kHeader);
  return key;
}

std::optional<std::vector<std::uint8_t>> AnswerCache::lookup(const std::string& key,
                                                             std::uint64_t generation,
                                                             std::uint16_t id) {
  std::vector<std::uint8_t> out;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.generation != generation ||
        it->second.answers.size() < variants_) {
      return std::nullopt;
    }
    // xorshift64: the pick needs to be cheap, not unpredictable.
    rand_state_ ^= rand_state_ << 13;
    rand_state_ ^= rand_state_ >> 7;
    rand_state_ ^= rand_state_ << 17;
    out = it->second.answers[rand_state_ % it->second.answers.size()];
  }
  out[0] = static_cast<std::uint8_t>(id >> 8);
  out[1] = static_cast<std::uint8_t>(id & 0xff);
  return out;
}

void AnswerCache::insert(const std::string& key, std::uint64_t generation,
                         std::vector<std::uint8_t> answer) {
  if (answer.size() < 2) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_entries_) entries_.clear();
    it = entries_.emplace(key, Entry{}).first;
  }
  Entry& e = it->second;
  if (e.generation != generation) {
    e.generation = generation;
    e.answers.clear();
  }
  if (e.answers.size() < variants_) e.answers.push_back(std::move(answer));
}

void AnswerCache::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

std::size_t AnswerCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace pc::dns
