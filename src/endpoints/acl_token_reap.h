#pragma once
// Reaping expired tokens (Consul's reapExpiredACLTokens, agent/consul/acl_token_exp.go): a
// token whose ExpirationTime has passed is refused at once ("ACL not found") and deleted
// soon after by the leader, in batches through the log.
#include <cstddef>
#include <optional>

#include "endpoints/context.h"

namespace pc::proto {
class Command;
}

namespace pc::endpoints {

// At most this many tokens per reap command (Consul's maxTokenExpirationDeletesPerCycle), so
// one log entry stays small however many tokens expire at once.
inline constexpr std::size_t kAclTokenReapBatchMax = 256;

// The AclTokenReap command for up to kAclTokenReapBatchMax tokens expired by the context's
// wall clock: local tokens always, global ones only with `include_global` (Consul reaps
// global tokens in the primary datacenter alone, where they are written; a secondary's
// replication removes them there). nullopt when ACLs are off or nothing has expired.
std::optional<proto::Command> acl_token_reap_command(const Context& ctx, bool include_global);

}  // namespace pc::endpoints
