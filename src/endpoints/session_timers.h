#pragma once
// SessionTimers: the leader's TTL timers for sessions. A session with a TTL that is not
// renewed is destroyed through the log after 2x its TTL (Consul's sessionTTLMultiplier), which
// releases or deletes its locks.
//
// Only the leader keeps timers, as in Consul: a follower's timer would never see renewals
// sent to another server and would destroy a live session. The daemon reports leadership
// with set_leader(): on gaining it every session in the state gets a full TTL
// (initializeSessionTimers), on losing it every timer is dropped. Renewals reach the leader
// (the daemon forwards /v1/session/renew there); sessions created through another server are
// armed by reconcile(), which the daemon runs every second on the leader. Thread-safe.
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "core/timer_thread.h"
#include "endpoints/context.h"

namespace pc::endpoints {

class SessionTimers {
 public:
  SessionTimers(Context& ctx, core::TimerThread& timers);

  // (Re)starts the timer of a session: it expires 2x ttl from now unless renewed. Ignored
  // unless this server leads.
  void arm(const std::string& id, core::Duration ttl);
  void cancel(const std::string& id);
  // Arms a timer for every session with a TTL in the current state (on start-up, and later
  // when this server becomes the leader).
  void arm_all_from_state();
  // Gaining leadership arms every session anew; losing it cancels every timer.
  void set_leader(bool leader);
  bool leader();
  // On the leader: arms sessions of the state that have no timer yet (created through another
  // server) and drops timers of sessions the state no longer has.
  void reconcile();
  std::size_t armed_count();

 private:
  // Invalidates a session whose timer `fired` ran; `attempt` counts retries after the log
  // refused the destroy (Consul retries invalidation with backoff too).
  void expire(const std::string& id, core::TimerThread::TimerId fired, int attempt);

  Context& ctx_;
  core::TimerThread& timers_;
  std::mutex mu_;
  std::unordered_map<std::string, core::TimerThread::TimerId> armed_;
  // Unit tests and -dev construct timers that act at once; a server starts as a follower.
  bool leader_ = true;
};

}  // namespace pc::endpoints
