// The member list on disk (daemon/lan_snapshot.h): decoding, the rejoin rule, the journal
// and its compaction.
#include "daemon/lan_snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pc::daemon {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/pc-lan-snapshot-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LanSnapshot, DecodesEventsInOrderAndSkipsWhatDoesNotParse) {
  LanSnapshotState s = decode_lan_snapshot(
      "alive: a 10.0.0.1:8301\n"
      "alive: b 10.0.0.2:8301\n"
      "alive: a 10.0.0.9:8301\n"  // moved: the last address wins
      "not-alive: b\n"
      "bogus line\n"
      "alive: c\n"                // no address
      "alive: d 10.0.0.4:8301");  // torn: no newline
  EXPECT_EQ(s.alive, (std::map<std::string, std::string>{{"a", "10.0.0.9:8301"}}));
  EXPECT_FALSE(s.left);
  EXPECT_EQ(s.lines, 4u);
  EXPECT_EQ(s.skipped, 3u);
  EXPECT_EQ(lan_snapshot_rejoin_addresses(s, "self"), std::vector<std::string>{"10.0.0.9:8301"});
  EXPECT_TRUE(lan_snapshot_rejoin_addresses(s, "a").empty());  // never ourselves
}

TEST(LanSnapshot, AGracefulLeaveMeansNoRejoinUnlessEventsFollow) {
  LanSnapshotState left = decode_lan_snapshot("alive: a 10.0.0.1:8301\nleave\n");
  EXPECT_TRUE(left.left);
  EXPECT_TRUE(lan_snapshot_rejoin_addresses(left, "self").empty());
  LanSnapshotState back =
      decode_lan_snapshot("alive: a 10.0.0.1:8301\nleave\nalive: b 10.0.0.2:8301\n");
  EXPECT_FALSE(back.left);
  EXPECT_EQ(lan_snapshot_rejoin_addresses(back, "self").size(), 2u);
}

TEST(LanSnapshot, TheJournalSurvivesARestartAndDropsTheLeaveMark) {
  TempDir dir;
  const std::string path = dir.path() + "/serf/local.snapshot";
  {
    auto file = LanSnapshotFile::open(path);
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_TRUE((*file)->previous().alive.empty());
    (*file)->alive("a", "10.0.0.1:8301");
    (*file)->alive("a", "10.0.0.1:8301");  // no news: not written again
    (*file)->alive("b", "10.0.0.2:8301");
    (*file)->not_alive("b");
    (*file)->not_alive("zz");  // never alive: nothing to write
    (*file)->leave();
  }
  EXPECT_EQ(read_file(path),
            "alive: a 10.0.0.1:8301\nalive: b 10.0.0.2:8301\nnot-alive: b\nleave\n");
  auto again = LanSnapshotFile::open(path);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE((*again)->previous().left);
  EXPECT_EQ((*again)->previous().alive.size(), 1u);
  // Reopened compact, without the leave: the next start rejoins unless this run leaves too.
  EXPECT_EQ(read_file(path), "alive: a 10.0.0.1:8301\n");
}

TEST(LanSnapshot, TheJournalIsCompactedWhenItGrows) {
  TempDir dir;
  const std::string path = dir.path() + "/local.snapshot";
  auto file = LanSnapshotFile::open(path);
  ASSERT_TRUE(file) << file.error().message;
  for (std::size_t i = 0; i < 3 * lan_snapshot_compact_lines_min; ++i) {
    (*file)->alive("flappy", "10.0.0.1:8301");
    (*file)->not_alive("flappy");
  }
  (*file)->alive("steady", "10.0.0.2:8301");
  std::string text = read_file(path);
  EXPECT_LT(std::count(text.begin(), text.end(), '\n'),
            static_cast<long>(lan_snapshot_compact_lines_min + 2));
  LanSnapshotState s = decode_lan_snapshot(text);
  EXPECT_EQ(s.alive, (std::map<std::string, std::string>{{"steady", "10.0.0.2:8301"}}));
}

TEST(LanSnapshot, AnUnwritableDirectoryIsAnError) {
  auto file = LanSnapshotFile::open("/proc/no-such-dir/serf/local.snapshot");
  EXPECT_FALSE(file);
}

}  // namespace
}  // namespace pc::daemon
