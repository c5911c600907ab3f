#include "endpoints/tombstone_gc.h"

#include "core/log.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {

TombstoneGc::TombstoneGc(Context& ctx, core::TimerThread& timers, core::Duration ttl,
                         core::Duration granularity)
    : ctx_(ctx), timers_(timers), ttl_(ttl), granularity_(granularity) {
  PC_ASSERT(granularity_.count() > 0, "tombstone granularity must be positive");
}

void TombstoneGc::note_delete() {
  std::uint64_t index = ctx_.log.applied_index();
  core::MonoTime now = ctx_.clock.now();
  // Round up to the bucket boundary so every delete in one bucket shares one timer.
  auto since_epoch = now.time_since_epoch();
  auto rounded = ((since_epoch + granularity_ - core::Duration(1)) / granularity_) * granularity_;
  core::MonoTime bucket =
      core::MonoTime(std::chrono::duration_cast<core::MonoTime::duration>(rounded)) +
      std::chrono::duration_cast<core::MonoTime::duration>(ttl_);
  std::lock_guard lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(bucket, index);
  if (!inserted) {
    it->second = std::max(it->second, index);
    return;
  }
  timers_.schedule(bucket, [this, bucket] { reap(bucket); });
}

void TombstoneGc::reap(core::MonoTime bucket) {
  std::uint64_t up_to = 0;
  {
    std::lock_guard lock(mu_);
    auto node = buckets_.extract(bucket);
    if (node.empty()) return;
    up_to = node.mapped();
  }
  proto::Command cmd;
  cmd.mutable_tombstone_reap()->set_up_to_index(up_to);
  submit(ctx_, std::move(cmd), [this, up_to](core::Result<state::ApplyResult> r) {
    if (r) return;
    core::log::warn("state", "tombstone reap up to index {} failed: {}; retrying", up_to,
                    r.error().message);
    // Put the bucket back, one granularity later, so those tombstones are not forgotten.
    core::MonoTime retry =
        ctx_.clock.now() + std::chrono::duration_cast<core::MonoTime::duration>(granularity_);
    std::lock_guard lock(mu_);
    auto [it, inserted] = buckets_.try_emplace(retry, up_to);
    if (!inserted) {
      it->second = std::max(it->second, up_to);
      return;
    }
    timers_.schedule(retry, [this, retry] { reap(retry); });
  });
}

}  // namespace pc::endpoints
