#include "consensus/wal/replay.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>

namespace pc::consensus::wal {
namespace {

using core::Code;
using core::Result;
using core::Status;

core::Error corruption(const std::string& file, std::size_t offset, std::string_view why) {
  return core::make_error(Code::kCorruption, fmt::format("{} at offset {}: {}", file, offset, why));
}

std::optional<std::uint64_t> parse_hex16(std::string_view digits) {
  if (digits.size() != 16) return std::nullopt;
  for (char c : digits) {
    // from_chars accepts upper case; we only ever write lower case.
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string segment_file_name(const SegmentName& name) {
  return fmt::format("{:016x}-{:016x}.wal", name.seq, name.first_index);
}

std::optional<SegmentName> parse_segment_file_name(std::string_view file_name) {
  // 16 + 1 + 16 + 4 characters: "0000000000000001-0000000000000001.wal".
  if (file_name.size() != 37 || file_name[16] != '-' || file_name.substr(33) != ".wal") {
    return std::nullopt;
  }
  auto seq = parse_hex16(file_name.substr(0, 16));
  auto first = parse_hex16(file_name.substr(17, 16));
  if (!seq || !first) return std::nullopt;
  return SegmentName{*seq, *first};
}

std::optional<std::string> check_entry_follows(std::uint64_t index,
                                               const raft::SnapshotMeta& snapshot,
                                               std::uint64_t next_index) {
  // An entry at or below the snapshot would rewrite compacted, committed history.
  if (index <= snapshot.index) {
    return fmt::format("entry {} at or below the snapshot marker {}", index, snapshot.index);
  }
  // Above next_index would leave a hole; at or below it supersedes the suffix from there.
  if (index > next_index) {
    return fmt::format("index gap: entry {} where at most {} may follow", index, next_index);
  }
  return std::nullopt;
}

std::optional<std::string> check_snapshot_follows(const raft::SnapshotMeta& incoming,
                                                  const raft::SnapshotMeta& current) {
  // Snapshots only move forward: the log before `current` may already be deleted.
  if (incoming.index < current.index) {
    return fmt::format("snapshot marker {} below the previous marker {}", incoming.index,
                       current.index);
  }
  return std::nullopt;
}

std::uint64_t next_index_after_snapshot(const SnapshotMarker& marker, std::uint64_t next_index) {
  std::uint64_t after = marker.snapshot.index + 1;
  return marker.discard_log ? after : std::max(next_index, after);
}

Status Replay::check_header(const SegmentHeader& header, const SegmentName& name) {
  if (header.seq != name.seq || header.first_index != name.first_index) {
    return core::make_error(
        Code::kCorruption,
        fmt::format("header says seq {} first index {}, the file name says seq {} first index {}",
                    header.seq, header.first_index, name.seq, name.first_index));
  }
  if (segments_ == 0) return core::ok();
  // The header restates the state at the moment the segment was created; the previous
  // segment must have left exactly that state. A mismatch means a segment is missing or
  // its tail was lost.
  if (header.seq != last_seq_ + 1) {
    return core::make_error(Code::kCorruption, fmt::format("missing segment: seq {} follows seq {}",
                                                           header.seq, last_seq_));
  }
  if (header.first_index != next_index_) {
    return core::make_error(
        Code::kCorruption,
        fmt::format("index gap: segment starts at index {}, the previous one ends before {}",
                    header.first_index, next_index_));
  }
  if (!(header.hard_state == state_.hard_state) || !(header.snapshot == state_.snapshot)) {
    return core::make_error(Code::kCorruption,
                            "hard state or snapshot marker differs from the previous segment's");
  }
  return core::ok();
}

Status Replay::apply(const Record& record, const std::string& file, SegmentReplay* out) {
  auto fail = [&](const core::Error& e) { return corruption(file, record.offset, e.message); };
  switch (record.type) {
    case RecordType::kSegmentHeader:
      return fail(core::make_error(Code::kCorruption, "a second segment header"));
    case RecordType::kEntry: {
      auto entry = decode_entry(record.payload);
      if (!entry) return fail(entry.error());
      if (auto why = check_entry_follows(entry->index, state_.snapshot, next_index_)) {
        return corruption(file, record.offset, *why);
      }
      auto& entries = state_.entries;
      if (!entries.empty() && entry->index <= entries.back().index) {
        // A new leader replaced the suffix from here (Raft §5.3): the later record wins.
        if (entry->index <= entries.front().index) {
          entries.clear();
        } else {
          entries.resize(entry->index - entries.front().index);
        }
      }
      next_index_ = entry->index + 1;
      out->max_entry_index = std::max(out->max_entry_index, entry->index);
      entries.push_back(std::move(*entry));
      return core::ok();
    }
    case RecordType::kHardState: {
      auto hs = decode_hard_state(record.payload);
      if (!hs) return fail(hs.error());
      state_.hard_state = *hs;
      return core::ok();
    }
    case RecordType::kSnapshot: {
      auto marker = decode_snapshot(record.payload);
      if (!marker) return fail(marker.error());
      if (auto why = check_snapshot_follows(marker->snapshot, state_.snapshot)) {
        return corruption(file, record.offset, *why);
      }
      auto& entries = state_.entries;
      std::uint64_t m = marker->snapshot.index;
      if (marker->discard_log || (!entries.empty() && entries.back().index <= m)) {
        entries.clear();
      } else if (!entries.empty() && entries.front().index <= m) {
        entries.erase(entries.begin(),
                      entries.begin() + static_cast<std::ptrdiff_t>(m + 1 - entries.front().index));
      }
      next_index_ = next_index_after_snapshot(*marker, next_index_);
      state_.snapshot = std::move(marker->snapshot);
      return core::ok();
    }
  }
  return corruption(file, record.offset, "unknown record type");
}

Result<SegmentReplay> Replay::add_segment(const SegmentName& name, std::string_view bytes,
                                          bool last, const std::string& file) {
  SegmentReplay out;
  SegmentScan scan = scan_segment(bytes);
  out.valid_size = scan.valid_size;
  if (scan.bad_frame) {
    // Only the newest segment can end in a write cut short by a crash: older ones were
    // fdatasynced whole before the next was created. A bad frame whose CRC holds, or a good
    // frame after the bad one, means damage inside written data, never a torn write, unless
    // a whole sector between them is zeros: then a sector of the last, unsynced write never
    // reached the disk while a later one did, and nothing from there on was acknowledged.
    bool damaged_inside = scan.good_frame_after_bad && !scan.zero_sector_in_damage;
    if (!last || damaged_inside || scan.bad_frame_checksummed) {
      std::string why = *scan.bad_frame;
      if (damaged_inside) why += "; good records follow, so this is not a torn tail";
      if (!last) why += "; not the last segment, so this is not a torn tail";
      return corruption(file, scan.valid_size, why);
    }
    out.torn_tail = fmt::format("{} at offset {}: {}{}", file, scan.valid_size, *scan.bad_frame,
                                scan.good_frame_after_bad
                                    ? "; a zero-filled sector before the next good record: "
                                      "a write that reached the disk out of order"
                                    : "");
  }
  if (scan.records.empty()) {
    if (!last) return corruption(file, 0, "segment without a header");
    return out;  // created by a roll that crashed before its header was written
  }
  const Record& first = scan.records.front();
  if (first.type != RecordType::kSegmentHeader) {
    return corruption(file, 0, "first record is not a segment header");
  }
  auto header = decode_segment_header(first.payload);
  if (!header) return corruption(file, 0, header.error().message);
  if (auto s = check_header(*header, name); !s) return corruption(file, 0, s.error().message);
  out.has_header = true;
  if (segments_ == 0) {
    // The oldest segment left: its header is where the log starts (older segments may have
    // been released after a snapshot).
    next_index_ = header->first_index;
    state_.hard_state = header->hard_state;
    state_.snapshot = header->snapshot;
  }
  ++segments_;
  last_seq_ = header->seq;
  for (std::size_t i = 1; i < scan.records.size(); ++i) {
    if (auto s = apply(scan.records[i], file, &out); !s) return s.error();
  }
  return out;
}

Result<Recovered> Replay::finish() {
  const auto& entries = state_.entries;
  // After a release, the oldest segment can start above the snapshot marker it restates;
  // a later marker must then cover the gap, or entries are missing.
  if (!entries.empty() && entries.front().index != state_.snapshot.index + 1) {
    return core::make_error(
        Code::kCorruption,
        fmt::format("entries {} to {} are missing: the log starts at {} after snapshot {}",
                    state_.snapshot.index + 1, entries.front().index - 1, entries.front().index,
                    state_.snapshot.index));
  }
  if (entries.empty() && next_index_ != state_.snapshot.index + 1 && segments_ > 0) {
    return core::make_error(
        Code::kCorruption,
        fmt::format("entries {} to {} are missing: none after snapshot {}",
                    state_.snapshot.index + 1, next_index_ - 1, state_.snapshot.index));
  }
  return std::move(state_);
}

}  // namespace pc::consensus::wal
