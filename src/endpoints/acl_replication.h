#pragma once
// ACLs across datacenters (Consul's primary_datacenter): the primary owns policies, roles and
// global tokens; each secondary copies them (daemon/replicator.h) and keeps its local tokens.
// This file holds what the endpoint layer knows of that:
//   - which datacenter is primary, and the checks that keep global writes and bootstrap out
//     of a secondary;
//   - the primary's answer to a replication request (server RPC method 21): one kind's full
//     set and the index it reflects, for the replication token;
//   - the status /v1/acl/replication shows (Consul's structs.ACLReplicationStatus).
#include <cstdint>
#include <optional>
#include <string>

#include "endpoints/context.h"
#include "proto/replication.pb.h"
#include "state/types.h"

namespace pc::endpoints {

// The primary datacenter's name: primary_datacenter, or this datacenter when unset.
std::string acl_primary_datacenter(const Context& ctx);
bool acl_in_primary(const Context& ctx);

// A write of global ACL state (a policy, a role, a global token) arriving in a secondary: an
// error, since only the primary may make it and the next replication pass would undo it.
// `what` is "policies", "roles" or "global tokens", as in Consul's "Cannot upsert ... within
// this datacenter". OK in the primary.
core::Status acl_check_global_write(const Context& ctx, std::string_view what);

// The table a replicated kind reads (its blocking wait watches it); nullopt for UNKNOWN.
std::optional<state::Table> replication_table(proto::ReplicationRequest::Kind kind);

// The primary's answer: ACLs on, this datacenter primary, the request's token allowed
// acl:read (acl:write for tokens, whose secrets travel). Global tokens only; expired ones are
// left out as reads leave them out. `ws` collects the kind's table for a blocking wait.
core::Result<proto::ReplicationReply> replication_read(const Context& ctx,
                                                       const proto::ReplicationRequest& request,
                                                       state::WatchSet& ws);

// Consul's ACLReplicationStatus. Times are Unix nanoseconds; nullopt is Go's zero time.
struct AclReplicationStatus {
  bool enabled = false;
  bool running = false;
  std::string source_datacenter;
  std::string replication_type;              // "policies", or "tokens" with token replication
  std::uint64_t replicated_index = 0;        // policies
  std::uint64_t replicated_role_index = 0;   // roles
  std::uint64_t replicated_token_index = 0;  // tokens
  std::optional<std::int64_t> last_success_unix_ns;
  std::optional<std::int64_t> last_error_unix_ns;
  std::string last_error_message;
};

// Where a secondary's replicators report (daemon/replicator.h). Thread-safe.
class AclReplicationStatusSource {
 public:
  virtual ~AclReplicationStatusSource() = default;
  virtual AclReplicationStatus acl_replication_status() const = 0;
};

// What /v1/acl/replication answers on this server: the replicators' status in a secondary
// (ctx.acl_replication), Enabled false in the primary as Consul answers there.
core::Result<AclReplicationStatus> acl_replication_status(const Context& ctx);

}  // namespace pc::endpoints
