#include "endpoints/session_timers.h"

#include "core/duration.h"
#include "core/limits.h"
#include "core/log.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {

SessionTimers::SessionTimers(Context& ctx, core::TimerThread& timers)
    : ctx_(ctx), timers_(timers) {}

void SessionTimers::arm(const std::string& id, core::Duration ttl) {
  if (ttl.count() <= 0) return;
  auto deadline = ctx_.clock.now() + std::chrono::duration_cast<core::MonoTime::duration>(
                                         ttl * core::limits::session_ttl_multiplier);
  std::lock_guard lock(mu_);
  if (auto it = armed_.find(id); it != armed_.end()) timers_.cancel(it->second);
  armed_[id] = timers_.schedule(deadline, [this, id] { expire(id); });
}

void SessionTimers::cancel(const std::string& id) {
  std::lock_guard lock(mu_);
  if (auto it = armed_.find(id); it != armed_.end()) {
    timers_.cancel(it->second);
    armed_.erase(it);
  }
}

void SessionTimers::arm_all_from_state() {
  for (const auto& session : ctx_.store.snapshot().session_list()) {
    if (session.ttl.empty()) continue;
    auto ttl = core::parse_go_duration(session.ttl);
    if (ttl) arm(session.id, *ttl);
  }
}

std::size_t SessionTimers::armed_count() {
  std::lock_guard lock(mu_);
  return armed_.size();
}

void SessionTimers::expire(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    armed_.erase(id);
  }
  core::log::info("session", "session {} expired (TTL not renewed), invalidating it", id);
  proto::Command cmd;
  cmd.mutable_session_destroy()->set_id(id);
  submit(ctx_, std::move(cmd), [id](core::Result<state::ApplyResult> r) {
    if (!r) core::log::warn("session", "invalidating session {} failed: {}", id, r.error().message);
  });
}

}  // namespace pc::endpoints
