#include "core/timer_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace pc::core {
namespace {

using namespace std::chrono_literals;

TEST(TimerThread, RunsInDeadlineOrder) {
  TimerThread timers;
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> done;
  auto now = std::chrono::steady_clock::now();
  timers.schedule(now + 30ms, [&] {
    std::lock_guard lock(mu);
    order.push_back(2);
    done.set_value();
  });
  timers.schedule(now + 10ms, [&] {
    std::lock_guard lock(mu);
    order.push_back(1);
  });
  ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(TimerThread, CancelledTimerNeverRuns) {
  TimerThread timers;
  std::atomic<bool> ran{false};
  auto id = timers.schedule(std::chrono::steady_clock::now() + 20ms, [&] { ran = true; });
  EXPECT_TRUE(timers.cancel(id));
  EXPECT_FALSE(timers.cancel(id));
  std::promise<void> later;
  timers.schedule(std::chrono::steady_clock::now() + 40ms, [&] { later.set_value(); });
  ASSERT_EQ(later.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(ran.load());
}

TEST(TimerThread, CancellingTheTimerItWaitsForIsSafe) {
  // The thread sleeps until the earliest deadline; cancelling that very timer (as a session
  // renew does) must not leave it reading a freed deadline. ASan builds catch a regression.
  TimerThread timers;
  for (int i = 0; i < 200; ++i) {
    auto id = timers.schedule(std::chrono::steady_clock::now() + 5ms, [] {});
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    timers.cancel(id);
  }
  std::promise<void> done;
  timers.schedule(std::chrono::steady_clock::now() + 1ms, [&] { done.set_value(); });
  EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
}

TEST(TimerThread, StopDropsPendingTimers) {
  std::atomic<bool> ran{false};
  {
    TimerThread timers;
    timers.schedule(std::chrono::steady_clock::now() + 1h, [&] { ran = true; });
    timers.stop();
  }
  EXPECT_FALSE(ran.load());
}

}  // namespace
}  // namespace pc::core
