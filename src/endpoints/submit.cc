#include "endpoints/context.h"

#include <any>

#include "proto/commands.pb.h"

namespace pc::endpoints {

std::int64_t unix_now_ns(const Context& ctx) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             ctx.clock.wall_now().time_since_epoch())
      .count();
}

void submit(Context& ctx, proto::Command command, Done<state::ApplyResult> done) {
  submit_via([&ctx](std::string bytes,
                    consensus::ProposeDone d) { ctx.log.propose(std::move(bytes), std::move(d)); },
             ctx, std::move(command), std::move(done));
}

void submit_via(const ProposeFn& propose, Context& ctx, proto::Command command,
                Done<state::ApplyResult> done) {
  command.set_proposed_unix_ns(unix_now_ns(ctx));
  propose(state::encode_command(command), [done = std::move(done)](core::Result<std::any> result) {
    if (!result) {
      done(result.error());
      return;
    }
    auto* applied = std::any_cast<state::ApplyResult>(&result.value());
    PC_ASSERT(applied != nullptr, "the FSM returned something other than an ApplyResult");
    if (!applied->status) {
      done(applied->status.error());
      return;
    }
    done(std::move(*applied));
  });
}

}  // namespace pc::endpoints
