#include "endpoints/tombstone_gc.h"

#include <algorithm>

#include "core/log.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

constexpr std::string_view kModule = "state";

core::MonoTime::duration mono(core::Duration d) {
  return std::chrono::duration_cast<core::MonoTime::duration>(d);
}

}  // namespace

core::Duration tombstone_granularity(core::Duration ttl) {
  const core::Duration most = std::chrono::seconds(30);
  return std::clamp<core::Duration>(ttl / 30, core::Duration(1), most);
}

TombstoneGc::TombstoneGc(Context& ctx, core::TimerThread& timers, core::Duration ttl,
                         core::Duration granularity)
    : ctx_(ctx), timers_(timers), ttl_(ttl), granularity_(granularity) {
  PC_ASSERT(granularity_.count() > 0, "tombstone granularity must be positive");
  PC_ASSERT(ttl_.count() > 0, "tombstone TTL must be positive");
}

void TombstoneGc::start() {
  observe();
}

void TombstoneGc::observe() {
  // The watch goes in before the read, so a tombstone applied in between fires it.
  auto ws = std::make_unique<state::WatchSet>();
  ctx_.store.watch_table(*ws, state::Table::kTombstones);
  const std::uint64_t index = ctx_.store.snapshot().table_index(state::Table::kTombstones);
  bool moved = false;
  {
    // Held while registering: the next observe() (on the timer thread) replaces the set,
    // which must not happen under notify_once.
    std::lock_guard lock(mu_);
    moved = index != seen_index_;  // a restored snapshot may even move it back
    seen_index_ = index;
    watch_ = std::move(ws);
    // Runs on the apply thread at publish (or here, if it fired already): never block there.
    watch_->notify_once([this] { timers_.schedule(ctx_.clock.now(), [this] { observe(); }); });
  }
  if (moved) hint(index);
}

void TombstoneGc::set_enabled(bool enabled) {
  {
    std::lock_guard lock(mu_);
    if (enabled_ == enabled) return;
    enabled_ = enabled;
    if (!enabled) {
      for (const auto& [when, bucket] : buckets_) timers_.cancel(bucket.timer);
      buckets_.clear();
      core::log::debug(kModule, "tombstone GC disabled: pending reaps dropped");
      return;
    }
  }
  // Consul's establishLeadership hints the last index: whatever was deleted under the
  // previous leader is reaped one TTL from now.
  core::log::debug(kModule, "tombstone GC enabled");
  hint(ctx_.store.snapshot().table_index(state::Table::kTombstones));
}

bool TombstoneGc::enabled() {
  std::lock_guard lock(mu_);
  return enabled_;
}

std::size_t TombstoneGc::pending_count() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

void TombstoneGc::hint(std::uint64_t index) {
  if (index == 0) return;
  // Round up to the bucket boundary so every delete in one bucket shares one timer.
  const auto since_epoch = ctx_.clock.now().time_since_epoch();
  const auto rounded =
      ((since_epoch + mono(granularity_) - core::MonoTime::duration(1)) / mono(granularity_)) *
      mono(granularity_);
  const core::MonoTime when = core::MonoTime(rounded) + mono(ttl_);
  std::lock_guard lock(mu_);
  if (!enabled_) return;
  schedule_locked(when, index);
}

void TombstoneGc::schedule_locked(core::MonoTime when, std::uint64_t index) {
  auto [it, inserted] = buckets_.try_emplace(when);
  it->second.index = std::max(it->second.index, index);
  if (inserted) it->second.timer = timers_.schedule(when, [this, when] { reap(when); });
}

void TombstoneGc::reap(core::MonoTime bucket) {
  std::uint64_t up_to = 0;
  {
    std::lock_guard lock(mu_);
    auto node = buckets_.extract(bucket);
    if (node.empty() || !enabled_) return;
    up_to = node.mapped().index;
  }
  core::log::debug(kModule, "reaping tombstones up to index {}", up_to);
  proto::Command cmd;
  cmd.mutable_tombstone_reap()->set_up_to_index(up_to);
  submit(ctx_, std::move(cmd), [this, up_to](core::Result<state::ApplyResult> r) {
    if (r) return;
    std::lock_guard lock(mu_);
    // A server that lost leadership meanwhile leaves the reap to the new leader.
    if (!enabled_) return;
    core::log::warn(kModule, "tombstone reap up to index {} failed: {}; retrying", up_to,
                    r.error().message);
    // Put the bucket back, one granularity later, so those tombstones are not forgotten.
    schedule_locked(ctx_.clock.now() + mono(granularity_), up_to);
  });
}

}  // namespace pc::endpoints
