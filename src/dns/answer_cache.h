#pragma once
// Encoded answers of recent queries, served again while nothing they were built from changed.
//
// The key is the query's bytes after the id: the RD flag, the question and the EDNS0 record,
// plus the transport. Two queries with the same key get the same answer but for the id and
// the order of the instances, which Consul shuffles per query. So an entry keeps up to
// `variants` answers, each built by a full resolve (its own shuffle), and a hit picks one at
// random; the first `variants` queries of a key still take the full path to build them.
//
// An entry belongs to a generation (the daemon's: the log's applied index, so any write to
// the catalog invalidates every entry; the server's own answers are never staler than the
// store). A lookup with another generation misses and the entry is rebuilt.
//
// Thread-safe (one mutex; a hit holds it for a hash lookup and a copy). Bounded: at most
// `max_entries` keys; when full, the whole cache is dropped (cheap, and a full cache of a
// name set that large gains little from finer eviction).
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace pc::dns {

class AnswerCache {
 public:
  explicit AnswerCache(std::size_t max_entries = 8192, std::size_t variants = 8);

  // The key of a plain query (QUERY opcode, one question, no answer or authority records,
  // at most one additional record), or nullopt for anything else: those are never cached.
  static std::optional<std::string> key_of(std::span<const std::uint8_t> query, bool tcp);

  // An answer for `key` built at `generation`, with the query's `id` written in; nullopt on
  // a miss, or while the entry still collects variants.
  std::optional<std::vector<std::uint8_t>> lookup(const std::string& key, std::uint64_t generation,
                                                  std::uint16_t id);
  // Adds one answer built at `generation` (replacing an entry of another generation).
  void insert(const std::string& key, std::uint64_t generation, std::vector<std::uint8_t> answer);
  void clear();
  std::size_t size() const;

 private:
  struct Entry {
    std::uint64_t generation = 0;
    std::vector<std::vector<std::uint8_t>> answers;
  };

  const std::size_t max_entries_;
  const std::size_t variants_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t rand_state_ = 0x9e3779b97f4a7c15ull;  // guarded by mu_
};

}  // namespace pc::dns
