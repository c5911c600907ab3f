#include "consensus/wal/wal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "consensus/wal/tests/fault_env.h"
#include "core/log.h"

namespace pc::consensus::wal {
namespace {

namespace fs = std::filesystem;
using raft::Entry;
using raft::EntryType;
using raft::HardState;
using raft::SnapshotMeta;
using testing::FaultEnv;

// A fresh directory, removed when the test ends however it ends.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "pc-wal-test-XXXXXX").string();
    PC_ASSERT(mkdtemp(templ.data()) != nullptr, "mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string wal_dir() const { return path_ + "/raft/wal"; }

 private:
  std::string path_;
};

std::vector<Entry> make_entries(std::uint64_t from, std::uint64_t to, std::uint64_t term,
                                std::size_t data_size = 16) {
  std::vector<Entry> out;
  for (std::uint64_t i = from; i <= to; ++i) {
    std::string data = "cmd-" + std::to_string(i) + "-t" + std::to_string(term);
    data.resize(std::max(data.size(), data_size), static_cast<char>('a' + i % 26));
    out.push_back(Entry{term, i, i % 7 == 0 ? EntryType::kConfChange : EntryType::kNormal, data});
  }
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Every file of a directory and its bytes, to show a refused open changed nothing.
std::map<std::string, std::string> snapshot_dir(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files[e.path().string()] = read_bytes(e.path());
  return files;
}

std::vector<std::string> segment_paths(const std::string& dir) {
  std::vector<std::string> paths;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".wal") paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Bytes of good records in a segment: its size before preallocation.
std::size_t logical_size(const std::string& segment_bytes) {
  return scan_segment(segment_bytes).valid_size;
}

Wal::Opened open_ok(Env& env, const std::string& dir, WalOptions options = {}) {
  auto opened = Wal::open(env, dir, options);
  PC_ASSERT(opened.has_value(), "open failed: {}", opened.error().message);
  return std::move(*opened);
}

TEST(Wal, EmptyDirectoryOpensEmpty) {
  TempDir tmp;
  auto opened = open_ok(posix_env(), tmp.wal_dir());
  EXPECT_TRUE(opened.recovered.entries.empty());
  EXPECT_TRUE(opened.recovered.hard_state.empty());
  EXPECT_EQ(opened.wal->last_index(), 0u);
  EXPECT_EQ(segment_paths(tmp.wal_dir()).size(), 1u);
}

TEST(Wal, RoundTrip) {
  TempDir tmp;
  auto entries = make_entries(1, 20, 1);
  HardState hs{1, 3, 15};
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir());
    ASSERT_TRUE(opened.wal->save(hs, entries));
    EXPECT_EQ(opened.wal->last_index(), 20u);
  }
  auto opened = open_ok(posix_env(), tmp.wal_dir());
  EXPECT_EQ(opened.recovered.hard_state, hs);
  EXPECT_EQ(opened.recovered.entries, entries);
  EXPECT_EQ(opened.recovered.snapshot.index, 0u);
  EXPECT_EQ(opened.wal->last_index(), 20u);
  EXPECT_EQ(opened.wal->hard_state(), hs);
}

TEST(Wal, GroupCommitManyAppendsOneSync) {
  FaultEnv env;
  {
    auto opened = open_ok(env, "/w");
    for (std::uint64_t i = 1; i <= 100; i += 10) {
      ASSERT_TRUE(opened.wal->append(make_entries(i, i + 9, 2), HardState{2, 1, i}));
    }
    ASSERT_TRUE(opened.wal->sync());
  }
  env.crash(FaultEnv::Tear::kNone);
  auto opened = open_ok(env, "/w");
  EXPECT_EQ(opened.recovered.entries, make_entries(1, 100, 2));
  EXPECT_EQ(opened.recovered.hard_state, (HardState{2, 1, 91}));
}

TEST(Wal, ReopenAfterManyAppendsAcrossSegmentRolls) {
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 4096;
  options.write_buffer_bytes = 1000;  // also exercise writes before sync
  std::vector<Entry> all;
  std::mt19937_64 rng(7);
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    std::uint64_t next = 1;
    while (next <= 3000) {
      std::uint64_t n = 1 + rng() % 20;
      auto batch = make_entries(next, next + n - 1, 1 + next / 1000, rng() % 300);
      ASSERT_TRUE(opened.wal->save(HardState{1 + next / 1000, 1, next}, batch));
      all.insert(all.end(), batch.begin(), batch.end());
      next += n;
    }
    EXPECT_GT(opened.wal->segment_count(), 50u);
  }
  std::uint64_t last = all.back().index;
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    EXPECT_EQ(opened.recovered.entries, all);
    EXPECT_EQ(opened.wal->last_index(), last);
    // Appending after recovery continues the same log.
    auto more = make_entries(last + 1, last + 50, 9, 200);
    ASSERT_TRUE(opened.wal->save(HardState{9, 2, last}, more));
    all.insert(all.end(), more.begin(), more.end());
  }
  auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
  EXPECT_EQ(opened.recovered.entries, all);
  EXPECT_EQ(opened.recovered.hard_state, (HardState{9, 2, last}));
}

TEST(Wal, OverwriteSupersedesTheSuffix) {
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 1024;
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 5}, make_entries(1, 60, 1)));
    // A new leader of term 2 replaces 41..60 (other segments) with 41..45.
    ASSERT_TRUE(opened.wal->save(HardState{2, 2, 5}, make_entries(41, 45, 2)));
    EXPECT_EQ(opened.wal->last_index(), 45u);
    // And term 3 replaces 44..45 with 44..50, in the same segment as before.
    ASSERT_TRUE(opened.wal->save(HardState{3, 3, 5}, make_entries(44, 50, 3)));
  }
  auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
  auto want = make_entries(1, 40, 1);
  auto t2 = make_entries(41, 43, 2);
  auto t3 = make_entries(44, 50, 3);
  want.insert(want.end(), t2.begin(), t2.end());
  want.insert(want.end(), t3.begin(), t3.end());
  EXPECT_EQ(opened.recovered.entries, want);
  EXPECT_EQ(opened.wal->last_index(), 50u);

  // Overwriting from the very first entry replaces everything.
  ASSERT_TRUE(opened.wal->save(HardState{4, 4, 0}, make_entries(1, 3, 4)));
  opened.wal.reset();
  auto again = open_ok(posix_env(), tmp.wal_dir(), options);
  EXPECT_EQ(again.recovered.entries, make_entries(1, 3, 4));
}

TEST(Wal, AppendRefusesGapsAndWritesNothing) {
  FaultEnv env;
  auto opened = open_ok(env, "/w");
  Wal& wal = *opened.wal;
  ASSERT_TRUE(wal.save(HardState{1, 1, 0}, make_entries(1, 5, 1)));
  std::string before = env.contents("/w/" + segment_file_name({1, 1}));
  auto gap = wal.append(make_entries(7, 8, 1));
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code, core::Code::kInvalidArgument);
  auto holes = make_entries(6, 9, 1);
  holes.erase(holes.begin() + 1);
  EXPECT_EQ(wal.append(holes).error().code, core::Code::kInvalidArgument);
  ASSERT_TRUE(wal.sync());
  EXPECT_EQ(env.contents("/w/" + segment_file_name({1, 1})), before);
  // The Wal is still usable after refusing a bad batch.
  EXPECT_TRUE(wal.save(HardState{1, 1, 0}, make_entries(6, 6, 1)));
  EXPECT_EQ(wal.last_index(), 6u);
}

TEST(Wal, EqualHardStateIsNotWrittenAgain) {
  FaultEnv env;
  auto opened = open_ok(env, "/w");
  ASSERT_TRUE(opened.wal->save(HardState{1, 1, 0}, {}));
  std::string path = "/w/" + segment_file_name({1, 1});
  std::size_t size = logical_size(env.contents(path));
  ASSERT_TRUE(opened.wal->save(HardState{1, 1, 0}, {}));
  ASSERT_TRUE(opened.wal->save(HardState{}, {}));
  EXPECT_EQ(logical_size(env.contents(path)), size);
  ASSERT_TRUE(opened.wal->save(HardState{1, 1, 1}, {}));
  EXPECT_GT(logical_size(env.contents(path)), size);
}

// Writes entries 1..5, then entry 6 + a hard state as the last records; returns the sizes
// of the segment's records before and after those last records.
std::pair<std::size_t, std::size_t> write_then_last_batch(const std::string& dir,
                                                          WalOptions options = {}) {
  auto opened = open_ok(posix_env(), dir, options);
  PC_ASSERT(opened.wal->save(HardState{1, 1, 3}, make_entries(1, 5, 1)), "save");
  std::string seg = segment_paths(dir).back();
  std::size_t before = logical_size(read_bytes(seg));
  PC_ASSERT(opened.wal->save(HardState{1, 1, 5}, make_entries(6, 6, 1, 40)), "save");
  return {before, logical_size(read_bytes(seg))};
}

// Damages the last batch at every byte with `tear(full bytes, cut)` and checks that what is
// whole survives, the torn bytes are gone and the next append lands after the good records.
// `zeros`: the tear zeroes from the cut on, so a cut inside the record's own trailing zeros
// changes nothing and is left out.
void torn_tail_at_every_byte(
    WalOptions options, bool zeros,
    const std::function<std::string(const std::string&, std::size_t)>& tear) {
  TempDir tmp;
  auto [before, after] = write_then_last_batch(tmp.wal_dir(), options);
  std::string seg = segment_paths(tmp.wal_dir()).back();
  const std::string full = read_bytes(seg);
  ASSERT_EQ(logical_size(full), after);
  std::size_t end = zeros ? full.find_last_not_of('\0', after - 1) + 1 : after;
  // Cut anywhere in the last batch (entry 6 then the hard state): what is whole survives.
  std::size_t entry6_end = 0;
  for (std::size_t cut = before; cut < end; ++cut) {
    write_bytes(seg, tear(full, cut));
    auto opened = Wal::open(posix_env(), tmp.wal_dir(), options);
    ASSERT_TRUE(opened.has_value()) << "cut " << cut << ": " << opened.error().message;
    const auto& entries = opened->recovered.entries;
    ASSERT_TRUE(entries.size() == 5 || entries.size() == 6) << "cut " << cut;
    if (entries.size() == 6 && entry6_end == 0) entry6_end = cut;
    EXPECT_EQ(opened->recovered.hard_state, (HardState{1, 1, 3})) << "cut " << cut;
    // The torn bytes are gone, so the next append lands right after the good records.
    std::string kept = read_bytes(seg);
    EXPECT_EQ(logical_size(kept), entries.size() == 5 ? before : entry6_end) << "cut " << cut;
    EXPECT_EQ(kept.find_first_not_of('\0', logical_size(kept)), std::string::npos)
        << "cut " << cut << ": damaged bytes left after the good records";
    if (options.preallocate) {
      EXPECT_EQ(kept.size(), options.segment_size_bytes) << "cut " << cut;
    }
    ASSERT_TRUE(opened->wal->save(HardState{2, 1, 3},
                                  make_entries(entries.size() + 1, entries.size() + 1, 2)));
    opened->wal.reset();
    auto again = open_ok(posix_env(), tmp.wal_dir(), options);
    EXPECT_EQ(again.recovered.entries.size(), entries.size() + 1) << "cut " << cut;
  }
  EXPECT_GT(entry6_end, before);
}

TEST(Wal, TornTailAtEveryByteRecoversThePrefix) {
  // Without preallocation a crash leaves the file cut short.
  WalOptions options;
  options.preallocate = false;
  torn_tail_at_every_byte(
      options, false, [](const std::string& full, std::size_t cut) { return full.substr(0, cut); });
}

TEST(Wal, TornTailInAPreallocatedSegmentRecoversThePrefix) {
  // With preallocation the file keeps its size: the bytes that did not arrive read as zeros,
  // or as garbage.
  WalOptions options;
  options.segment_size_bytes = 4096;
  for (char filler : {'\0', '\x5a'}) {
    SCOPED_TRACE(filler == 0 ? "zeros" : "garbage");
    torn_tail_at_every_byte(options, filler == 0,
                            [filler](const std::string& full, std::size_t cut) {
                              std::string torn = full;
                              std::size_t end = logical_size(full);
                              std::fill(torn.begin() + static_cast<std::ptrdiff_t>(cut),
                                        torn.begin() + static_cast<std::ptrdiff_t>(end), filler);
                              return torn;
                            });
  }
}

TEST(Wal, SegmentsArePreallocatedAndAppendedAtTheirLogicalEnd) {
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 8192;
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 1}, make_entries(1, 10, 1)));
    EXPECT_EQ(fs::file_size(segment_paths(tmp.wal_dir()).back()), 8192u);
  }
  for (std::uint64_t round = 1; round <= 3; ++round) {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    ASSERT_EQ(opened.recovered.entries, make_entries(1, 10 * round, 1));
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 10 * round},
                                 make_entries(10 * round + 1, 10 * round + 10, 1)));
  }
  auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
  EXPECT_EQ(opened.recovered.entries, make_entries(1, 40, 1));
  // Rolled segments are full; each new one starts at the preallocated size.
  ASSERT_TRUE(opened.wal->save(HardState{1, 1, 40}, make_entries(41, 400, 1)));
  auto segments = segment_paths(tmp.wal_dir());
  ASSERT_GE(segments.size(), 2u);
  for (const auto& path : segments) EXPECT_GE(fs::file_size(path), 8192u) << path;
}

// Writes entries 1..5 and syncs, then entries 6..30 (300 bytes each) as one more batch, and
// damages 512 bytes at an aligned offset inside that batch, not at its start, with `damage`.
// Returns the segment's path and the damaged offset.
std::pair<std::string, std::size_t> damage_a_sector_of_the_last_batch(
    const std::string& dir, const WalOptions& options, const std::function<void(char*)>& damage) {
  std::size_t before = 0;
  {
    auto opened = open_ok(posix_env(), dir, options);
    PC_ASSERT(opened.wal->save(HardState{1, 1, 3}, make_entries(1, 5, 1)), "save");
    before = logical_size(read_bytes(segment_paths(dir).back()));
    PC_ASSERT(opened.wal->save(HardState{1, 1, 3}, make_entries(6, 30, 1, 300)), "save");
  }
  std::string seg = segment_paths(dir).back();
  std::string bytes = read_bytes(seg);
  std::size_t hole = (before + 1023) / 512 * 512;
  PC_ASSERT(hole + 2048 < logical_size(bytes), "batch too short");
  damage(bytes.data() + hole);
  write_bytes(seg, bytes);
  return {seg, hole};
}

TEST(Wal, ZeroSectorBeforeGoodRecordsIsATornWrite) {
  // An unsynced batch one of whose sectors never reached the disk while a later one did
  // (writeback does not keep order): nothing from the hole on was acknowledged, so it is
  // cut like a torn tail rather than refused as damage inside the log.
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 1 << 16;
  auto [seg, hole] = damage_a_sector_of_the_last_batch(
      tmp.wal_dir(), options, [](char* sector) { std::fill(sector, sector + 512, '\0'); });
  auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
  std::vector<Entry> expected = make_entries(1, 5, 1);
  for (auto& e : make_entries(6, 30, 1, 300)) expected.push_back(e);
  const auto& entries = opened.recovered.entries;
  ASSERT_GE(entries.size(), 5u);
  EXPECT_LT(entries.size(), 30u);
  expected.resize(entries.size());
  EXPECT_EQ(entries, expected);
  std::string kept = read_bytes(seg);
  EXPECT_LE(logical_size(kept), hole);
  EXPECT_EQ(kept.find_first_not_of('\0', logical_size(kept)), std::string::npos);
}

TEST(Wal, FlippedBitBeforeGoodRecordsStillRefuses) {
  // The control for the test above: the same place damaged without a whole zero sector is
  // damage inside written data.
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 1 << 16;
  damage_a_sector_of_the_last_batch(tmp.wal_dir(), options,
                                    [](char* sector) { sector[100] ^= 0x04; });
  auto files = snapshot_dir(tmp.wal_dir());
  auto opened = Wal::open(posix_env(), tmp.wal_dir(), options);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, core::Code::kCorruption);
  EXPECT_NE(opened.error().message.find("not a torn tail"), std::string::npos);
  EXPECT_EQ(snapshot_dir(tmp.wal_dir()), files);
}

TEST(Wal, BadChecksumInTheLastRecordIsATornTail) {
  TempDir tmp;
  auto [before, after] = write_then_last_batch(tmp.wal_dir());
  std::string seg = segment_paths(tmp.wal_dir()).back();
  std::string bytes = read_bytes(seg);
  bytes[after - 1] ^= 0x01;  // last byte of the hard state record
  write_bytes(seg, bytes);
  auto opened = open_ok(posix_env(), tmp.wal_dir());
  EXPECT_EQ(opened.recovered.entries.size(), 6u);
  EXPECT_EQ(opened.recovered.hard_state, (HardState{1, 1, 3}));
  EXPECT_LT(logical_size(read_bytes(seg)), after);
}

// Flips bits in a middle segment and in the first half of the newest one (all followed by
// good records, so never a torn tail): every open must refuse with a Corruption error naming
// the file and offset, and leave every file byte-identical. `stride` 1 visits every byte
// with two bit positions; a larger stride samples (the real file system is slower).
void sweep_bit_flips(Env& env, const std::string& dir, std::size_t stride,
                     const std::function<std::string(const std::string&)>& get,
                     const std::function<void(const std::string&, const std::string&)>& put) {
  WalOptions options;
  options.segment_size_bytes = 2048;
  {
    auto opened = open_ok(env, dir, options);
    for (std::uint64_t i = 1; i <= 100; i += 5) {
      ASSERT_TRUE(opened.wal->save(HardState{1, 1, i}, make_entries(i, i + 4, 1)));
    }
  }
  auto names = env.list_dir(dir);
  ASSERT_TRUE(names.has_value());
  std::sort(names->begin(), names->end());
  ASSERT_GE(names->size(), 3u);
  auto dir_bytes = [&] {
    std::map<std::string, std::string> files;
    auto listed = env.list_dir(dir);  // kept alive: the loop refers into it
    for (const auto& n : listed.value()) files[n] = get(dir + "/" + n);
    return files;
  };
  std::vector<std::pair<std::string, std::size_t>> targets = {
      {dir + "/" + (*names)[1], logical_size(get(dir + "/" + (*names)[1]))},
      {dir + "/" + names->back(), logical_size(get(dir + "/" + names->back())) / 2},
  };
  int refusals = 0;
  for (const auto& [path, end] : targets) {
    const std::string original = get(path);
    for (std::size_t offset = 0; offset < end; offset += stride) {
      for (std::uint8_t bit : {0x01, 0x80}) {
        if (stride > 1 && (bit == 0x01) != (offset / stride % 2 == 0)) continue;
        std::string damaged = original;
        damaged[offset] = static_cast<char>(damaged[offset] ^ bit);
        put(path, damaged);
        auto files = dir_bytes();
        auto opened = Wal::open(env, dir, options);
        ASSERT_FALSE(opened.has_value()) << path << " offset " << offset;
        EXPECT_EQ(opened.error().code, core::Code::kCorruption);
        const std::string& why = opened.error().message;
        EXPECT_NE(why.find(path), std::string::npos) << why;
        EXPECT_NE(why.find("at offset "), std::string::npos) << why;
        EXPECT_EQ(dir_bytes(), files) << "open changed files: " << why;
        ++refusals;
      }
    }
    put(path, original);
  }
  EXPECT_GT(refusals, static_cast<int>(1500 / stride));
  auto opened = open_ok(env, dir, options);
  EXPECT_EQ(opened.recovered.entries, make_entries(1, 100, 1));
}

TEST(Wal, BitFlipInTheMiddleRefusesAndChangesNothing) {
  FaultEnv env;
  sweep_bit_flips(
      env, "/w", 1, [&](const std::string& p) { return env.contents(p); },
      [&](const std::string& p, const std::string& b) { env.set_contents_for_test(p, b); });
}

TEST(Wal, BitFlipInTheMiddleRefusesOnRealFiles) {
  TempDir tmp;
  sweep_bit_flips(posix_env(), tmp.wal_dir(), 13, read_bytes, write_bytes);
}

TEST(Wal, MissingOrDamagedSegmentsRefuse) {
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 1024;
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 1}, make_entries(1, 100, 1)));
  }
  auto segments = segment_paths(tmp.wal_dir());
  ASSERT_GE(segments.size(), 4u);

  // A missing middle segment.
  std::string middle = read_bytes(segments[2]);
  fs::remove(segments[2]);
  auto missing = Wal::open(posix_env(), tmp.wal_dir(), options);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("missing segment"), std::string::npos)
      << missing.error().message;
  write_bytes(segments[2], middle);

  // A non-last segment whose tail was cut (looks torn, but only the last may be).
  write_bytes(segments[1], read_bytes(segments[1]).substr(0, fs::file_size(segments[1]) - 3));
  auto cut = Wal::open(posix_env(), tmp.wal_dir(), options);
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(cut.error().message.find(segments[1]), std::string::npos) << cut.error().message;
  EXPECT_NE(cut.error().message.find("not the last segment"), std::string::npos);
}

TEST(Wal, GarbageAfterANonLastSegmentRefuses) {
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 1024;
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 1}, make_entries(1, 50, 1)));
  }
  auto segments = segment_paths(tmp.wal_dir());
  ASSERT_GE(segments.size(), 2u);
  // Zeros would be a preallocated segment's unused end; anything else after the last
  // record of a segment that was synced whole is damage.
  write_bytes(segments[0], read_bytes(segments[0]) + std::string(50, '\x5a'));
  auto files = snapshot_dir(tmp.wal_dir());
  auto opened = Wal::open(posix_env(), tmp.wal_dir(), options);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, core::Code::kCorruption);
  EXPECT_EQ(snapshot_dir(tmp.wal_dir()), files);
}

TEST(Wal, StrayWalFileNameRefuses) {
  TempDir tmp;
  { open_ok(posix_env(), tmp.wal_dir()); }
  write_bytes(tmp.wal_dir() + "/backup.wal", "x");
  write_bytes(tmp.wal_dir() + "/notes.txt", "ignored");
  auto opened = Wal::open(posix_env(), tmp.wal_dir());
  ASSERT_FALSE(opened.has_value());
  EXPECT_NE(opened.error().message.find("backup.wal"), std::string::npos);
}

TEST(Wal, SegmentWithATornHeaderIsRemoved) {
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 1024;
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 1}, make_entries(1, 30, 1)));
  }
  auto segments = segment_paths(tmp.wal_dir());
  auto last = parse_segment_file_name(fs::path(segments.back()).filename().string());
  ASSERT_TRUE(last);
  // A roll that crashed after creating the file and writing 5 bytes of its header.
  std::string next = tmp.wal_dir() + "/" + segment_file_name({last->seq + 1, 31});
  write_bytes(next, std::string("\x12\x34\x56\x78\x01", 5));
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    EXPECT_EQ(opened.recovered.entries, make_entries(1, 30, 1));
    EXPECT_FALSE(fs::exists(next));
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 2}, make_entries(31, 60, 1)));
  }
  auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
  EXPECT_EQ(opened.recovered.entries, make_entries(1, 60, 1));
}

TEST(Wal, SnapshotMarkerCompactsTheRecoveredLog) {
  FaultEnv env;
  {
    auto opened = open_ok(env, "/w");
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 10}, make_entries(1, 10, 1)));
    ASSERT_TRUE(opened.wal->save_snapshot(SnapshotMeta{6, 1, {{1, 2, 3}, {}, {}}}));
    EXPECT_EQ(opened.wal->save_snapshot(SnapshotMeta{5, 1, {}}).error().code,
              core::Code::kInvalidArgument);
    EXPECT_EQ(opened.wal->append(make_entries(6, 6, 2)).error().code, core::Code::kInvalidArgument);
  }
  env.crash(FaultEnv::Tear::kNone);
  auto opened = open_ok(env, "/w");
  EXPECT_EQ(opened.recovered.snapshot, (SnapshotMeta{6, 1, {{1, 2, 3}, {}, {}}}));
  EXPECT_EQ(opened.recovered.entries, make_entries(7, 10, 1));
  EXPECT_EQ(opened.wal->last_index(), 10u);
}

TEST(Wal, InstalledSnapshotCanDiscardTheLog) {
  FaultEnv env;
  {
    auto opened = open_ok(env, "/w");
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 2}, make_entries(1, 10, 1)));
    // The leader's snapshot at 8 does not match our entry 8: the whole log goes (Raft §7).
    ASSERT_TRUE(opened.wal->save_snapshot(SnapshotMeta{8, 3, {}}, /*discard_log=*/true));
    EXPECT_EQ(opened.wal->last_index(), 8u);
    ASSERT_TRUE(opened.wal->save(HardState{3, 2, 8}, make_entries(9, 9, 3)));
    // And a snapshot beyond the log moves past it even without discarding.
    ASSERT_TRUE(opened.wal->save_snapshot(SnapshotMeta{20, 4, {}}));
    EXPECT_EQ(opened.wal->last_index(), 20u);
    ASSERT_TRUE(opened.wal->save(HardState{4, 2, 20}, make_entries(21, 22, 4)));
  }
  env.crash(FaultEnv::Tear::kNone);
  auto opened = open_ok(env, "/w");
  EXPECT_EQ(opened.recovered.snapshot.index, 20u);
  EXPECT_EQ(opened.recovered.entries, make_entries(21, 22, 4));
}

TEST(Wal, ReleaseToRemovesWholeSegments) {
  TempDir tmp;
  WalOptions options;
  options.segment_size_bytes = 1024;
  HardState hs{1, 1, 300};
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    Wal& wal = *opened.wal;
    // The hard state is written once, early: later segments must restate it.
    ASSERT_TRUE(wal.save(hs, make_entries(1, 500, 1)));
    std::size_t all = wal.segment_count();
    EXPECT_EQ(segment_paths(tmp.wal_dir()).size(), all);
    EXPECT_EQ(wal.release_to(300).error().code, core::Code::kInvalidArgument);
    ASSERT_TRUE(wal.save_snapshot(SnapshotMeta{300, 1, {}}));
    ASSERT_TRUE(wal.release_to(300));
    EXPECT_LT(wal.segment_count(), all);
    EXPECT_GT(wal.segment_count(), 1u);
    EXPECT_EQ(segment_paths(tmp.wal_dir()).size(), wal.segment_count());
    // The oldest kept segment must still hold entry 301 or earlier.
    auto first =
        parse_segment_file_name(fs::path(segment_paths(tmp.wal_dir()).front()).filename().string());
    ASSERT_TRUE(first);
    EXPECT_LE(first->first_index, 301u);
  }
  {
    auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
    EXPECT_EQ(opened.recovered.hard_state, hs);
    EXPECT_EQ(opened.recovered.snapshot.index, 300u);
    EXPECT_EQ(opened.recovered.entries, make_entries(301, 500, 1));
    // Releasing everything up to the marker keeps the newest segment.
    ASSERT_TRUE(opened.wal->save_snapshot(SnapshotMeta{500, 1, {}}));
    ASSERT_TRUE(opened.wal->release_to(500));
    EXPECT_EQ(opened.wal->segment_count(), 1u);
  }
  auto opened = open_ok(posix_env(), tmp.wal_dir(), options);
  EXPECT_EQ(opened.recovered.hard_state, hs);
  EXPECT_TRUE(opened.recovered.entries.empty());
  EXPECT_EQ(opened.wal->last_index(), 500u);
}

TEST(Wal, FailedSyncFailsTheWal) {
  FaultEnv env;
  auto opened = open_ok(env, "/w");
  ASSERT_TRUE(opened.wal->save(HardState{1, 1, 0}, make_entries(1, 3, 1)));
  env.fail_syncs(1);
  auto failed = opened.wal->save(HardState{1, 1, 0}, make_entries(4, 4, 1));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, core::Code::kIoError);
  // No retry over possibly lost data: the Wal stays failed.
  EXPECT_FALSE(opened.wal->sync());
  EXPECT_FALSE(opened.wal->append(make_entries(5, 5, 1)));
  opened.wal.reset();
  env.crash(FaultEnv::Tear::kPrefix);
  auto again = open_ok(env, "/w");
  EXPECT_EQ(again.recovered.entries, make_entries(1, 3, 1));
}

// ---- Crash simulation: a random workload against the fault env and a naive twin. ----

// The log as the simplest possible code sees it, applied record by record.
struct Model {
  HardState hs;
  SnapshotMeta snapshot;
  std::map<std::uint64_t, Entry> log;

  void entry(const Entry& e) {
    log.erase(log.lower_bound(e.index), log.end());
    log[e.index] = e;
  }
  void snap(const SnapshotMeta& s, bool discard) {
    if (discard) log.clear();
    log.erase(log.begin(), log.upper_bound(s.index));
    snapshot = s;
  }
  std::uint64_t last() const { return log.empty() ? snapshot.index : log.rbegin()->first; }
  bool matches(const Recovered& r) const {
    if (!(r.hard_state == hs) || !(r.snapshot == snapshot) || r.entries.size() != log.size()) {
      return false;
    }
    std::size_t i = 0;
    for (const auto& [index, e] : log) {
      if (!(r.entries[i++] == e)) return false;
    }
    return true;
  }
};

// Runs `steps` random operations, recording the model after every record; returns the index
// in `history` of the last state known durable.
std::size_t run_workload(Wal& wal, std::mt19937_64& rng, int steps, std::vector<Model>* history) {
  std::size_t durable = history->size() - 1;
  std::uint64_t term = std::max<std::uint64_t>(1, history->back().hs.term);
  for (int step = 0; step < steps; ++step) {
    Model m = history->back();
    int op = static_cast<int>(rng() % 100);
    if (op < 60) {
      // One entry, sometimes overwriting a suffix (a new leader's term).
      std::uint64_t index = m.last() + 1;
      if (op < 10 && m.last() > m.snapshot.index) {
        index = m.snapshot.index + 1 + rng() % (m.last() - m.snapshot.index);
        ++term;
      }
      Entry e = make_entries(index, index, term, rng() % 200)[0];
      PC_ASSERT(wal.append(std::span(&e, 1)), "append");
      m.entry(e);
      history->push_back(m);
    } else if (op < 75) {
      m.hs = HardState{term, rng() % 4, m.last()};
      PC_ASSERT(wal.append({}, m.hs), "append hard state");
      history->push_back(m);
    } else if (op < 92) {
      PC_ASSERT(wal.sync(), "sync");
      durable = history->size() - 1;
    } else if (op < 97 && m.last() > m.snapshot.index) {
      SnapshotMeta s{m.snapshot.index + 1 + rng() % (m.last() - m.snapshot.index), term, {}};
      PC_ASSERT(wal.save_snapshot(s), "snapshot");
      m.snap(s, false);
      history->push_back(m);
      durable = history->size() - 1;
      if (rng() % 2 == 0) {
        PC_ASSERT(wal.release_to(s.index), "release");
      }
    } else if (op < 97) {
      continue;
    } else {
      SnapshotMeta s{m.last() + rng() % 5, term, {}};
      bool discard = rng() % 2 == 0;
      if (s.index < m.snapshot.index) continue;
      PC_ASSERT(wal.save_snapshot(s, discard), "snapshot");
      m.snap(s, discard);
      history->push_back(m);
      durable = history->size() - 1;
    }
  }
  return durable;
}

TEST(Wal, CrashesNeverLoseSyncedDataOrCorrupt) {
  // Hundreds of torn tails are truncated below; their warnings would drown the output.
  core::log::set_level(core::log::Level::kError);
  struct RestoreLevel {
    ~RestoreLevel() { core::log::set_level(core::log::Level::kInfo); }
  } restore;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    FaultEnv env(seed);
    std::mt19937_64 rng(seed);
    WalOptions options;
    options.segment_size_bytes = 512 + rng() % 2048;
    options.write_buffer_bytes = rng() % 2 == 0 ? 1 : 4096;
    options.preallocate = rng() % 2 == 0;
    std::vector<Model> history{Model{}};
    for (int round = 0; round < 8; ++round) {
      auto opened = Wal::open(env, "/data/raft/wal", options);
      ASSERT_TRUE(opened.has_value()) << "round " << round << ": " << opened.error().message;
      // What was recovered is a state at or after the last durable one: synced data
      // survived, and unsynced data came back whole or not at all, record by record.
      // history[0] is the last state known durable before the crash.
      bool found = false;
      for (std::size_t i = 0; i < history.size() && !found; ++i) {
        found = history[i].matches(opened->recovered);
      }
      ASSERT_TRUE(found) << "round " << round;
      Model now = history.back();
      for (std::size_t i = history.size(); i-- > 0;) {
        if (history[i].matches(opened->recovered)) {
          now = history[i];
          break;
        }
      }
      history = {now};
      std::size_t synced = run_workload(*opened->wal, rng, 150, &history);
      opened->wal.reset();
      history.erase(history.begin(), history.begin() + static_cast<std::ptrdiff_t>(synced));
      env.crash(static_cast<FaultEnv::Tear>(rng() % 4));
    }
  }
}

// Writes the fuzz corpus (tests/corpus/wal_record) when PC_WRITE_WAL_CORPUS names a
// directory: a few valid segments in the fuzz input format (see wal_record_fuzz.cc).
TEST(Wal, WriteFuzzCorpus) {
  const char* out = std::getenv("PC_WRITE_WAL_CORPUS");
  if (out == nullptr) GTEST_SKIP() << "set PC_WRITE_WAL_CORPUS=<dir> to regenerate the corpus";
  auto frame = [](const std::vector<std::string>& segments) {
    std::string input;
    for (const std::string& s : segments) {
      std::uint32_t n = static_cast<std::uint32_t>(s.size());
      for (int i = 0; i < 4; ++i) input.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
      input += s;
    }
    return input;
  };
  auto dump = [&](const std::string& name, FaultEnv& env, const std::string& dir) {
    auto names = env.list_dir(dir);
    std::sort(names->begin(), names->end());
    std::vector<std::string> segments;
    for (const auto& n : *names) segments.push_back(env.contents(dir + "/" + n));
    write_bytes(std::string(out) + "/" + name, frame(segments));
  };
  {
    FaultEnv env;
    auto opened = open_ok(env, "/a");
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 2}, make_entries(1, 3, 1, 4)));
    dump("single_segment", env, "/a");
  }
  {
    FaultEnv env;
    WalOptions options;
    options.segment_size_bytes = 200;
    auto opened = open_ok(env, "/b", options);
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 2}, make_entries(1, 8, 1, 8)));
    ASSERT_TRUE(opened.wal->save(HardState{2, 2, 4}, make_entries(5, 7, 2, 8)));
    ASSERT_TRUE(opened.wal->save_snapshot(SnapshotMeta{4, 1, {{1, 2, 3}, {4}, {}}}));
    dump("rolled_overwrite_snapshot", env, "/b");
    ASSERT_TRUE(opened.wal->save_snapshot(SnapshotMeta{7, 2, {{1, 2}, {}, {3}}}));
    ASSERT_TRUE(opened.wal->release_to(7));
    ASSERT_TRUE(opened.wal->save_snapshot(SnapshotMeta{12, 3, {}}, true));
    dump("released_discarded", env, "/b");
  }
  {
    FaultEnv env;
    auto opened = open_ok(env, "/c");
    ASSERT_TRUE(opened.wal->save(HardState{1, 1, 2}, make_entries(1, 2, 1, 4)));
    std::string seg = env.contents("/c/" + segment_file_name({1, 1}));
    write_bytes(std::string(out) + "/torn_tail", frame({seg.substr(0, seg.size() - 7)}));
    std::string flipped = seg;
    flipped[seg.size() / 2] ^= 0x04;
    write_bytes(std::string(out) + "/bit_flip", frame({flipped}));
  }
}

// The checked-in seeds replay with known outcomes: the valid ones recover, the damaged ones
// are cut (torn tail) or refused (bit flip in the middle).
TEST(Wal, CorpusSeedsHaveKnownOutcomes) {
  auto replay_seed = [](const std::string& name) -> core::Result<Recovered> {
    std::string input = read_bytes(std::string(PC_WAL_CORPUS_DIR) + "/" + name);
    std::vector<std::string> segments;
    std::size_t at = 0;
    while (at + 4 <= input.size()) {
      std::uint32_t n = 0;
      for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<std::uint8_t>(input[at + i]);
      segments.push_back(input.substr(at + 4, n));
      at += 4 + n;
    }
    Replay replay;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      SegmentScan scan = scan_segment(segments[i]);
      auto header = decode_segment_header(scan.records.at(0).payload);
      PC_ASSERT(header.has_value(), "seed without a header");
      auto r = replay.add_segment({header->seq, header->first_index}, segments[i],
                                  i + 1 == segments.size(), name);
      if (!r) return r.error();
    }
    return replay.finish();
  };
  auto single = replay_seed("single_segment");
  ASSERT_TRUE(single.has_value()) << single.error().message;
  EXPECT_EQ(single->entries, make_entries(1, 3, 1, 4));
  auto rolled = replay_seed("rolled_overwrite_snapshot");
  ASSERT_TRUE(rolled.has_value()) << rolled.error().message;
  EXPECT_EQ(rolled->snapshot.index, 4u);
  EXPECT_EQ(rolled->entries, make_entries(5, 7, 2, 8));
  auto released = replay_seed("released_discarded");
  ASSERT_TRUE(released.has_value()) << released.error().message;
  EXPECT_EQ(released->snapshot.index, 12u);
  EXPECT_TRUE(released->entries.empty());
  auto torn = replay_seed("torn_tail");
  ASSERT_TRUE(torn.has_value()) << torn.error().message;
  EXPECT_EQ(torn->entries, make_entries(1, 2, 1, 4));  // the hard state record was cut
  auto flipped = replay_seed("bit_flip");
  ASSERT_FALSE(flipped.has_value());
  EXPECT_EQ(flipped.error().code, core::Code::kCorruption);
}

}  // namespace
}  // namespace pc::consensus::wal
