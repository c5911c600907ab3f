#pragma once
// Rebuilds the log from segment bytes (pure: no I/O). Wal::open feeds it the files it reads;
// the fuzz target feeds it arbitrary bytes. Every rule that decides whether a file is
// acceptable lives here, so the fuzzer exercises exactly what recovery runs.
//
// Thread-safety: one owner. Invariant: when `entries` is non-empty, their indexes are
// contiguous and next_index() == entries.back().index + 1.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/core/types.h"
#include "consensus/wal/format.h"
#include "core/result.h"

namespace pc::consensus::wal {

// What a WAL holds after recovery.
struct Recovered {
  raft::HardState hard_state;   // the last one written (empty if never written)
  raft::SnapshotMeta snapshot;  // the last snapshot marker (index 0 if none)
  // The log after the snapshot marker: indexes snapshot.index + 1 ... last, contiguous.
  std::vector<raft::Entry> entries;
};

// Segment files are "<seq>-<first_index>.wal", both as 16 lowercase hex digits. The sequence
// number orders segments and exposes a missing one; the first index (the index the next
// entry was expected to have when the segment was created) lets a reader find where an index
// lives. Names by index alone cannot order segments: after a new leader truncates the log, a
// later segment can start at a lower index than an earlier one (etcd names its files the
// same way, for the same reason).
struct SegmentName {
  std::uint64_t seq = 0;
  std::uint64_t first_index = 0;
  bool operator==(const SegmentName&) const = default;
};
std::string segment_file_name(const SegmentName& name);
std::optional<SegmentName> parse_segment_file_name(std::string_view file_name);

// What recovery learnt about one segment.
struct SegmentReplay {
  std::size_t valid_size = 0;            // bytes of good records; the file is cut here if torn
  std::optional<std::string> torn_tail;  // why the tail was dropped (last segment only)
  bool has_header = false;               // false: the segment is all torn tail
  std::uint64_t max_entry_index = 0;     // largest entry index written in it (0: none)
};

class Replay {
 public:
  // Feeds the next segment, in sequence order. `last`: the newest segment, where a damaged
  // tail (a write cut short by a crash) is expected and reported rather than refused. Any
  // other damage is a Corruption error naming `file` and the byte offset.
  core::Result<SegmentReplay> add_segment(const SegmentName& name, std::string_view bytes,
                                          bool last, const std::string& file);

  // Checks the whole and hands the state over. Call once, after the last segment.
  core::Result<Recovered> finish();

  // The index the next appended entry must not exceed (last index + 1).
  std::uint64_t next_index() const { return next_index_; }
  const raft::HardState& hard_state() const { return state_.hard_state; }
  const raft::SnapshotMeta& snapshot() const { return state_.snapshot; }
  std::uint64_t segments() const { return segments_; }
  std::uint64_t last_seq() const { return last_seq_; }

 private:
  core::Status apply(const Record& record, const std::string& file, SegmentReplay* out);
  core::Status check_header(const SegmentHeader& header, const SegmentName& name);

  Recovered state_;
  std::uint64_t next_index_ = 1;
  std::uint64_t segments_ = 0;
  std::uint64_t last_seq_ = 0;
};

// The state rules shared by the writer and the reader, so both agree on what each record
// does. Returns an error message when `entry` cannot follow (the writer reports it as
// InvalidArgument, the reader as Corruption).
std::optional<std::string> check_entry_follows(std::uint64_t index,
                                               const raft::SnapshotMeta& snapshot,
                                               std::uint64_t next_index);
std::optional<std::string> check_snapshot_follows(const raft::SnapshotMeta& incoming,
                                                  const raft::SnapshotMeta& current);
// next_index after a snapshot marker.
std::uint64_t next_index_after_snapshot(const SnapshotMarker& marker, std::uint64_t next_index);

}  // namespace pc::consensus::wal
