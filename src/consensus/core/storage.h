#pragma once
// What the core reads of the durable state: the log up to the last persisted entry, the
// hard state and the latest snapshot. The core only reads Storage; the owner writes it while
// handling a Ready (persist first, then advance). In the shape of etcd-io/raft storage.go.
//
// Thread-safety: none; Storage is owned by the same single owner as the core that reads it.
#include <cstdint>
#include <vector>

#include "consensus/core/message.h"
#include "consensus/core/types.h"
#include "core/result.h"

namespace pc::consensus::raft {

// The bytes an entry counts for against max_size_per_msg and similar limits. The fixed part
// stands for term, index and type so empty entries still cost something.
inline std::uint64_t entry_size(const Entry& entry) {
  return entry.data.size() + 24;
}

// Errors Storage returns, by code (the core tells them apart):
//   kNotFound    — the index was compacted away (it is inside the snapshot): send a snapshot.
//   kUnavailable — the index is beyond the last entry, or the snapshot is being made.
class Storage {
 public:
  struct InitialState {
    HardState hard_state;
    ConfState conf_state;
  };

  virtual ~Storage() = default;
  virtual InitialState initial_state() const = 0;
  // Entries [lo, hi). Returns at least one entry when lo < hi, and stops before the total
  // entry_size() would exceed max_bytes.
  virtual core::Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                                   std::uint64_t max_bytes) const = 0;
  // The term of entry `index`, which may be the snapshot's own index (first_index() - 1).
  virtual core::Result<std::uint64_t> term(std::uint64_t index) const = 0;
  // The index of the first entry still available (the snapshot index + 1).
  virtual std::uint64_t first_index() const = 0;
  virtual std::uint64_t last_index() const = 0;
  virtual core::Result<Snapshot> snapshot() const = 0;
};

// Storage in memory: the tests' and the simulation's, and the runtime's cache of the WAL.
// Invariant: entries_[0] is a placeholder holding the snapshot's index and term, so
// entries_[i] has index entries_[0].index + i.
class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  InitialState initial_state() const override;
  core::Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                           std::uint64_t max_bytes) const override;
  core::Result<std::uint64_t> term(std::uint64_t index) const override;
  std::uint64_t first_index() const override;
  std::uint64_t last_index() const override;
  core::Result<Snapshot> snapshot() const override;

  void set_hard_state(const HardState& hard_state) { hard_state_ = hard_state; }
  const HardState& hard_state() const { return hard_state_; }
  // Sets the membership reported by initial_state() for a fresh cluster (bootstrap).
  void set_conf_state(const ConfState& conf) { snapshot_.meta.conf = conf; }
  // Appends entries, replacing any existing suffix they conflict with. Entries below
  // first_index() are ignored (already covered by the snapshot). Asserts on a gap: the core
  // never hands out entries that do not follow the log.
  void append(const std::vector<Entry>& entries);
  // Replaces the whole log with the snapshot. kConflict if it is older than ours.
  core::Status apply_snapshot(const Snapshot& snapshot);
  // Records a snapshot of the owner's state machine at `index` (<= last_index(), and not
  // older than the current snapshot). Does not drop entries: compact() does.
  core::Result<Snapshot> create_snapshot(std::uint64_t index, const ConfState& conf,
                                         std::string data);
  // Drops the entries before `compact_index` (which must be <= last_index()). Compacting at
  // or below the first index is a no-op.
  void compact(std::uint64_t compact_index);

 private:
  std::uint64_t offset() const { return entries_[0].index; }

  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> entries_;
};

}  // namespace pc::consensus::raft
