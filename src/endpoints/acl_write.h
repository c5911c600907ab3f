#pragma once
// The ACL check of a write an agent makes for itself before a server proposes it: a client
// agent's forwarded anti-entropy and session writes (daemon/client_service), and a server
// agent's own anti-entropy, which Consul checks the same way (its "... blocked by ACLs"
// warnings): authorize_client_command's rules against the token the write acts for.
//
// Thread-safe: reads the resolver and the latest snapshot.
#include <string>

#include "core/result.h"
#include "endpoints/context.h"

namespace pc::proto {
class Command;
}

namespace pc::endpoints {

// Ok with ACLs off; else the command checked against `secret` ("" is the anonymous token: the
// caller has already chosen its agent or default token). Errors: resolution's ("ACL not
// found") or PermissionDenied naming the first permission missing.
core::Status authorize_write_for(const Context& ctx, const proto::Command& command,
                                 const std::string& secret);

// A server agent's own write acting for `token`, "" meaning the agent's token from the
// runtime holder (acl.tokens.agent, else acl.tokens.default, else anonymous), read per call
// so PUT /v1/agent/token/agent takes effect at once.
core::Status authorize_own_write(const Context& ctx, const proto::Command& command,
                                 const std::string& token);

}  // namespace pc::endpoints
