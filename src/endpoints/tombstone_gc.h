#pragma once
// TombstoneGc: reaps KV tombstones once they are older than the tombstone TTL, through the
// log (a TombstoneReap command), as Consul's TombstoneGC does. Tombstones exist so that a
// blocking list over a prefix sees its index move forward when keys under it are deleted;
// after the TTL every client has had the chance to see that, so they can go.
//
// Deletes are grouped into buckets of `granularity`, one timer per bucket, so a burst of
// deletes costs one reap. Thread-safe.
#include <map>
#include <mutex>

#include "core/timer_thread.h"
#include "endpoints/context.h"

namespace pc::endpoints {

class TombstoneGc {
 public:
  TombstoneGc(Context& ctx, core::TimerThread& timers, core::Duration ttl,
              core::Duration granularity);

  // Called after a delete was applied: every tombstone at or below the log's applied index
  // now may be reaped one TTL from now.
  void note_delete();

 private:
  void reap(core::MonoTime bucket);

  Context& ctx_;
  core::TimerThread& timers_;
  const core::Duration ttl_;
  const core::Duration granularity_;
  std::mutex mu_;
  std::map<core::MonoTime, std::uint64_t> buckets_;  // reap time -> highest index to reap
};

}  // namespace pc::endpoints
