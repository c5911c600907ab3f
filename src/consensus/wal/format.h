#pragma once
// The WAL's on-disk record format (docs/formats/wal.md is the prose version; keep them in step).
// Pure: encoders and decoders over bytes, no I/O. Decoders never assert on their input:
// whatever a file holds, they return a value or a Corruption error that says what is wrong.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/core/types.h"
#include "core/limits.h"
#include "core/result.h"

namespace pc::consensus::wal {

// Record frame: crc32c (u32) | payload length (u32) | type (u8) | payload. Little-endian.
// The CRC covers length, type and payload, so a flipped length or type bit is caught too.
inline constexpr std::size_t kFrameHeaderSize = 9;
// The smallest unit a disk writes whole; a torn write loses whole sectors (see SegmentScan).
inline constexpr std::size_t kSectorSize = 512;

// Largest record payload we write or accept. An entry carries one Raft command (a KV PUT is
// at most 512 KiB, a txn 512 KiB); 16 MiB leaves room for batched commands and bounds what
// a corrupt length field can make the reader consider.
inline constexpr std::uint32_t kRecordPayloadSizeMax = 16 * 1024 * 1024;
static_assert(kRecordPayloadSizeMax > 2 * core::limits::txn_request_size_max);

// Members of a configuration in a snapshot marker; far above any real cluster (Consul
// recommends 3-5 voters), low enough that a corrupt count cannot make us allocate much.
inline constexpr std::uint32_t kConfMembersMax = 4096;

// "PCWL" read as a little-endian u32: the first payload bytes of every segment.
inline constexpr std::uint32_t kSegmentMagic = 0x4C574350u;
inline constexpr std::uint32_t kFormatVersion = 1;

// Append-only: the values are on disk. 0 is never a type, so zero-filled bytes (a file
// extended by a crash but never written) never parse as a record.
enum class RecordType : std::uint8_t {
  kSegmentHeader = 1,  // first record of every segment: identity + state at its start
  kEntry = 2,          // one Raft log entry
  kHardState = 3,      // term, vote, commit
  kSnapshot = 4,       // snapshot marker: the log up to here lives in a snapshot
};

// Where the log stands when a segment is created. Restating it at the head of every segment
// is what lets release_to() delete older segments without losing the hard state or the
// snapshot marker they held.
struct SegmentHeader {
  std::uint64_t seq = 0;          // segment number, consecutive from the first segment
  std::uint64_t first_index = 0;  // index the next entry appended was expected to have
  raft::HardState hard_state;
  raft::SnapshotMeta snapshot;
};

// A snapshot marker. `discard_log` is set when the snapshot replaces a log that does not
// contain it (a follower installing the leader's snapshot, Raft §7): every entry is dropped,
// not only those up to snapshot.index.
struct SnapshotMarker {
  raft::SnapshotMeta snapshot;
  bool discard_log = false;
};

// Appends one framed record to `out`. The payload must be at most kRecordPayloadSizeMax
// (callers check; that is an invariant here).
void append_record(RecordType type, std::string_view payload, std::string* out);

std::string encode_entry(const raft::Entry& entry);
std::string encode_hard_state(const raft::HardState& hard_state);
std::string encode_snapshot(const SnapshotMarker& marker);
std::string encode_segment_header(const SegmentHeader& header);

core::Result<raft::Entry> decode_entry(std::string_view payload);
core::Result<raft::HardState> decode_hard_state(std::string_view payload);
core::Result<SnapshotMarker> decode_snapshot(std::string_view payload);
core::Result<SegmentHeader> decode_segment_header(std::string_view payload);

struct Record {
  RecordType type;
  std::string_view payload;  // points into the scanned bytes
  std::size_t offset;        // of the frame in the segment
};

// The frames of one segment, as far as they check out.
struct SegmentScan {
  std::vector<Record> records;  // every good frame before the first bad one
  std::size_t valid_size = 0;   // bytes covered by `records`
  // Set when a frame at `valid_size` is bad (cut short, bad length, bad type, CRC mismatch).
  std::optional<std::string> bad_frame;
  // Whether any good frame starts after the bad one. A crash can only damage the end of the
  // last segment; a good frame after a bad one means the damage is in the middle.
  bool good_frame_after_bad = false;
  // Whether the bad frame's CRC checks out (an unknown type): written whole, so not torn.
  bool bad_frame_checksummed = false;
  // Whether the damage (from the bad frame to the next good one, or to the end) shows a
  // sector that never reached the disk while a later one did (writeback does not keep
  // order): the part of an aligned sector from the bad frame on, or a whole sector after it,
  // is zeros. etcd's WAL recognises a torn write the same way.
  bool zero_sector_in_damage = false;
};

// Splits `bytes` into frames and checks each CRC. Never fails: damage is reported in the
// result for the caller to judge (a torn tail of the last segment is expected; anything
// else is corruption).
SegmentScan scan_segment(std::string_view bytes);

}  // namespace pc::consensus::wal
