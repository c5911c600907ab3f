#pragma once
// TimerThread: runs callbacks at monotonic deadlines on one dedicated thread. Used for the
// timers the server owns outside any request: session TTLs and tombstone GC.
//
// Thread-safe: schedule() and cancel() from any thread. Callbacks run on the timer thread,
// one at a time, and must not block for long. stop() joins; timers not yet due never run.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/clock.h"

namespace pc::core {

class TimerThread {
 public:
  using TimerId = std::uint64_t;

  TimerThread();
  ~TimerThread();
  TimerThread(const TimerThread&) = delete;
  TimerThread& operator=(const TimerThread&) = delete;

  TimerId schedule(MonoTime deadline, std::function<void()> fn);
  // Returns false if the timer already ran, was cancelled, or never existed.
  bool cancel(TimerId id);
  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<MonoTime, TimerId> by_deadline_;
  std::unordered_map<TimerId, std::pair<MonoTime, std::function<void()>>> timers_;
  TimerId next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pc::core
