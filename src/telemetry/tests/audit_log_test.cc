#include "telemetry/audit_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "telemetry/tests/manual_clock.h"
#include "telemetry/tests/temp_dir.h"

namespace pc::telemetry {
namespace {

using testing::ManualClock;
using testing::TempDir;

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

AuditEvent event(std::string id) {
  AuditEvent e;
  e.id = std::move(id);
  e.operation = "PUT";
  e.endpoint = "/v1/kv/x";
  return e;
}

TEST(AuditLog, WritesEveryEventToEverySinkInOrder) {
  TempDir dir;
  ManualClock clock;
  std::vector<AuditSinkSpec> sinks(2);
  sinks[0].name = "a";
  sinks[0].file.path = dir.path() + "/a/audit.json";
  sinks[1].name = "b";
  sinks[1].file.path = dir.path() + "/b/audit.json";
  AuditLog log(sinks, clock);
  ASSERT_TRUE(log.start());
  for (int i = 0; i < 100; ++i) log.record(event("id-" + std::to_string(i)));
  log.flush();
  for (const char* name : {"a", "b"}) {
    RotatingFile probe(FileSinkOptions{dir.path() + "/" + name + "/audit.json"}, clock);
    std::vector<std::string> files = probe.files();
    ASSERT_EQ(files.size(), 1u);
    std::vector<std::string> lines = lines_of(files[0]);
    ASSERT_EQ(lines.size(), 100u);
    EXPECT_NE(lines[0].find("\"id\":\"id-0\""), std::string::npos);
    EXPECT_NE(lines[99].find("\"id\":\"id-99\""), std::string::npos);
  }
  EXPECT_EQ(log.stats().written, 200u);
  EXPECT_EQ(log.stats().dropped, 0u);
}

TEST(AuditLog, ConcurrentRecordersKeepEachThreadsOrderAndWholeLines) {
  TempDir dir;
  ManualClock clock;
  std::vector<AuditSinkSpec> sinks(1);
  sinks[0].name = "s";
  sinks[0].file.path = dir.path() + "/audit.json";
  sinks[0].file.rotate_bytes = 8192;  // many rotations while the threads write
  AuditLog log(sinks, clock);
  ASSERT_TRUE(log.start());
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kEach; ++i)
        log.record(event(std::to_string(t) + "-" + std::to_string(i)));
    });
  }
  for (auto& th : threads) th.join();
  log.flush();
  RotatingFile probe(FileSinkOptions{dir.path() + "/audit.json"}, clock);
  std::vector<int> next(kThreads, 0);
  int total = 0;
  for (const std::string& file : probe.files()) {
    for (const std::string& line : lines_of(file)) {
      const auto at = line.find("\"id\":\"");
      ASSERT_NE(at, std::string::npos) << line;
      const auto dash = line.find('-', at);
      const int t = std::stoi(line.substr(at + 6, dash - at - 6));
      const int i = std::stoi(line.substr(dash + 1));
      EXPECT_EQ(i, next[t]) << "thread " << t;
      next[t] = i + 1;
      EXPECT_EQ(line.back(), '}');
      ++total;
    }
  }
  EXPECT_EQ(total, kThreads * kEach);
  EXPECT_GT(probe.files().size(), 10u);
}

TEST(AuditLog, ReopenStartsANewFile) {
  TempDir dir;
  ManualClock clock;
  std::vector<AuditSinkSpec> sinks(1);
  sinks[0].name = "s";
  sinks[0].file.path = dir.path() + "/audit.json";
  AuditLog log(sinks, clock);
  ASSERT_TRUE(log.start());
  log.record(event("before"));
  clock.advance(std::chrono::seconds(1));
  log.reopen();
  log.record(event("after"));
  log.flush();
  RotatingFile probe(FileSinkOptions{dir.path() + "/audit.json"}, clock);
  std::vector<std::string> files = probe.files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_NE(lines_of(files[0]).at(0).find("before"), std::string::npos);
  EXPECT_NE(lines_of(files[1]).at(0).find("after"), std::string::npos);
}

TEST(AuditLog, DropsBeyondTheQueueLimitAndAfterStop) {
  TempDir dir;
  ManualClock clock;
  std::vector<AuditSinkSpec> sinks(1);
  sinks[0].name = "s";
  sinks[0].file.path = dir.path() + "/audit.json";
  AuditLog log(sinks, clock, /*queued_max=*/0);  // every event finds the queue full
  ASSERT_TRUE(log.start());
  log.record(event("x"));
  log.flush();
  EXPECT_EQ(log.stats().dropped, 1u);
  EXPECT_EQ(log.stats().written, 0u);
  log.stop();
  log.record(event("y"));
  EXPECT_EQ(log.stats().dropped, 2u);
}

TEST(AuditLog, StopWritesWhatIsQueued) {
  TempDir dir;
  ManualClock clock;
  std::vector<AuditSinkSpec> sinks(1);
  sinks[0].name = "s";
  sinks[0].file.path = dir.path() + "/audit.json";
  {
    AuditLog log(sinks, clock);
    ASSERT_TRUE(log.start());
    for (int i = 0; i < 50; ++i) log.record(event("e"));
  }  // the destructor stops
  RotatingFile probe(FileSinkOptions{dir.path() + "/audit.json"}, clock);
  ASSERT_EQ(probe.files().size(), 1u);
  EXPECT_EQ(lines_of(probe.files()[0]).size(), 50u);
}

TEST(AuditLog, StartFailsNamingTheSink) {
  TempDir dir;
  ManualClock clock;
  std::ofstream(dir.path() + "/blocker") << "x";
  std::vector<AuditSinkSpec> sinks(1);
  sinks[0].name = "My Sink";
  sinks[0].file.path = dir.path() + "/blocker/audit.json";
  AuditLog log(sinks, clock);
  core::Status s = log.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("audit sink \"My Sink\""), std::string::npos);
}

}  // namespace
}  // namespace pc::telemetry
