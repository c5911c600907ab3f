#pragma once
// The Raft write-ahead log: entries, hard state and snapshot markers made durable in
// segmented, checksummed files under one directory (<data-dir>/raft/wal/). docs/formats/wal.md
// documents the bytes; README.md the guarantees.
//
// Lifecycle: Wal::open() recovers what is on disk (cutting away a torn tail, refusing any
// other damage) and returns the log with a Wal positioned to append after it. The runtime
// then calls save() once per Raft Ready, or append()... append()... sync() to group-commit.
// Nothing appended is durable until sync() (or save()) returns ok.
//
// Thread-safety: none. One owner (the Raft runtime's persistence thread) calls everything.
// After any I/O error the Wal is failed: every later call returns that error, because
// after a failed write or fdatasync the file's contents are unknown (retrying an fsync can
// report success over lost data). Reopening recovers from what reached the disk.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "consensus/core/types.h"
#include "consensus/wal/env.h"
#include "consensus/wal/replay.h"
#include "core/result.h"

namespace pc::consensus::wal {

struct WalOptions {
  // A segment is closed and a new one started once it reaches this size. Smaller segments
  // free space sooner after a snapshot; larger ones roll (one extra fdatasync) less often.
  std::uint64_t segment_size_bytes = 64ull * 1024 * 1024;
  // Appended bytes are buffered in memory up to this much before a write(2).
  std::size_t write_buffer_bytes = 1024 * 1024;
  // Each segment is allocated at its full size when created (Env::create_file), so that an
  // fdatasync of appended records does not also wait to journal a new file size. Recovery
  // reads the zeros after the last record as the segment's unused end.
  bool preallocate = true;
};

class Wal {
 public:
  struct Opened;

  // Opens (creating if empty or missing) the WAL in `dir`. Damage other than a torn tail of
  // the newest segment is a Corruption error naming the file and offset; then nothing on
  // disk has been changed.
  static core::Result<Opened> open(Env& env, std::string dir, WalOptions options = {});

  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Buffers `entries` (contiguous indexes; the first in (snapshot index, last index + 1]) and
  // then `hard_state`, if given. An entry at or below the last index supersedes the log
  // from its index on: a new leader replaced a conflicting suffix. InvalidArgument for a
  // gap, a non-contiguous batch or an entry at or below the snapshot; TooLarge for an entry
  // over the record limit. Not durable until sync().
  core::Status append(std::span<const raft::Entry> entries,
                      const std::optional<raft::HardState>& hard_state = std::nullopt);

  // Writes everything buffered and fdatasyncs it (and the directory, if a segment was
  // created since the last sync): one fdatasync for all appends since the previous sync.
  core::Status sync();

  // append() then sync(): what the runtime calls once per Ready. An empty hard state (term
  // 0) or one equal to the last written is not written again.
  core::Status save(const raft::HardState& hard_state, std::span<const raft::Entry> entries);

  // Durably records that the log up to `snapshot.index` lives in a snapshot, which must
  // already be durable in the snapshot store. Entries after it are kept, unless
  // `discard_log` (a follower installing a leader's snapshot its log does not match, Raft
  // §7): then the log restarts at snapshot.index + 1. Syncs.
  core::Status save_snapshot(const raft::SnapshotMeta& snapshot, bool discard_log = false);

  // Deletes whole segments, oldest first, whose entries are all at or below `index`; the
  // newest segment always stays. `index` must not exceed the snapshot marker, since the
  // entries it frees exist only in the snapshot then. Syncs first.
  core::Status release_to(std::uint64_t index);

  std::uint64_t last_index() const { return next_index_ - 1; }
  const raft::HardState& hard_state() const { return hard_state_; }
  const raft::SnapshotMeta& snapshot() const { return snapshot_; }
  std::size_t segment_count() const { return segments_.size(); }
  const std::string& dir() const { return dir_; }

 private:
  struct Segment {
    SegmentName name;
    std::string path;
    std::uint64_t max_entry_index = 0;
    std::uint64_t valid_size = 0;  // bytes of good records when the WAL was opened
  };

  Wal(Env& env, std::string dir, WalOptions options);
  core::Status repair_tail(const SegmentReplay& tail);
  std::uint64_t preallocate_bytes() const;
  core::Status fail(core::Error error);
  core::Status write_record(RecordType type, std::string_view payload);
  core::Status flush();
  core::Status roll();
  core::Status start_segment(SegmentName name);

  Env& env_;
  std::string dir_;
  WalOptions options_;
  std::optional<core::Error> failed_;

  std::vector<Segment> segments_;  // oldest first; back() is open for appending
  std::unique_ptr<WritableFile> file_;
  std::uint64_t segment_size_ = 0;  // record bytes of the open segment, written and buffered
  std::string buffer_;              // appended, not yet written
  bool unsynced_ = false;           // bytes written or buffered since the last fdatasync
  bool dir_unsynced_ = false;       // a segment was created since the last directory fsync

  // The state the next segment header restates; mirrors Replay's, record for record.
  std::uint64_t next_index_ = 1;
  raft::HardState hard_state_;
  raft::SnapshotMeta snapshot_;
};

struct Wal::Opened {
  std::unique_ptr<Wal> wal;
  Recovered recovered;
};

}  // namespace pc::consensus::wal
