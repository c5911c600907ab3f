// Whole small files: atomic replacement with the mode asked for, bounded reads, removal.
#include "core/file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <unistd.h>

#include <filesystem>

namespace pc::core {
namespace {

// A fresh directory per test under GoogleTest's temporary directory, removed afterwards.
class Dir {
 public:
  Dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = ::testing::TempDir() + "pc-file-io-" + info->name() + "-" + std::to_string(::getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~Dir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(FileIo, WritesAtomicallyWithTheModeAskedForAndReadsBack) {
  Dir dir;
  const std::string path = dir.path() + "/a/b/file";
  ASSERT_TRUE(write_file_atomic(path, "first", 0600, FileSync::kFull));
  ASSERT_TRUE(write_file_atomic(path, "second", 0600, FileSync::kNone));
  auto read = read_small_file(path, 100);
  ASSERT_TRUE(read);
  ASSERT_TRUE(*read);
  EXPECT_EQ(**read, "second");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(FileIo, ReadsAreBoundedAndAMissingFileIsNoError) {
  Dir dir;
  const std::string path = dir.path() + "/f";
  ASSERT_TRUE(write_file_atomic(path, std::string(101, 'x'), 0600, FileSync::kNone));
  auto too_large = read_small_file(path, 100);
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().code, Code::kTooLarge);
  auto missing = read_small_file(dir.path() + "/none", 100);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  EXPECT_TRUE(remove_file(path));
  EXPECT_TRUE(remove_file(path));  // already gone
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(FileIo, AWriteThatCannotHappenSaysWhereAndLeavesNoTemporaryFile) {
  Dir dir;
  const std::string blocker = dir.path() + "/not-a-dir";
  ASSERT_TRUE(write_file_atomic(blocker, "x", 0600, FileSync::kNone));
  auto st = write_file_atomic(blocker + "/file", "y", 0600, FileSync::kFull);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kIoError);
  EXPECT_NE(st.error().message.find(blocker), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace pc::core
