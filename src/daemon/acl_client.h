#pragma once
// ACLs on a client agent (`proconsul agent` without -server), as Consul's client agents do
// them: tokens are resolved by a server and cached for acl.token_ttl, with acl.down_policy
// deciding while no server answers (endpoints/acl_remote.h); writes carry the agent's token.
#include <functional>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/result.h"
#include "endpoints/acl_remote.h"
#include "endpoints/acl_resolver.h"
#include "federation/wan_dc_caller.h"

namespace pc::daemon {

// The resolver ctx.acl points at on a client agent: `fetch` asks a server. InvalidArgument
// when token_ttl or down_policy does not parse (the config loader refuses both first).
core::Result<std::unique_ptr<endpoints::AclResolver>> client_acl_resolver(
    const core::AclConfig& config, const std::string& datacenter, endpoints::TokenFetch fetch);

// A secondary datacenter's server without token replication: the primary's servers resolve
// the global tokens its tables lack (the client agents' method, kRpcClientAclResolve, over
// the cross-datacenter call), cached for acl.token_ttl with acl.down_policy while the
// primary is unreachable, as Consul's secondaries resolve tokens remotely. `caller` must
// outlive the source.
core::Result<std::unique_ptr<const endpoints::TokenSource>> primary_token_source(
    const core::AclConfig& config, const std::string& datacenter, std::string primary,
    federation::WanDcCaller& caller);

}  // namespace pc::daemon
