#include "consensus/runtime/snapshot_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pc::consensus {
namespace {

namespace fs = std::filesystem;

raft::Snapshot sample(std::uint64_t term, std::uint64_t index) {
  raft::Snapshot s;
  s.meta.term = term;
  s.meta.index = index;
  s.meta.conf.voters = {1, 2, 3};
  s.meta.conf.learners = {4};
  s.data = "state at " + std::to_string(index);
  return s;
}

class SnapshotStoreTest : public ::testing::Test {
 protected:
  SnapshotStoreTest()
      : dir_(fs::temp_directory_path() /
             ("pc-snapstore-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {}
  ~SnapshotStoreTest() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(SnapshotStoreTest, RoundTripAndRetention) {
  SnapshotStore store(dir_.string(), 2);
  ASSERT_TRUE(store.open());
  auto none = store.load_newest();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  for (std::uint64_t i = 1; i <= 4; ++i) ASSERT_TRUE(store.save(sample(1, i * 10)));
  auto newest = store.load_newest();
  ASSERT_TRUE(newest);
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ(**newest, sample(1, 40));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.path().extension() == ".snap";
  EXPECT_EQ(files, 2);
  // A later term sorts after any index of an earlier one.
  ASSERT_TRUE(store.save(sample(2, 5)));
  EXPECT_EQ(**store.load_newest(), sample(2, 5));
}

TEST_F(SnapshotStoreTest, LeftoverTempFilesAreRemovedAndDamageIsRefused) {
  SnapshotStore store(dir_.string(), 2);
  ASSERT_TRUE(store.open());
  ASSERT_TRUE(store.save(sample(1, 10)));
  std::ofstream(dir_ / "0000000000000001-0000000000000014.snap.tmp") << "half";
  ASSERT_TRUE(store.open());
  EXPECT_FALSE(fs::exists(dir_ / "0000000000000001-0000000000000014.snap.tmp"));
  // Flip one byte of the newest file: an error naming it, never a silent fallback.
  ASSERT_TRUE(store.save(sample(1, 20)));
  const fs::path newest = dir_ / "0000000000000001-0000000000000014.snap";
  ASSERT_TRUE(fs::exists(newest));
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);
    f.put('\x7f');
  }
  auto loaded = store.load_newest();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, core::Code::kCorruption);
  EXPECT_NE(loaded.error().message.find(newest.string()), std::string::npos);
}

TEST(SnapshotStoreCodec, EveryTruncationAndBitFlipIsRefused) {
  const std::string bytes = SnapshotStore::encode(sample(3, 99));
  ASSERT_TRUE(SnapshotStore::decode(bytes));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(SnapshotStore::decode(std::string_view(bytes).substr(0, n))) << n;
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    EXPECT_FALSE(SnapshotStore::decode(flipped)) << i;
  }
}

}  // namespace
}  // namespace pc::consensus
