#pragma once
// The core's view of the log: the durable part (Storage) followed by the unstable part
// (entries and possibly a snapshot handed out in Ready but not yet persisted by the owner).
//
//   storage:  [snapshot][first_index ... storage.last_index]
//   unstable:                        [offset ...            last_index]  (may overlap and
//                                                                          replace storage)
//
// Invariants: applied <= committed <= last_index(); every index in
// [first_index() - 1, last_index()] has a known term.
// Thread-safety: none; owned by one Raft.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "consensus/core/storage.h"

namespace pc::consensus::raft {

// Entries and a snapshot not yet persisted. `offset` is the index entries_[0] has (or would
// have); a pending snapshot covers everything before it.
class Unstable {
 public:
  std::optional<std::uint64_t> maybe_first_index() const;
  std::optional<std::uint64_t> maybe_last_index() const;
  std::optional<std::uint64_t> maybe_term(std::uint64_t index) const;
  void stable_to(std::uint64_t index, std::uint64_t term);
  void stable_snap_to(std::uint64_t index);
  void restore(const Snapshot& snapshot);
  void truncate_and_append(const std::vector<Entry>& entries);
  // Entries [lo, hi), which must lie inside the unstable range.
  std::vector<Entry> slice(std::uint64_t lo, std::uint64_t hi) const;

  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
  std::uint64_t offset = 0;
};

class RaftLog {
 public:
  // `max_apply_bytes` bounds the committed entries one Ready hands out.
  RaftLog(const Storage* storage, std::uint64_t max_apply_bytes);

  // Follower side of AppendEntries: if our entry at `index` has `log_term`, appends what is
  // new in `entries` (truncating a conflicting suffix) and advances commit to
  // min(commit, last new index). Returns the last index known to match, or nullopt.
  std::optional<std::uint64_t> maybe_append(std::uint64_t index, std::uint64_t log_term,
                                            std::uint64_t commit,
                                            const std::vector<Entry>& entries);
  std::uint64_t append(const std::vector<Entry>& entries);
  // The first index in `entries` whose term differs from ours (or that we lack); 0 if none.
  std::uint64_t find_conflict(const std::vector<Entry>& entries) const;
  // The largest index <= `index` whose term is <= `term`, with that term (0 if compacted):
  // the fast-rejection hint. Every entry after it up to `index` has a larger term, so cannot
  // match the other log.
  std::pair<std::uint64_t, std::uint64_t> find_conflict_by_term(std::uint64_t index,
                                                                std::uint64_t term) const;

  std::vector<Entry> unstable_entries() const { return unstable_.entries; }
  // The last index the owner has persisted (every entry up to it is durable): what a leader
  // may count as its own acknowledgement.
  std::uint64_t last_stable_index() const {
    return unstable_.entries.empty() ? last_index() : unstable_.offset - 1;
  }
  bool has_unstable_entries() const { return !unstable_.entries.empty(); }
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_.snapshot; }
  bool has_next_committed_entries() const;
  std::vector<Entry> next_committed_entries() const;
  bool has_pending_snapshot() const { return unstable_.snapshot.has_value(); }

  core::Result<Snapshot> snapshot() const;
  std::uint64_t first_index() const;
  std::uint64_t last_index() const;
  std::uint64_t last_term() const;
  // kNotFound if compacted, kUnavailable if beyond the last index.
  core::Result<std::uint64_t> term(std::uint64_t index) const;
  std::uint64_t term_or_zero(std::uint64_t index) const;
  bool match_term(std::uint64_t index, std::uint64_t term) const;
  // Entries from `index` to the end, at most max_bytes (but at least one).
  core::Result<std::vector<Entry>> entries(std::uint64_t index, std::uint64_t max_bytes) const;
  core::Result<std::vector<Entry>> slice(std::uint64_t lo, std::uint64_t hi,
                                         std::uint64_t max_bytes) const;
  // Raft §5.4.1: is a log ending at (last_index, term) at least as up to date as ours?
  bool is_up_to_date(std::uint64_t last_index, std::uint64_t term) const;
  // §5.4.2: commits up to max_index only if that entry is from `term` (the leader's).
  bool maybe_commit(std::uint64_t max_index, std::uint64_t term);
  void commit_to(std::uint64_t index);
  void applied_to(std::uint64_t index);
  void stable_to(std::uint64_t index, std::uint64_t term) { unstable_.stable_to(index, term); }
  void stable_snap_to(std::uint64_t index) { unstable_.stable_snap_to(index); }
  void restore(const Snapshot& snapshot);

  std::uint64_t committed() const { return committed_; }
  std::uint64_t applied() const { return applied_; }

 private:
  const Storage* storage_;
  Unstable unstable_;
  std::uint64_t committed_ = 0;
  std::uint64_t applied_ = 0;
  std::uint64_t max_apply_bytes_;
};

}  // namespace pc::consensus::raft
