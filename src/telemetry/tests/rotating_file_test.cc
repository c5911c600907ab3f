#include "telemetry/rotating_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "telemetry/tests/manual_clock.h"
#include "telemetry/tests/temp_dir.h"

namespace pc::telemetry {
namespace {

using testing::ManualClock;
using testing::TempDir;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string base(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

TEST(RotatingFile, NamesFilesWithCreationTimeInNanoseconds) {
  TempDir dir;
  ManualClock clock;
  FileSinkOptions o;
  o.path = dir.path() + "/sub/audit.json";
  RotatingFile f(o, clock);
  ASSERT_TRUE(f.open());
  EXPECT_EQ(base(f.current_path()), "audit-1800000000000000000.json");
  ASSERT_TRUE(f.write("one\n"));
  EXPECT_EQ(read_all(f.current_path()), "one\n");
  struct stat st {};
  ASSERT_EQ(::stat(f.current_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  FileSinkOptions plain;
  plain.path = dir.path() + "/audit";
  RotatingFile g(plain, clock);
  ASSERT_TRUE(g.open());
  EXPECT_EQ(base(g.current_path()), "audit-1800000000000000000.log");
}

TEST(RotatingFile, RotatesBeforeALineWouldPassRotateBytes) {
  TempDir dir;
  ManualClock clock;
  FileSinkOptions o;
  o.path = dir.path() + "/audit.json";
  o.rotate_bytes = 10;
  RotatingFile f(o, clock);
  ASSERT_TRUE(f.open());
  ASSERT_TRUE(f.write("12345\n"));                   // 6 bytes
  ASSERT_TRUE(f.write("123\n"));                     // 10: still fits
  ASSERT_TRUE(f.write("x\n"));                       // would be 12: a new file
  ASSERT_TRUE(f.write("a line longer than ten\n"));  // a file of its own
  ASSERT_TRUE(f.write("y\n"));
  std::vector<std::string> files = f.files();
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(read_all(files[0]), "12345\n123\n");
  EXPECT_EQ(read_all(files[1]), "x\n");
  EXPECT_EQ(read_all(files[2]), "a line longer than ten\n");
  EXPECT_EQ(read_all(files[3]), "y\n");
  EXPECT_EQ(files[3], f.current_path());
}

TEST(RotatingFile, RotatesWhenRotateDurationHasPassed) {
  TempDir dir;
  ManualClock clock;
  FileSinkOptions o;
  o.path = dir.path() + "/audit.json";
  o.rotate_duration = std::chrono::hours(1);
  RotatingFile f(o, clock);
  ASSERT_TRUE(f.open());
  const std::string first = f.current_path();
  ASSERT_TRUE(f.write("a\n"));
  clock.advance(std::chrono::minutes(59));
  ASSERT_TRUE(f.write("b\n"));
  EXPECT_EQ(f.current_path(), first);
  clock.advance(std::chrono::minutes(1));
  ASSERT_TRUE(f.write("c\n"));
  EXPECT_NE(f.current_path(), first);
  EXPECT_EQ(base(f.current_path()), "audit-1800003600000000000.json");
  EXPECT_EQ(read_all(first), "a\nb\n");
  EXPECT_EQ(read_all(f.current_path()), "c\n");
}

TEST(RotatingFile, KeepsAtMostRotateMaxFilesOldFiles) {
  TempDir dir;
  ManualClock clock;
  FileSinkOptions o;
  o.path = dir.path() + "/audit.json";
  o.rotate_bytes = 2;
  o.rotate_max_files = 2;
  RotatingFile f(o, clock);
  ASSERT_TRUE(f.open());
  // Another sink's file in the same directory is not ours to prune.
  std::ofstream(dir.path() + "/other-1.json") << "keep";
  for (char c = 'a'; c <= 'f'; ++c) {
    clock.advance(std::chrono::seconds(1));
    ASSERT_TRUE(f.write(std::string(1, c) + "\n"));
  }
  std::vector<std::string> files = f.files();
  ASSERT_EQ(files.size(), 3u);  // two old ones and the current one
  EXPECT_EQ(read_all(files[0]), "d\n");
  EXPECT_EQ(read_all(files[1]), "e\n");
  EXPECT_EQ(read_all(files[2]), "f\n");
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/other-1.json"));
}

TEST(RotatingFile, StalledClockStillGetsUniqueNames) {
  TempDir dir;
  ManualClock clock;
  FileSinkOptions o;
  o.path = dir.path() + "/audit.json";
  RotatingFile f(o, clock);
  ASSERT_TRUE(f.open());
  ASSERT_TRUE(f.rotate());
  ASSERT_TRUE(f.rotate());
  std::vector<std::string> files = f.files();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(base(files[2]), "audit-1800000000000000002.json");
}

TEST(RotatingFile, ARemovedDirectoryComesBackAtTheNextRotation) {
  TempDir dir;
  ManualClock clock;
  FileSinkOptions o;
  o.path = dir.path() + "/logs/audit.json";
  o.rotate_bytes = 4;
  RotatingFile f(o, clock);
  ASSERT_TRUE(f.open());
  ASSERT_TRUE(f.write("a\n"));
  std::filesystem::remove_all(dir.path() + "/logs");
  ASSERT_TRUE(f.write("bcd\n"));  // rotates: a new directory and file
  ASSERT_EQ(f.files().size(), 1u);
  EXPECT_EQ(read_all(f.current_path()), "bcd\n");
}

TEST(RotatingFile, OpenFailsWithThePath) {
  TempDir dir;
  ManualClock clock;
  std::ofstream(dir.path() + "/file") << "x";
  FileSinkOptions o;
  o.path = dir.path() + "/file/audit.json";  // a regular file where the directory should be
  RotatingFile f(o, clock);
  core::Status s = f.open();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, core::Code::kIoError);
  EXPECT_NE(s.error().message.find(dir.path() + "/file"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace pc::telemetry
