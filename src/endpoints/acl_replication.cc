// The endpoint side of ACL replication (acl_replication.h).
#include "endpoints/acl_replication.h"

#include "endpoints/acl.h"
#include "endpoints/acl_validate.h"
#include "state/acl_proto.h"

namespace pc::endpoints {

using core::Code;
using core::make_error;

std::string acl_primary_datacenter(const Context& ctx) {
  if (ctx.acl != nullptr && !ctx.acl->settings().primary_datacenter.empty()) {
    return ctx.acl->settings().primary_datacenter;
  }
  return ctx.identity.datacenter;
}

bool acl_in_primary(const Context& ctx) {
  return acl_primary_datacenter(ctx) == ctx.identity.datacenter;
}

core::Status acl_check_global_write(const Context& ctx, std::string_view what) {
  if (acl_in_primary(ctx)) return core::ok();
  return make_error(Code::kInvalidArgument,
                    "Cannot upsert " + std::string(what) + " within this datacenter");
}

std::optional<state::Table> replication_table(proto::ReplicationRequest::Kind kind) {
  switch (kind) {
    case proto::ReplicationRequest::ACL_POLICIES: return state::Table::kAclPolicies;
    case proto::ReplicationRequest::ACL_ROLES: return state::Table::kAclRoles;
    case proto::ReplicationRequest::ACL_TOKENS: return state::Table::kAclTokens;
    default: return std::nullopt;
  }
}

core::Result<proto::ReplicationReply> replication_read(const Context& ctx,
                                                       const proto::ReplicationRequest& request,
                                                       state::WatchSet& ws) {
  if (auto st = acl_detail::check_enabled(ctx); !st) return st.error();
  const auto table = replication_table(request.kind());
  if (!table) {
    return make_error(Code::kInvalidArgument,
                      "unknown replication kind " + std::to_string(request.kind()));
  }
  if (!acl_in_primary(ctx)) {
    return make_error(Code::kInvalidArgument, "replication source " + ctx.identity.datacenter +
                                                  " is not the primary datacenter (" +
                                                  acl_primary_datacenter(ctx) + ")");
  }
  auto who = ctx.acl->resolve(request.token());
  if (!who) return who.error();
  // Tokens carry their secrets, which Consul shows only to acl:write.
  const bool tokens = request.kind() == proto::ReplicationRequest::ACL_TOKENS;
  if (auto st = acl_detail::check_acl(ctx, *who, tokens); !st) return st.error();

  ctx.store.watch_table(ws, *table);
  const state::Snapshot snap = ctx.store.snapshot();
  proto::ReplicationReply reply;
  reply.set_index(snap.max_index({*table}));
  switch (request.kind()) {
    case proto::ReplicationRequest::ACL_POLICIES:
      for (const auto& p : snap.acl_policies()) state::to_proto(p, reply.add_policies());
      break;
    case proto::ReplicationRequest::ACL_ROLES:
      for (const auto& r : snap.acl_roles()) state::to_proto(r, reply.add_roles());
      break;
    default: {
      const std::int64_t now = unix_now_ns(ctx);
      for (const auto& t : snap.acl_tokens()) {
        if (t.local || t.is_expired(now)) continue;
        state::to_proto(t, reply.add_tokens());
      }
    }
  }
  return reply;
}

core::Result<AclReplicationStatus> acl_replication_status(const Context& ctx) {
  if (auto st = acl_detail::check_enabled(ctx); !st) return st.error();
  if (ctx.acl_replication != nullptr && !acl_in_primary(ctx)) {
    return ctx.acl_replication->acl_replication_status();
  }
  // Consul's primary reports the zero status: nothing enabled, no source, no type.
  return AclReplicationStatus{};
}

}  // namespace pc::endpoints
