// Fuzz target for WAL segment bytes read from disk. Input: one or more segments, each a u32
// little-endian length and that many bytes (a short last length takes what is left); the
// last one is the newest segment. Whatever the bytes, recovery returns a log or an error
// naming the damage; it never crashes. A recovered log is well formed, and writing it out
// again as one segment replays to the same log.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/wal/format.h"
#include "consensus/wal/replay.h"
#include "core/assert.h"

namespace {

using namespace pc::consensus::wal;

// Segments are named by their own header when it decodes, so the fuzzer reaches the record
// rules instead of stopping at a name mismatch.
SegmentName name_from_header(std::string_view bytes) {
  SegmentScan scan = scan_segment(bytes);
  if (!scan.records.empty() && scan.records[0].type == RecordType::kSegmentHeader) {
    auto header = decode_segment_header(scan.records[0].payload);
    if (header) return SegmentName{header->seq, header->first_index};
  }
  return SegmentName{1, 1};
}

void check_rewrite(const Recovered& log) {
  std::string segment;
  SegmentHeader header{1, log.snapshot.index + 1, log.hard_state, log.snapshot};
  append_record(RecordType::kSegmentHeader, encode_segment_header(header), &segment);
  for (const auto& e : log.entries) append_record(RecordType::kEntry, encode_entry(e), &segment);
  Replay replay;
  auto again = replay.add_segment(SegmentName{1, header.first_index}, segment, true, "rewrite");
  PC_ASSERT(again.has_value(), "replaying our own segment failed: {}", again.error().message);
  PC_ASSERT(!again->torn_tail, "our own segment has a torn tail");
  auto back = replay.finish();
  PC_ASSERT(back.has_value(), "finishing our own segment failed: {}", back.error().message);
  PC_ASSERT(back->entries == log.entries, "entries changed on rewrite");
  PC_ASSERT(back->hard_state == log.hard_state, "hard state changed on rewrite");
  PC_ASSERT(back->snapshot == log.snapshot, "snapshot changed on rewrite");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> segments;
  while (input.size() >= 4 && segments.size() < 8) {
    std::uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<std::uint8_t>(input[i]);
    input.remove_prefix(4);
    std::size_t take = std::min<std::size_t>(n, input.size());
    segments.push_back(input.substr(0, take));
    input.remove_prefix(take);
  }
  Replay replay;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    bool last = i + 1 == segments.size();
    auto r = replay.add_segment(name_from_header(segments[i]), segments[i], last, "segment");
    if (!r) {
      PC_ASSERT(!r.error().message.empty(), "an error without a reason");
      return 0;
    }
    PC_ASSERT(r->valid_size <= segments[i].size(), "valid size beyond the bytes");
    PC_ASSERT(last || !r->torn_tail, "a torn tail accepted in a non-last segment");
  }
  auto log = replay.finish();
  if (!log) return 0;
  for (std::size_t i = 0; i < log->entries.size(); ++i) {
    PC_ASSERT(log->entries[i].index == log->snapshot.index + 1 + i, "entries not contiguous");
  }
  check_rewrite(*log);
  return 0;
}
