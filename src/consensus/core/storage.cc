#include "consensus/core/storage.h"

#include <fmt/core.h>

#include "core/assert.h"

namespace pc::consensus::raft {

using core::Code;
using core::make_error;

MemoryStorage::MemoryStorage() : entries_(1) {}

Storage::InitialState MemoryStorage::initial_state() const {
  return InitialState{hard_state_, snapshot_.meta.conf};
}

core::Result<std::vector<Entry>> MemoryStorage::entries(std::uint64_t lo, std::uint64_t hi,
                                                        std::uint64_t max_bytes) const {
  if (lo <= offset()) return make_error(Code::kNotFound, "compacted");
  if (hi > last_index() + 1) {
    return make_error(Code::kUnavailable, fmt::format("entries up to {} of {}", hi, last_index()));
  }
  std::vector<Entry> out;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset()];
    bytes += entry_size(e);
    // Always return the first entry, so a single oversized entry still makes progress.
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

core::Result<std::uint64_t> MemoryStorage::term(std::uint64_t index) const {
  if (index < offset()) return make_error(Code::kNotFound, "compacted");
  if (index - offset() >= entries_.size()) return make_error(Code::kUnavailable, "unavailable");
  return entries_[index - offset()].term;
}

std::uint64_t MemoryStorage::first_index() const {
  return offset() + 1;
}

std::uint64_t MemoryStorage::last_index() const {
  return offset() + entries_.size() - 1;
}

core::Result<Snapshot> MemoryStorage::snapshot() const {
  return snapshot_;
}

void MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  std::uint64_t first = first_index();
  std::uint64_t last = entries.back().index;
  if (last < first) return;  // all compacted
  // Skip the prefix that is already inside the snapshot.
  std::size_t skip = entries.front().index < first ? first - entries.front().index : 0;
  std::uint64_t start = entries[skip].index;
  PC_ASSERT(start <= last_index() + 1, "gap: appending {} after last {}", start, last_index());
  entries_.resize(start - offset());
  for (std::size_t i = skip; i < entries.size(); ++i) {
    PC_ASSERT(entries[i].index == start + (i - skip), "non-contiguous entries");
    entries_.push_back(entries[i]);
  }
}

core::Status MemoryStorage::apply_snapshot(const Snapshot& snapshot) {
  if (snapshot.meta.index <= snapshot_.meta.index && !snapshot_.empty()) {
    return make_error(Code::kConflict, "snapshot out of date");
  }
  snapshot_ = snapshot;
  entries_.assign(1, Entry{snapshot.meta.term, snapshot.meta.index, EntryType::kNormal, {}});
  return core::ok();
}

core::Result<Snapshot> MemoryStorage::create_snapshot(std::uint64_t index, const ConfState& conf,
                                                      std::string data) {
  if (index <= snapshot_.meta.index) return make_error(Code::kConflict, "snapshot out of date");
  PC_ASSERT(index <= last_index(), "snapshot {} beyond last index {}", index, last_index());
  snapshot_.meta.index = index;
  snapshot_.meta.term = entries_[index - offset()].term;
  snapshot_.meta.conf = conf;
  snapshot_.data = std::move(data);
  return snapshot_;
}

void MemoryStorage::compact(std::uint64_t compact_index) {
  if (compact_index <= offset()) return;
  PC_ASSERT(compact_index <= last_index(), "compact {} beyond last index {}", compact_index,
            last_index());
  std::size_t drop = compact_index - offset();
  // The entry at compact_index becomes the placeholder; its data is no longer needed.
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  entries_[0].data.clear();
  entries_[0].type = EntryType::kNormal;
}

}  // namespace pc::consensus::raft
