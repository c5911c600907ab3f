#include "consensus/runtime/single_node_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>

namespace pc::consensus {
namespace {

// Records what it applied; "publish" marks how far readers could see.
class RecordingFsm : public Fsm {
 public:
  std::any apply(std::uint64_t index, std::string_view command) override {
    std::lock_guard lock(mu);
    applied.emplace_back(index, std::string(command));
    return index;
  }
  void publish() override {
    std::lock_guard lock(mu);
    published_upto = applied.empty() ? 0 : applied.back().first;
    ++publishes;
  }
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::string>> applied;
  std::uint64_t published_upto = 0;
  int publishes = 0;
};

TEST(SingleNodeLog, AppliesInOrderAndAcknowledgesAfterPublish) {
  RecordingFsm fsm;
  SingleNodeLog log(fsm, "127.0.0.1:8300");
  log.start();
  constexpr int kWriters = 4, kPerWriter = 250;
  std::vector<std::thread> writers;
  std::atomic<int> acked{0};
  std::atomic<bool> saw_unpublished{false};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::promise<std::uint64_t> p;
        log.propose("w" + std::to_string(w) + "-" + std::to_string(i),
                    [&](core::Result<std::any> r) {
                      ASSERT_TRUE(r.has_value());
                      auto index = std::any_cast<std::uint64_t>(r.value());
                      {
                        std::lock_guard lock(fsm.mu);
                        if (fsm.published_upto < index) saw_unpublished = true;
                      }
                      p.set_value(index);
                    });
        ASSERT_EQ(p.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
        ++acked;
      }
    });
  }
  for (auto& t : writers) t.join();
  log.stop();
  EXPECT_EQ(acked.load(), kWriters * kPerWriter);
  EXPECT_FALSE(saw_unpublished.load()) << "a write was acknowledged before readers could see it";
  ASSERT_EQ(fsm.applied.size(), static_cast<std::size_t>(kWriters * kPerWriter));
  for (std::size_t i = 0; i < fsm.applied.size(); ++i) EXPECT_EQ(fsm.applied[i].first, i + 1);
  EXPECT_EQ(log.applied_index(), fsm.applied.size());
  EXPECT_EQ(log.last_index(), fsm.applied.size());
}

TEST(SingleNodeLog, ProposeAfterStopFailsWithUnavailable) {
  RecordingFsm fsm;
  SingleNodeLog log(fsm, "127.0.0.1:8300");
  log.start();
  log.stop();
  bool called = false;
  log.propose("x", [&](core::Result<std::any> r) {
    called = true;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, core::Code::kUnavailable);
  });
  EXPECT_TRUE(called);
  EXPECT_TRUE(log.leader().known_leader);
}

TEST(SingleNodeLog, StopDrainsQueuedProposals) {
  RecordingFsm fsm;
  SingleNodeLog log(fsm, "127.0.0.1:8300");
  log.start();
  std::atomic<int> done{0};
  for (int i = 0; i < 100; ++i) {
    log.propose("x", [&](core::Result<std::any> r) {
      if (r.has_value()) ++done;
    });
  }
  log.stop();
  EXPECT_EQ(done.load(), 100);
}

}  // namespace
}  // namespace pc::consensus
