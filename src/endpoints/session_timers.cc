#include "endpoints/session_timers.h"

#include <set>
#include <vector>

#include "core/duration.h"
#include "core/limits.h"
#include "core/log.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {
// Consul's invalidateSession retries a failed destroy with backoff, as many times.
constexpr int kAttemptsMax = 6;
constexpr auto kRetryBase = std::chrono::milliseconds(10);
}  // namespace

SessionTimers::SessionTimers(Context& ctx, core::TimerThread& timers)
    : ctx_(ctx), timers_(timers) {}

void SessionTimers::arm(const std::string& id, core::Duration ttl) {
  if (ttl.count() <= 0) return;
  auto deadline = ctx_.clock.now() + std::chrono::duration_cast<core::MonoTime::duration>(
                                         ttl * core::limits::session_ttl_multiplier);
  std::lock_guard lock(mu_);
  if (!leader_) return;
  if (auto it = armed_.find(id); it != armed_.end()) timers_.cancel(it->second);
  // The timer needs its own ID to tell whether it is still the armed one when it runs (a renew
  // may have re-armed the session in between); schedule() hands it out only afterwards.
  auto own_id = std::make_shared<core::TimerThread::TimerId>(0);
  auto timer = timers_.schedule(deadline, [this, id, own_id] {
    core::TimerThread::TimerId fired;
    {
      std::lock_guard lock(mu_);
      fired = *own_id;
    }
    expire(id, fired, 0);
  });
  *own_id = timer;
  armed_[id] = timer;
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

void SessionTimers::set_leader(bool leader) {
  {
    std::lock_guard lock(mu_);
    if (leader_ == leader) return;
    leader_ = leader;
    if (!leader) {
      for (const auto& [id, timer] : armed_) timers_.cancel(timer);
      armed_.clear();
      return;
    }
  }
  core::log::debug("session", "leading: arming the TTL timers of every session");
  arm_all_from_state();
}

bool SessionTimers::leader() {
  std::lock_guard lock(mu_);
  return leader_;
}

void SessionTimers::reconcile() {
  std::set<std::string> live;
  std::vector<std::pair<std::string, core::Duration>> unarmed;
  {
    std::lock_guard lock(mu_);
    if (!leader_) return;
    // Read under the lock: a session created after this read arms itself once we let go.
    const auto sessions = ctx_.store.snapshot().session_list();
    for (const auto& session : sessions) {
      if (session.ttl.empty()) continue;
      live.insert(session.id);
      if (armed_.contains(session.id)) continue;
      if (auto ttl = core::parse_go_duration(session.ttl)) unarmed.emplace_back(session.id, *ttl);
    }
    for (auto it = armed_.begin(); it != armed_.end();) {
      if (live.contains(it->first)) {
        ++it;
        continue;
      }
      timers_.cancel(it->second);
      it = armed_.erase(it);
    }
  }
  for (const auto& [id, ttl] : unarmed) arm(id, ttl);
}

std::size_t SessionTimers::armed_count() {
  std::lock_guard lock(mu_);
  return armed_.size();
}

void SessionTimers::expire(const std::string& id, core::TimerThread::TimerId fired, int attempt) {
  {
    std::lock_guard lock(mu_);
    auto it = armed_.find(id);
    // A renew or destroy that ran after this timer fired owns the session's timer now.
    if (attempt == 0 && (it == armed_.end() || it->second != fired)) return;
    if (it != armed_.end() && it->second == fired) armed_.erase(it);
  }
  if (attempt == 0) {
    core::log::info("session", "session {} expired (TTL not renewed), invalidating it", id);
  }
  proto::Command cmd;
  cmd.mutable_session_destroy()->set_id(id);
  submit(ctx_, std::move(cmd), [this, id, attempt](core::Result<state::ApplyResult> r) {
    if (r) return;
    if (attempt + 1 >= kAttemptsMax) {
      core::log::error("session", "invalidating session {} failed {} times, giving up: {}", id,
                       kAttemptsMax, r.error().message);
      return;
    }
    core::log::warn("session", "invalidating session {} failed: {}; retrying", id,
                    r.error().message);
    auto delay = kRetryBase * (1 << attempt);
    timers_.schedule(ctx_.clock.now() + delay, [this, id, attempt] { expire(id, 0, attempt + 1); });
  });
}

}  // namespace pc::endpoints
