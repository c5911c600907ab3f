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

namespace pc::daemon {

// The resolver ctx.acl points at on a client agent: `fetch` asks a server. InvalidArgument
// when token_ttl or down_policy does not parse (the config loader refuses both first).
core::Result<std::unique_ptr<endpoints::AclResolver>> client_acl_resolver(
    const core::AclConfig& config, const std::string& datacenter, endpoints::TokenFetch fetch);

}  // namespace pc::daemon
