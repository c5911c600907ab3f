#include "consensus/wal/format.h"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

#include "core/assert.h"
#include "core/crc32c.h"

namespace pc::consensus::wal {
namespace {

using core::Code;
using core::Result;

void put_u8(std::string* out, std::uint8_t v) {
  out->push_back(static_cast<char>(v));
}

void put_u32(std::string* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

void put_u64(std::string* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

std::uint32_t load_u32(std::string_view b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(b[at + i]);
  return v;
}

// Reads fixed-width fields from a payload, remembering the first shortfall so decoders can
// read every field and check once.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(bytes_[pos_++]);
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = load_u32(bytes_, pos_);
    pos_ += 4;
    return v;
  }
  std::uint64_t u64() {
    if (!need(8)) return 0;
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(bytes_[pos_ + i]);
    pos_ += 8;
    return v;
  }
  std::string_view rest() {
    std::string_view r = bytes_.substr(pos_);
    pos_ = bytes_.size();
    return r;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  bool need(std::size_t n) {
    if (!ok_ || bytes_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

core::Error corrupt(std::string_view what, std::string_view why) {
  return core::make_error(Code::kCorruption, fmt::format("{} record: {}", what, why));
}

// A fixed-size payload must be consumed exactly: trailing bytes mean a format we do not
// know, which we refuse rather than half-read.
core::Status finish(const Reader& r, std::string_view what) {
  if (!r.ok()) return corrupt(what, "payload too short");
  if (!r.at_end()) return corrupt(what, "unexpected bytes after the last field");
  return core::ok();
}

void put_hard_state(std::string* out, const raft::HardState& hs) {
  put_u64(out, hs.term);
  put_u64(out, hs.vote);
  put_u64(out, hs.commit);
}

raft::HardState get_hard_state(Reader& r) {
  raft::HardState hs;
  hs.term = r.u64();
  hs.vote = r.u64();
  hs.commit = r.u64();
  return hs;
}

void put_ids(std::string* out, const std::vector<raft::NodeId>& ids) {
  put_u32(out, static_cast<std::uint32_t>(ids.size()));
  for (raft::NodeId id : ids) put_u64(out, id);
}

bool get_ids(Reader& r, std::vector<raft::NodeId>* ids) {
  std::uint32_t count = r.u32();
  if (!r.ok() || count > kConfMembersMax) return false;
  ids->reserve(count);
  for (std::uint32_t i = 0; i < count && r.ok(); ++i) ids->push_back(r.u64());
  return r.ok();
}

void put_snapshot_meta(std::string* out, const raft::SnapshotMeta& meta) {
  PC_ASSERT(meta.conf.voters.size() <= kConfMembersMax &&
                meta.conf.learners.size() <= kConfMembersMax &&
                meta.conf.voters_outgoing.size() <= kConfMembersMax,
            "configuration too large for a snapshot marker");
  put_u64(out, meta.index);
  put_u64(out, meta.term);
  put_ids(out, meta.conf.voters);
  put_ids(out, meta.conf.learners);
  put_ids(out, meta.conf.voters_outgoing);
}

bool get_snapshot_meta(Reader& r, raft::SnapshotMeta* meta) {
  meta->index = r.u64();
  meta->term = r.u64();
  return get_ids(r, &meta->conf.voters) && get_ids(r, &meta->conf.learners) &&
         get_ids(r, &meta->conf.voters_outgoing);
}

bool known_type(std::uint8_t t) {
  return t >= static_cast<std::uint8_t>(RecordType::kSegmentHeader) &&
         t <= static_cast<std::uint8_t>(RecordType::kSnapshot);
}

enum class Frame { kGood, kHeaderCut, kLengthOverMax, kPayloadCut, kBadChecksum, kUnknownType };

// Checks the frame at `at`; when good, sets `*record`. Cheap on failure (no allocation),
// because the resynchronising scan below calls it at every offset of a damaged tail.
Frame check_frame(std::string_view bytes, std::size_t at, Record* record) {
  std::size_t left = bytes.size() - at;
  if (left < kFrameHeaderSize) return Frame::kHeaderCut;
  std::uint32_t length = load_u32(bytes, at + 4);
  if (length > kRecordPayloadSizeMax) return Frame::kLengthOverMax;
  if (length > left - kFrameHeaderSize) return Frame::kPayloadCut;
  std::string_view covered = bytes.substr(at + 4, 5 + std::size_t{length});
  if (core::crc32c(covered) != load_u32(bytes, at)) return Frame::kBadChecksum;
  // Checked after the CRC: a good CRC over an unknown type is a newer format, not damage.
  auto type = static_cast<std::uint8_t>(bytes[at + 8]);
  if (!known_type(type)) return Frame::kUnknownType;
  *record = Record{static_cast<RecordType>(type), covered.substr(5), at};
  return Frame::kGood;
}

std::string describe(Frame frame, std::string_view bytes, std::size_t at) {
  std::size_t left = bytes.size() - at;
  switch (frame) {
    case Frame::kGood: return "good";
    case Frame::kHeaderCut:
      return fmt::format("frame header cut short ({} of {} bytes)", left, kFrameHeaderSize);
    case Frame::kLengthOverMax:
      return fmt::format("payload length {} over the limit {}", load_u32(bytes, at + 4),
                         kRecordPayloadSizeMax);
    case Frame::kPayloadCut:
      return fmt::format("payload cut short ({} of {} bytes)", left - kFrameHeaderSize,
                         load_u32(bytes, at + 4));
    case Frame::kBadChecksum: {
      std::size_t length = load_u32(bytes, at + 4);
      return fmt::format("checksum mismatch (stored {:08x}, computed {:08x})", load_u32(bytes, at),
                         core::crc32c(bytes.substr(at + 4, 5 + length)));
    }
    case Frame::kUnknownType:
      return fmt::format("unknown record type {}", static_cast<std::uint8_t>(bytes[at + 8]));
  }
  return "unknown";
}

}  // namespace

void append_record(RecordType type, std::string_view payload, std::string* out) {
  PC_ASSERT(payload.size() <= kRecordPayloadSizeMax, "record payload of {} bytes", payload.size());
  std::size_t start = out->size();
  put_u32(out, 0);  // CRC, filled in below once the covered bytes are in place
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u8(out, static_cast<std::uint8_t>(type));
  out->append(payload);
  std::uint32_t crc = core::crc32c(std::string_view(*out).substr(start + 4));
  for (int i = 0; i < 4; ++i) (*out)[start + i] = static_cast<char>((crc >> (8 * i)) & 0xFFu);
}

std::string encode_entry(const raft::Entry& entry) {
  std::string out;
  out.reserve(17 + entry.data.size());
  put_u64(&out, entry.term);
  put_u64(&out, entry.index);
  put_u8(&out, static_cast<std::uint8_t>(entry.type));
  out.append(entry.data);
  return out;
}

std::string encode_hard_state(const raft::HardState& hard_state) {
  std::string out;
  put_hard_state(&out, hard_state);
  return out;
}

std::string encode_snapshot(const SnapshotMarker& marker) {
  std::string out;
  put_snapshot_meta(&out, marker.snapshot);
  put_u8(&out, marker.discard_log ? 1 : 0);
  return out;
}

std::string encode_segment_header(const SegmentHeader& header) {
  std::string out;
  put_u32(&out, kSegmentMagic);
  put_u32(&out, kFormatVersion);
  put_u64(&out, header.seq);
  put_u64(&out, header.first_index);
  put_hard_state(&out, header.hard_state);
  put_snapshot_meta(&out, header.snapshot);
  return out;
}

Result<raft::Entry> decode_entry(std::string_view payload) {
  Reader r(payload);
  raft::Entry entry;
  entry.term = r.u64();
  entry.index = r.u64();
  std::uint8_t type = r.u8();
  if (!r.ok()) return corrupt("entry", "payload too short");
  if (type > static_cast<std::uint8_t>(raft::EntryType::kConfChange)) {
    return corrupt("entry", fmt::format("unknown entry type {}", type));
  }
  entry.type = static_cast<raft::EntryType>(type);
  entry.data = std::string(r.rest());
  return entry;
}

Result<raft::HardState> decode_hard_state(std::string_view payload) {
  Reader r(payload);
  raft::HardState hs = get_hard_state(r);
  if (auto s = finish(r, "hard state"); !s) return s.error();
  return hs;
}

Result<SnapshotMarker> decode_snapshot(std::string_view payload) {
  Reader r(payload);
  SnapshotMarker marker;
  bool ids_ok = get_snapshot_meta(r, &marker.snapshot);
  std::uint8_t flags = r.u8();
  if (!ids_ok) return corrupt("snapshot", "bad configuration member list");
  if (auto s = finish(r, "snapshot"); !s) return s.error();
  if (flags > 1) return corrupt("snapshot", fmt::format("unknown flags {}", flags));
  marker.discard_log = flags == 1;
  return marker;
}

Result<SegmentHeader> decode_segment_header(std::string_view payload) {
  Reader r(payload);
  std::uint32_t magic = r.u32();
  std::uint32_t version = r.u32();
  if (!r.ok() || magic != kSegmentMagic) return corrupt("segment header", "bad magic");
  if (version != kFormatVersion) {
    return corrupt("segment header", fmt::format("unsupported format version {}", version));
  }
  SegmentHeader header;
  header.seq = r.u64();
  header.first_index = r.u64();
  header.hard_state = get_hard_state(r);
  if (!get_snapshot_meta(r, &header.snapshot)) {
    return corrupt("segment header", "bad configuration member list");
  }
  if (auto s = finish(r, "segment header"); !s) return s.error();
  return header;
}

namespace {

// One past the last byte that is not zero (0 for an all-zero input). Compares whole blocks
// against zeros from the end, since the zero run of a fresh preallocated segment is up to
// its whole size.
std::size_t end_of_nonzero(std::string_view bytes) {
  static constexpr char kZeros[4096] = {};
  std::size_t end = bytes.size();
  while (end >= sizeof kZeros &&
         std::memcmp(bytes.data() + end - sizeof kZeros, kZeros, sizeof kZeros) == 0) {
    end -= sizeof kZeros;
  }
  while (end > 0 && bytes[end - 1] == '\0') --end;
  return end;
}

// Whether the damage [from, to) shows a sector that never reached the disk: the part of a
// kSectorSize-aligned sector from `from` (or from its start) to its end, inside [from, to),
// is all zeros. The first sector counts from `from` because it is usually shared with synced
// records before it: the disk then still holds its previous version, whose new part is
// zeros. A partial sector at `to` does not count: the good frame there shows it arrived.
bool shows_lost_sector(std::string_view bytes, std::size_t from, std::size_t to) {
  for (std::size_t sector = from / kSectorSize * kSectorSize; sector + kSectorSize <= to;
       sector += kSectorSize) {
    std::size_t lo = std::max(sector, from);
    std::string_view part = bytes.substr(lo, sector + kSectorSize - lo);
    if (part.find_first_not_of('\0') == std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

SegmentScan scan_segment(std::string_view bytes) {
  SegmentScan scan;
  // Bytes from here on are all zero: the unused, preallocated end of the segment. No frame
  // starts there (a frame of zeros has type 0, which is never written).
  const std::size_t data_end = end_of_nonzero(bytes);
  std::size_t at = 0;
  Record record{};
  Frame frame = Frame::kGood;
  while (at < data_end) {
    frame = check_frame(bytes, at, &record);
    if (frame != Frame::kGood) break;
    scan.records.push_back(record);
    at += kFrameHeaderSize + record.payload.size();
  }
  scan.valid_size = at;
  if (at >= data_end) return scan;
  scan.bad_frame = describe(frame, bytes, at);
  // A frame whose checksum holds was written whole: it is never a torn write.
  scan.bad_frame_checksummed = frame == Frame::kUnknownType;
  // Resynchronise: look for a good frame at any later offset that is not in the zero end.
  // Most offsets fail the O(1) length test; a CRC is computed only over a plausible length,
  // so scanning a torn tail (small, often zeros) is fast.
  std::size_t damage_end = bytes.size();
  for (std::size_t probe = at + 1; probe < data_end && probe + kFrameHeaderSize <= bytes.size();
       ++probe) {
    if (check_frame(bytes, probe, &record) != Frame::kGood) continue;
    scan.good_frame_after_bad = true;
    damage_end = probe;
    break;
  }
  scan.zero_sector_in_damage = shows_lost_sector(bytes, at, damage_end);
  return scan;
}

}  // namespace pc::consensus::wal
