#include "daemon/acl_token_reaper.h"

#include "core/log.h"
#include "endpoints/acl_token_reap.h"
#include "proto/commands.pb.h"

namespace pc::daemon {

AclTokenReaper::AclTokenReaper(endpoints::Context& ctx, core::TimerThread& timers,
                               std::function<bool()> leading, bool include_global,
                               std::chrono::milliseconds interval)
    : ctx_(ctx),
      timers_(timers),
      leading_(std::move(leading)),
      include_global_(include_global),
      interval_(interval) {}

void AclTokenReaper::start() {
  timers_.schedule(std::chrono::steady_clock::now() + interval_, [this] { tick(); });
}

// The periodic pass: always comes back, even if a proposal's answer were lost.
void AclTokenReaper::tick() {
  reap_once();
  timers_.schedule(std::chrono::steady_clock::now() + interval_, [this] { tick(); });
}

void AclTokenReaper::reap_once() {
  if (!leading_() || in_flight_.exchange(true)) return;
  auto cmd = endpoints::acl_token_reap_command(ctx_, include_global_);
  if (!cmd) {
    in_flight_ = false;
    return;
  }
  const auto count = static_cast<std::size_t>(cmd->acl_token_reap().accessor_ids_size());
  endpoints::submit(ctx_, std::move(*cmd), [this, count](core::Result<state::ApplyResult> r) {
    in_flight_ = false;
    if (!r) {
      core::log::warn("acl", "reaping expired ACL tokens failed: {}", r.error().message);
      return;
    }
    core::log::info("acl", "deleted {} expired ACL tokens", count);
    // A full batch may leave more behind: one extra pass now rather than after an interval.
    if (count >= endpoints::kAclTokenReapBatchMax) {
      timers_.schedule(std::chrono::steady_clock::now(), [this] { reap_once(); });
    }
  });
}

}  // namespace pc::daemon
