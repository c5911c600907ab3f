#pragma once
// ACL writes that belong to the primary datacenter (Consul's ACL endpoints set
// args.Datacenter = PrimaryDatacenter and forward): in a secondary, policy and role writes,
// and writes of global tokens, are run by a server of the primary, whose answer is relayed;
// replication then brings the result back here. Local tokens (Local: true) are written here.
//
// Decided from the request alone and this server's state: a token create or update by the
// body's Local field, a token clone or delete by the stored token (one not found here is
// sent to the primary, which may hold it before replication does).
#include <optional>
#include <string>

#include "endpoints/context.h"
#include "http/handler.h"

namespace pc::http {

// The primary datacenter's name when `req` must run there; nullopt to run it here (reads,
// bootstrap, local tokens, ACLs off, or this datacenter is the primary).
std::optional<std::string> acl_primary_for(const endpoints::Context& ctx, const Request& req);

}  // namespace pc::http
