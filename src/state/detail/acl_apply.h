#pragma once
// Private to state/: the ACL commands' apply functions (acl_commands.cc), registered in
// commands.cc's kCommands table beside the others.
#include "state/detail/version.h"

namespace pc::state {

ApplyResult apply_acl_token_set(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_token_delete(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_policy_set(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_policy_delete(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_role_set(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_role_delete(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_bootstrap(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_init(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_token_reap(ApplyContext& ctx, const proto::Command& command);
// Replication from the primary datacenter: one kind's upserts and deletions in one entry.
ApplyResult apply_acl_policy_batch(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_role_batch(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_acl_token_batch(ApplyContext& ctx, const proto::Command& command);

// The prepared-query commands (query_commands.cc), and the removal of the queries bound to a
// session when it is destroyed (Consul's sessionDestroyTxn).
ApplyResult apply_prepared_query_set(ApplyContext& ctx, const proto::Command& command);
ApplyResult apply_prepared_query_delete(ApplyContext& ctx, const proto::Command& command);
void delete_session_queries(ApplyContext& ctx, std::string_view session_id);

}  // namespace pc::state
