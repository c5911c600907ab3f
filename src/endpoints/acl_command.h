#pragma once
// What a write sent by a client agent (daemon/client_rpc.h kRpcClientApply) must be allowed to
// do before a server proposes it: the checks Consul's Catalog.Register/Deregister,
// Coordinate.Update, Session.Apply and KVS.Apply make against the caller's token.
//
//   catalog register,  as PUT /v1/catalog/register and /deregister (acl_checks.h, Consul's
//   deregister         vetRegisterWithACL / vetDeregisterWithACL)
//   node register      node:write
//   coordinates        node:write on every node updated
//   session create     session:write on its node; destroy: on the existing session's node
//                      (an unknown session passes: destroying it changes nothing)
//   kv, txn            key:write on the key (key_write_prefix for a tree delete); reads of a
//                      txn need key:read
// Any other command (ACL changes, tombstone reaping) is made only by servers from validated
// input and is refused from a client agent whatever the token.
//
// Pure: reads `snap` (the state the write will be checked against), no I/O.
#include "core/result.h"
#include "endpoints/acl_resolver.h"
#include "state/store.h"

namespace pc::proto {
class Command;
}

namespace pc::endpoints {

// Ok, or PermissionDenied with Consul's "Permission denied: token with AccessorID ..." text
// naming the first permission missing.
core::Status authorize_client_command(const proto::Command& command, const ResolvedToken& who,
                                      const state::Snapshot& snap);

}  // namespace pc::endpoints
