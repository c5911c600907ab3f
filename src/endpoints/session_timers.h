#pragma once
// SessionTimers: the leader's TTL timers for sessions. A session with a TTL that is not
// renewed is destroyed through the log after 2x its TTL (Consul's sessionTTLMultiplier), which
// releases or deletes its locks. Thread-safe.
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/timer_thread.h"
#include "endpoints/context.h"

namespace pc::endpoints {

class SessionTimers {
 public:
  SessionTimers(Context& ctx, core::TimerThread& timers);

  // (Re)starts the timer of a session: it expires 2x ttl from now unless renewed.
  void arm(const std::string& id, core::Duration ttl);
  void cancel(const std::string& id);
  // Arms a timer for every session with a TTL in the current state (on start-up, and later
  // when this server becomes the leader).
  void arm_all_from_state();
  std::size_t armed_count();

 private:
  // Invalidates a session whose timer `fired` ran; `attempt` counts retries after the log
  // refused the destroy (Consul retries invalidation with backoff too).
  void expire(const std::string& id, core::TimerThread::TimerId fired, int attempt);

  Context& ctx_;
  core::TimerThread& timers_;
  std::mutex mu_;
  std::unordered_map<std::string, core::TimerThread::TimerId> armed_;
};

}  // namespace pc::endpoints
