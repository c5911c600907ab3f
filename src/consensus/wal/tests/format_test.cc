#include "consensus/wal/format.h"

#include <gtest/gtest.h>

#include "consensus/wal/replay.h"

namespace pc::consensus::wal {
namespace {

raft::SnapshotMeta sample_meta() {
  raft::SnapshotMeta meta;
  meta.index = 42;
  meta.term = 7;
  meta.conf.voters = {1, 2, 3};
  meta.conf.learners = {9};
  return meta;
}

TEST(Format, PayloadsRoundTrip) {
  raft::Entry entry{5, 17, raft::EntryType::kConfChange, std::string("a\0b", 3)};
  auto e = decode_entry(encode_entry(entry));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, entry);

  raft::HardState hs{3, 2, 10};
  auto h = decode_hard_state(encode_hard_state(hs));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(*h, hs);

  SnapshotMarker marker{sample_meta(), true};
  auto m = decode_snapshot(encode_snapshot(marker));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->snapshot, marker.snapshot);
  EXPECT_TRUE(m->discard_log);

  SegmentHeader header{4, 100, hs, sample_meta()};
  auto g = decode_segment_header(encode_segment_header(header));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->seq, 4u);
  EXPECT_EQ(g->first_index, 100u);
  EXPECT_EQ(g->hard_state, hs);
  EXPECT_EQ(g->snapshot, header.snapshot);
}

TEST(Format, ShortOrLongPayloadsAreCorruption) {
  std::string hs = encode_hard_state({1, 2, 3});
  EXPECT_EQ(decode_hard_state(hs.substr(0, 23)).error().code, core::Code::kCorruption);
  EXPECT_EQ(decode_hard_state(hs + "x").error().code, core::Code::kCorruption);
  EXPECT_FALSE(decode_entry("short").has_value());
  std::string entry = encode_entry({1, 1, raft::EntryType::kNormal, ""});
  entry[16] = 9;  // entry type
  EXPECT_FALSE(decode_entry(entry).has_value());
  std::string header = encode_segment_header({});
  header[0] ^= 1;  // magic
  EXPECT_FALSE(decode_segment_header(header).has_value());
  // A member count far beyond the limit must be refused before allocating.
  std::string snap = encode_snapshot({});
  snap[16] = '\xff';
  snap[17] = '\xff';
  EXPECT_FALSE(decode_snapshot(snap).has_value());
}

TEST(Format, ScanFindsRecordsAndTheFirstBadFrame) {
  std::string bytes;
  append_record(RecordType::kHardState, encode_hard_state({1, 0, 0}), &bytes);
  append_record(RecordType::kEntry, encode_entry({1, 1, raft::EntryType::kNormal, "x"}), &bytes);
  std::size_t good = bytes.size();
  SegmentScan scan = scan_segment(bytes);
  EXPECT_EQ(scan.records.size(), 2u);
  EXPECT_EQ(scan.valid_size, good);
  EXPECT_FALSE(scan.bad_frame);

  // Zeros after the good records: the unused end of a preallocated segment (or a file a
  // crash extended without its data). Never a record; the records end where they do.
  scan = scan_segment(bytes + std::string(100000, '\0'));
  EXPECT_EQ(scan.valid_size, good);
  EXPECT_EQ(scan.records.size(), 2u);
  EXPECT_FALSE(scan.bad_frame);

  // Garbage after them, even followed by zeros: a bad frame, nothing good after it.
  scan = scan_segment(bytes + "\x01\x02\x03" + std::string(4000, '\0'));
  EXPECT_EQ(scan.valid_size, good);
  ASSERT_TRUE(scan.bad_frame);
  EXPECT_FALSE(scan.good_frame_after_bad);

  // A damaged first record with a good one after it: damage in the middle.
  std::string damaged = bytes;
  damaged[12] ^= 0x10;
  scan = scan_segment(damaged);
  EXPECT_EQ(scan.valid_size, 0u);
  ASSERT_TRUE(scan.bad_frame);
  EXPECT_NE(scan.bad_frame->find("checksum"), std::string::npos);
  EXPECT_TRUE(scan.good_frame_after_bad);
  EXPECT_FALSE(scan.zero_sector_in_damage);
}

TEST(Format, ZeroSectorInsideTheDamageIsReported) {
  // Records long enough that the second spans whole sectors; zero one of them.
  std::string bytes;
  append_record(RecordType::kHardState, encode_hard_state({1, 0, 0}), &bytes);
  std::size_t second = bytes.size();
  append_record(RecordType::kEntry,
                encode_entry({1, 1, raft::EntryType::kNormal, std::string(1500, 'x')}), &bytes);
  append_record(RecordType::kEntry, encode_entry({1, 2, raft::EntryType::kNormal, "y"}), &bytes);
  std::string holed = bytes;
  std::fill(holed.begin() + 512, holed.begin() + 1024, '\0');
  SegmentScan scan = scan_segment(holed);
  EXPECT_EQ(scan.valid_size, second);
  ASSERT_TRUE(scan.bad_frame);
  EXPECT_TRUE(scan.good_frame_after_bad);
  EXPECT_TRUE(scan.zero_sector_in_damage);
  // The first sector of the damage counts from the bad frame: the synced records before it
  // share that sector, and the disk kept its older version.
  holed = bytes;
  std::fill(holed.begin() + static_cast<std::ptrdiff_t>(second), holed.begin() + 512, '\0');
  scan = scan_segment(holed);
  ASSERT_TRUE(scan.bad_frame);
  EXPECT_TRUE(scan.good_frame_after_bad);
  EXPECT_TRUE(scan.zero_sector_in_damage);
  // 511 zeros are not a lost sector: that is damage inside the log.
  holed = bytes;
  std::fill(holed.begin() + 512, holed.begin() + 1023, '\0');
  scan = scan_segment(holed);
  ASSERT_TRUE(scan.bad_frame);
  EXPECT_FALSE(scan.zero_sector_in_damage);
}

TEST(Format, UnknownTypeWithGoodChecksumIsNotTorn) {
  std::string bytes;
  append_record(RecordType::kHardState, encode_hard_state({1, 0, 0}), &bytes);
  std::size_t good = bytes.size();
  append_record(RecordType::kHardState, encode_hard_state({2, 0, 0}), &bytes);
  // The same payload under an unknown type with a valid CRC: a record from a newer format.
  std::string redo = bytes.substr(0, good);
  std::string payload = bytes.substr(good + kFrameHeaderSize);
  append_record(static_cast<RecordType>(77), payload, &redo);
  SegmentScan scan = scan_segment(redo);
  ASSERT_TRUE(scan.bad_frame);
  EXPECT_TRUE(scan.bad_frame_checksummed);
}

TEST(Format, SegmentFileNames) {
  SegmentName name{1, 0x1234};
  EXPECT_EQ(segment_file_name(name), "0000000000000001-0000000000001234.wal");
  EXPECT_EQ(parse_segment_file_name(segment_file_name(name)), name);
  EXPECT_FALSE(parse_segment_file_name("0000000000000001-000000000000123G.wal"));
  EXPECT_FALSE(parse_segment_file_name("0000000000000001-0000000000001234.wa"));
  EXPECT_FALSE(parse_segment_file_name("0000000000000001_0000000000001234.wal"));
  EXPECT_FALSE(parse_segment_file_name("000000000000000A-0000000000001234.wal"));
}

}  // namespace
}  // namespace pc::consensus::wal
