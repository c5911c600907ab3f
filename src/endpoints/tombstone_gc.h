#pragma once
// TombstoneGc: reaps KV tombstones once they are older than the tombstone TTL, through the
// log (a TombstoneReap command), as Consul's TombstoneGC does. Tombstones exist so that a
// blocking list over a prefix sees its index move forward when keys under it are deleted;
// after the TTL every client has had the chance to see that, so they can go.
//
// Where hints come from: every server follows the tombstone table of its own store (a watch,
// re-armed on the timer thread), so a tombstone is noticed however it was made (a KV delete
// or transaction sent to any server, a session destroyed or invalidated with its locks) once
// it is applied here. Consul hints from its state store's graveyard the same way.
//
// Who reaps: only the leader, as in Consul (leader.go enables its TombstoneGC on gaining
// leadership and disables it on losing it). The daemon reports leadership with
// set_enabled(); a disabled GC ignores hints and proposes nothing, and disabling drops every
// pending reap. Enabling hints every tombstone present then, so a new leader reaps the ones
// made under the previous leader one TTL later (docs/decisions/0026).
//
// Deletes are grouped into buckets of `granularity`, one timer per bucket, so a burst of
// deletes costs one reap.
//
// Lifecycle: start() once, after the log runs; destroy after the log and the timer thread
// stopped (their callbacks hold `this`). Thread-safe.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "core/timer_thread.h"
#include "endpoints/context.h"
#include "state/watch.h"

namespace pc::endpoints {

// The bucket width for a TTL: a thirtieth of it, at most 30 s (Consul's 15 min TTL and 30 s
// granularity), so a tombstone lives at most about 3% past its TTL.
core::Duration tombstone_granularity(core::Duration ttl);

class TombstoneGc {
 public:
  TombstoneGc(Context& ctx, core::TimerThread& timers, core::Duration ttl,
              core::Duration granularity);

  // Starts following the store's tombstone table; what it holds now counts as new.
  void start();
  // Gaining leadership (true) hints every tombstone present now; losing it (false) drops
  // every pending reap. Unit tests and -dev keep the default, enabled.
  void set_enabled(bool enabled);
  bool enabled();
  // Tombstones at or below `index` exist as of now and may be reaped one TTL from now
  // (Consul's Hint). Ignored while disabled.
  void hint(std::uint64_t index);
  // Buckets waiting for their reap.
  std::size_t pending_count();

 private:
  // On the timer thread: re-arms the watch, then hints when the table's index moved.
  void observe();
  void schedule_locked(core::MonoTime when, std::uint64_t index);
  void reap(core::MonoTime bucket);

  Context& ctx_;
  core::TimerThread& timers_;
  const core::Duration ttl_;
  const core::Duration granularity_;
  std::mutex mu_;
  bool enabled_ = true;
  std::uint64_t seen_index_ = 0;  // the tombstone table's index last observed
  std::unique_ptr<state::WatchSet> watch_;
  struct Bucket {
    std::uint64_t index = 0;  // highest tombstone index to reap
    core::TimerThread::TimerId timer = 0;
  };
  std::map<core::MonoTime, Bucket> buckets_;  // by reap time
};

}  // namespace pc::endpoints
