#pragma once
// The leader's reaper of expired ACL tokens (Consul's reapExpiredTokens): while ACLs are
// enabled and this server leads, it proposes one AclTokenReap command per interval for up to
// endpoints::kAclTokenReapBatchMax expired tokens (Consul runs its reaper at about one batch
// a second too). A batch that came back full is followed by the next at once, so a large
// backlog drains without waiting an interval per batch.
//
// Lifecycle: start() once after the log runs; stopping the TimerThread stops it.
// Thread-safe: runs on the timer thread; the proposal's callback on the apply thread.
#include <atomic>
#include <chrono>
#include <functional>

#include "core/timer_thread.h"
#include "endpoints/context.h"

namespace pc::daemon {

class AclTokenReaper {
 public:
  // `include_global`: also reap global tokens (true in the primary datacenter).
  AclTokenReaper(endpoints::Context& ctx, core::TimerThread& timers, std::function<bool()> leading,
                 bool include_global, std::chrono::milliseconds interval = std::chrono::seconds(1));
  void start();

 private:
  void tick();
  void reap_once();

  endpoints::Context& ctx_;
  core::TimerThread& timers_;
  const std::function<bool()> leading_;
  const bool include_global_;
  const std::chrono::milliseconds interval_;
  std::atomic<bool> in_flight_{false};
};

}  // namespace pc::daemon
