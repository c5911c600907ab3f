#include "core/timer_thread.h"

#include "core/strings.h"

namespace pc::core {

TimerThread::TimerThread()
    : thread_([this] {
        set_thread_name("pc-timers");
        run();
      }) {}

TimerThread::~TimerThread() {
  stop();
}

TimerThread::TimerId TimerThread::schedule(MonoTime deadline, std::function<void()> fn) {
  TimerId id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    by_deadline_.emplace(deadline, id);
    timers_.emplace(id, std::make_pair(deadline, std::move(fn)));
  }
  cv_.notify_one();
  return id;
}

bool TimerThread::cancel(TimerId id) {
  std::lock_guard lock(mu_);
  auto it = timers_.find(id);
  if (it == timers_.end()) return false;
  auto [lo, hi] = by_deadline_.equal_range(it->second.first);
  for (auto d = lo; d != hi; ++d) {
    if (d->second == id) {
      by_deadline_.erase(d);
      break;
    }
  }
  timers_.erase(it);
  return true;
}

void TimerThread::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void TimerThread::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (by_deadline_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = by_deadline_.begin();
    // A copy: while we wait, cancel() may erase the node (wait_until reads its deadline again
    // when it wakes).
    const MonoTime deadline = first->first;
    if (std::chrono::steady_clock::now() < deadline) {
      cv_.wait_until(lock, deadline);
      continue;
    }
    TimerId id = first->second;
    by_deadline_.erase(first);
    auto node = timers_.extract(id);
    lock.unlock();
    if (!node.empty()) node.mapped().second();
    lock.lock();
  }
}

}  // namespace pc::core
