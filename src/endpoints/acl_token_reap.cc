#include "endpoints/acl_token_reap.h"

#include "endpoints/acl_resolver.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {

std::optional<proto::Command> acl_token_reap_command(const Context& ctx, bool include_global) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) return std::nullopt;
  const state::Snapshot snap = ctx.store.snapshot();
  const std::int64_t now = unix_now_ns(ctx);
  proto::Command cmd;
  proto::AclTokenReap* reap = cmd.mutable_acl_token_reap();
  for (const std::string& id :
       snap.acl_expired_token_ids(now, kAclTokenReapBatchMax, /*local_only=*/!include_global)) {
    reap->add_accessor_ids(id);
  }
  if (reap->accessor_ids_size() == 0) return std::nullopt;
  return cmd;
}

}  // namespace pc::endpoints
