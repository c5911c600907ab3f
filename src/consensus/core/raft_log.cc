#include "consensus/core/raft_log.h"

#include <algorithm>

#include "core/assert.h"

namespace pc::consensus::raft {

using core::Code;
using core::make_error;

// --- Unstable ---

std::optional<std::uint64_t> Unstable::maybe_first_index() const {
  if (snapshot) return snapshot->meta.index + 1;
  return std::nullopt;
}

std::optional<std::uint64_t> Unstable::maybe_last_index() const {
  if (!entries.empty()) return offset + entries.size() - 1;
  if (snapshot) return snapshot->meta.index;
  return std::nullopt;
}

std::optional<std::uint64_t> Unstable::maybe_term(std::uint64_t index) const {
  if (index < offset) {
    if (snapshot && snapshot->meta.index == index) return snapshot->meta.term;
    return std::nullopt;
  }
  auto last = maybe_last_index();
  if (!last || index > *last) return std::nullopt;
  if (entries.empty()) return std::nullopt;  // index == snapshot index, handled above
  return entries[index - offset].term;
}

void Unstable::stable_to(std::uint64_t index, std::uint64_t term) {
  auto t = maybe_term(index);
  // Only when the entry is still the one that was persisted: a newer leader may have
  // replaced it in the meantime, and that replacement is not durable yet.
  if (!t || *t != term || index < offset) return;
  entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(index + 1 - offset));
  offset = index + 1;
}

void Unstable::stable_snap_to(std::uint64_t index) {
  if (snapshot && snapshot->meta.index == index) snapshot.reset();
}

void Unstable::restore(const Snapshot& s) {
  offset = s.meta.index + 1;
  entries.clear();
  snapshot = s;
}

void Unstable::truncate_and_append(const std::vector<Entry>& ents) {
  if (ents.empty()) return;
  std::uint64_t after = ents.front().index;
  if (after == offset + entries.size()) {
    entries.insert(entries.end(), ents.begin(), ents.end());
  } else if (after <= offset) {
    // Replaces everything unstable (and, once persisted, the storage suffix from `after`).
    offset = after;
    entries = ents;
  } else {
    entries.resize(after - offset);
    entries.insert(entries.end(), ents.begin(), ents.end());
  }
}

std::vector<Entry> Unstable::slice(std::uint64_t lo, std::uint64_t hi) const {
  PC_ASSERT(lo <= hi && lo >= offset && hi <= offset + entries.size(),
            "unstable slice [{}, {}) outside [{}, {})", lo, hi, offset, offset + entries.size());
  return std::vector<Entry>(entries.begin() + static_cast<std::ptrdiff_t>(lo - offset),
                            entries.begin() + static_cast<std::ptrdiff_t>(hi - offset));
}

// --- RaftLog ---

RaftLog::RaftLog(const Storage* storage, std::uint64_t max_apply_bytes)
    : storage_(storage), max_apply_bytes_(max_apply_bytes) {
  PC_ASSERT(storage_ != nullptr, "RaftLog needs a storage");
  unstable_.offset = storage_->last_index() + 1;
  // Everything up to the snapshot is committed and applied by definition.
  committed_ = storage_->first_index() - 1;
  applied_ = committed_;
}

std::optional<std::uint64_t> RaftLog::maybe_append(std::uint64_t index, std::uint64_t log_term,
                                                   std::uint64_t commit,
                                                   const std::vector<Entry>& ents) {
  if (!match_term(index, log_term)) return std::nullopt;
  std::uint64_t last_new = index + ents.size();
  std::uint64_t conflict = find_conflict(ents);
  if (conflict != 0) {
    // Invariant: a committed entry is never overwritten (State Machine Safety).
    PC_ASSERT(conflict > committed_, "entry {} conflicts with committed {}", conflict, committed_);
    std::vector<Entry> tail(ents.begin() + static_cast<std::ptrdiff_t>(conflict - index - 1),
                            ents.end());
    append(tail);
  }
  commit_to(std::min(commit, last_new));
  return last_new;
}

std::uint64_t RaftLog::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return last_index();
  PC_ASSERT(ents.front().index > committed_, "append at {} below commit {}", ents.front().index,
            committed_);
  unstable_.truncate_and_append(ents);
  return last_index();
}

std::uint64_t RaftLog::find_conflict(const std::vector<Entry>& ents) const {
  for (const Entry& e : ents) {
    if (!match_term(e.index, e.term)) return e.index;
  }
  return 0;
}

std::pair<std::uint64_t, std::uint64_t> RaftLog::find_conflict_by_term(std::uint64_t index,
                                                                       std::uint64_t term) const {
  for (; index > 0; --index) {
    auto t = this->term(index);
    if (!t) return {index, 0};  // compacted (or beyond): nothing better is known
    if (*t <= term) return {index, *t};
  }
  return {0, 0};
}

bool RaftLog::has_next_committed_entries() const {
  if (has_pending_snapshot()) return false;  // the snapshot must be applied first
  std::uint64_t off = std::max(applied_ + 1, first_index());
  return committed_ + 1 > off;
}

std::vector<Entry> RaftLog::next_committed_entries() const {
  if (!has_next_committed_entries()) return {};
  std::uint64_t off = std::max(applied_ + 1, first_index());
  auto ents = slice(off, committed_ + 1, max_apply_bytes_);
  PC_ASSERT(ents.has_value(), "committed entries [{}, {}] unavailable: {}", off, committed_,
            ents.error().message);
  return std::move(ents).value();
}

core::Result<Snapshot> RaftLog::snapshot() const {
  if (unstable_.snapshot) return *unstable_.snapshot;
  return storage_->snapshot();
}

std::uint64_t RaftLog::first_index() const {
  if (auto i = unstable_.maybe_first_index()) return *i;
  return storage_->first_index();
}

std::uint64_t RaftLog::last_index() const {
  if (auto i = unstable_.maybe_last_index()) return *i;
  return storage_->last_index();
}

std::uint64_t RaftLog::last_term() const {
  auto t = term(last_index());
  PC_ASSERT(t.has_value(), "term of the last index {} unknown", last_index());
  return *t;
}

core::Result<std::uint64_t> RaftLog::term(std::uint64_t index) const {
  std::uint64_t dummy = first_index() - 1;
  if (index < dummy) return make_error(Code::kNotFound, "compacted");
  if (index > last_index()) return make_error(Code::kUnavailable, "beyond the last index");
  if (auto t = unstable_.maybe_term(index)) return *t;
  return storage_->term(index);
}

std::uint64_t RaftLog::term_or_zero(std::uint64_t index) const {
  auto t = term(index);
  return t ? *t : 0;
}

bool RaftLog::match_term(std::uint64_t index, std::uint64_t term) const {
  auto t = this->term(index);
  return t && *t == term;
}

core::Result<std::vector<Entry>> RaftLog::entries(std::uint64_t index,
                                                  std::uint64_t max_bytes) const {
  if (index > last_index()) return std::vector<Entry>{};
  return slice(index, last_index() + 1, max_bytes);
}

core::Result<std::vector<Entry>> RaftLog::slice(std::uint64_t lo, std::uint64_t hi,
                                                std::uint64_t max_bytes) const {
  PC_ASSERT(lo <= hi, "slice [{}, {})", lo, hi);
  if (lo < first_index()) return make_error(Code::kNotFound, "compacted");
  PC_ASSERT(hi <= last_index() + 1, "slice [{}, {}) beyond last {}", lo, hi, last_index());
  std::vector<Entry> out;
  if (lo == hi) return out;
  if (lo < unstable_.offset) {
    auto stored = storage_->entries(lo, std::min(hi, unstable_.offset), max_bytes);
    if (!stored) return stored.error();
    out = std::move(stored).value();
    // Storage stopped early (size limit): do not add unstable entries after a gap.
    if (out.size() < std::min(hi, unstable_.offset) - lo) return out;
  }
  if (hi > unstable_.offset) {
    auto more = unstable_.slice(std::max(lo, unstable_.offset), hi);
    out.insert(out.end(), more.begin(), more.end());
  }
  // Apply the byte limit over the whole result, keeping at least one entry.
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    bytes += entry_size(out[i]);
    if (i > 0 && bytes > max_bytes) {
      out.resize(i);
      break;
    }
  }
  return out;
}

bool RaftLog::is_up_to_date(std::uint64_t last, std::uint64_t term) const {
  return term > last_term() || (term == last_term() && last >= last_index());
}

bool RaftLog::maybe_commit(std::uint64_t max_index, std::uint64_t term) {
  if (max_index > committed_ && term_or_zero(max_index) == term) {
    commit_to(max_index);
    return true;
  }
  return false;
}

void RaftLog::commit_to(std::uint64_t index) {
  if (index <= committed_) return;  // commit never decreases
  PC_ASSERT(index <= last_index(), "commit {} beyond last index {} (corrupt or lost log?)", index,
            last_index());
  committed_ = index;
}

void RaftLog::applied_to(std::uint64_t index) {
  if (index == 0) return;
  // Invariant: applied <= committed, and applied never goes back.
  PC_ASSERT(index <= committed_ && index >= applied_, "applied {} outside [{}, {}]", index,
            applied_, committed_);
  applied_ = index;
}

void RaftLog::restore(const Snapshot& s) {
  committed_ = s.meta.index;
  unstable_.restore(s);
}

}  // namespace pc::consensus::raft
