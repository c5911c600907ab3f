#pragma once
// The pure half of primary -> secondary replication (docs/decisions/0015): the RPC codec of
// method 21 and, per replicated kind, the diff of the primary's set against this datacenter's
// turned into log commands in bounded batches. No I/O, clock or threads: replicator.h drives
// it, tests call it directly.
//
// A kind is a value, not a class hierarchy: a name, its wire kind and a plan function. ACL
// policies, roles and global tokens are the kinds today; config entries, intentions or CA
// roots become kinds by adding a wire kind, a reply field, a batch command and a plan.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "proto/commands.pb.h"
#include "proto/replication.pb.h"
#include "state/store.h"

namespace pc::daemon {

// Server RPC method 21 (docs/formats/rpc.md): ReplicationRequest -> ReplicationReply, answered
// by a server of the primary datacenter (replication_source.h).
inline constexpr std::uint16_t kRpcReplicationFetch = 21;

// Limits of one batch command (Consul's aclBatchUpsertSize and aclBatchDeleteSize): a large
// set reaches the log as several entries, none of which holds up the log for long.
struct BatchLimits {
  std::size_t upsert_bytes_max = 256 * 1024;
  std::size_t deletes_count_max = 4096;
};

// Decoders of method 21's payloads: bytes from the network, so errors, never asserts.
core::Result<proto::ReplicationRequest> decode_replication_request(std::string_view bytes);
core::Result<proto::ReplicationReply> decode_replication_reply(std::string_view bytes);

// What one kind's pass must change here to match the primary.
struct ReplicationPlan {
  std::vector<proto::Command> commands;  // in order; empty when already equal
  std::size_t upserts = 0;
  std::size_t deletes = 0;
};

struct ReplicatedKind {
  std::string name;  // "policies", "roles", "tokens": for logs and status
  proto::ReplicationRequest::Kind wire = proto::ReplicationRequest::UNKNOWN;
  std::function<ReplicationPlan(const state::Snapshot& local, const proto::ReplicationReply&,
                                const BatchLimits&)>
      plan;
};

ReplicatedKind acl_policies_kind();
ReplicatedKind acl_roles_kind();
// Global tokens only: local tokens of this datacenter are never upserted or deleted.
ReplicatedKind acl_tokens_kind();

}  // namespace pc::daemon
