// Replication's diff and batching (replication_plan.h).
#include "daemon/replication_plan.h"

#include <map>
#include <set>

#include "state/acl_proto.h"

namespace pc::daemon {
namespace {

using core::Code;
using core::make_error;

// Replies are bounded by the rpc frame (64 MiB); this bounds what one decode may allocate
// per repeated field as well, so a hostile peer cannot make a secondary hold millions of rows.
constexpr int kReplyRowsMax = 1'000'000;

// What must be equal for a row to need no write: every field a client sets. Indexes are each
// datacenter's own, and link names are refreshed from the linked object on every write and
// read, so they may lag in one datacenter without the row differing.
state::AclPolicy comparable(state::AclPolicy p) {
  p.create_index = p.modify_index = 0;
  return p;
}
state::AclRole comparable(state::AclRole r) {
  r.create_index = r.modify_index = 0;
  for (auto& l : r.policies) l.name.clear();
  return r;
}
state::AclToken comparable(state::AclToken t) {
  t.create_index = t.modify_index = 0;
  t.expiration_ttl = std::chrono::nanoseconds(0);
  for (auto& l : t.policies) l.name.clear();
  for (auto& l : t.roles) l.name.clear();
  return t;
}

// The generic diff: rows of `remote` missing or different here are upserts; rows here that
// `remote` lacks are deletions. `owned` says which local rows replication manages.
template <class Row, class Key, class Owned>
void diff_rows(const std::vector<Row>& local, const std::vector<Row>& remote, Key key, Owned owned,
               std::vector<Row>& upserts, std::vector<std::string>& deletes) {
  std::map<std::string, const Row*> here;
  for (const Row& r : local) {
    if (owned(r)) here.emplace(key(r), &r);
  }
  for (const Row& r : remote) {
    auto it = here.find(key(r));
    if (it == here.end() || !(comparable(*it->second) == comparable(r))) upserts.push_back(r);
    if (it != here.end()) here.erase(it);
  }
  for (const auto& [k, row] : here) deletes.push_back(k);
}

// Packs deletions, then upserts, into commands of at most `limits` each. `batch_of` gives
// the kind's batch message inside a command.
template <class Row, class Msg, class BatchOf>
ReplicationPlan pack(const std::vector<Row>& upserts, const std::vector<std::string>& deletes,
                     const BatchLimits& limits, BatchOf batch_of) {
  ReplicationPlan plan;
  plan.upserts = upserts.size();
  plan.deletes = deletes.size();
  proto::Command cmd;
  bool open = false;
  std::size_t bytes = 0;
  auto flush = [&] {
    if (open) plan.commands.push_back(std::move(cmd));
    cmd = proto::Command();
    open = false;
    bytes = 0;
  };
  for (const std::string& id : deletes) {
    auto* batch = batch_of(cmd);
    if (static_cast<std::size_t>(batch->deletes_size()) >= limits.deletes_count_max) {
      flush();
      batch = batch_of(cmd);
    }
    batch->add_deletes(id);
    open = true;
  }
  for (const Row& row : upserts) {
    Msg m;
    state::to_proto(row, &m);
    const std::size_t size = m.ByteSizeLong();
    // A row larger than the limit still travels, alone in its batch.
    if (open && bytes > 0 && bytes + size > limits.upsert_bytes_max) flush();
    *batch_of(cmd)->add_upserts() = std::move(m);
    bytes += size;
    open = true;
  }
  flush();
  return plan;
}

template <class Msg>
auto rows_of(const google::protobuf::RepeatedPtrField<Msg>& field) {
  using Row = decltype(state::from_proto(std::declval<const Msg&>()));
  std::vector<Row> out;
  out.reserve(static_cast<std::size_t>(field.size()));
  for (const Msg& m : field) out.push_back(state::from_proto(m));
  return out;
}

}  // namespace

core::Result<proto::ReplicationRequest> decode_replication_request(std::string_view bytes) {
  proto::ReplicationRequest req;
  if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return make_error(Code::kInvalidArgument, "replication request: undecodable payload");
  }
  if (req.kind() == proto::ReplicationRequest::UNKNOWN ||
      !proto::ReplicationRequest::Kind_IsValid(req.kind())) {
    return make_error(Code::kInvalidArgument,
                      "replication request: unknown kind " + std::to_string(req.kind()));
  }
  return req;
}

core::Result<proto::ReplicationReply> decode_replication_reply(std::string_view bytes) {
  proto::ReplicationReply reply;
  if (!reply.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return make_error(Code::kCorruption, "replication reply: undecodable payload");
  }
  if (reply.policies_size() > kReplyRowsMax || reply.roles_size() > kReplyRowsMax ||
      reply.tokens_size() > kReplyRowsMax) {
    return make_error(Code::kTooLarge, "replication reply: too many rows");
  }
  for (const auto& t : reply.tokens()) {
    if (t.local()) {
      return make_error(Code::kCorruption,
                        "replication reply: local token " + t.accessor_id() + " in the set");
    }
  }
  return reply;
}

namespace {

// A kind of ACL rows: its rows here and in a reply, their key, which local rows replication
// owns, and the batch message of a command that carries them.
template <class Row, class Msg, class LocalRows, class ReplyRows, class Key, class Owned,
          class BatchOf>
ReplicatedKind acl_kind(std::string name, proto::ReplicationRequest::Kind wire,
                        LocalRows local_rows, ReplyRows reply_rows, Key key, Owned owned,
                        BatchOf batch_of) {
  ReplicatedKind k;
  k.name = std::move(name);
  k.wire = wire;
  k.plan = [=](const state::Snapshot& local, const proto::ReplicationReply& reply,
               const BatchLimits& limits) {
    const std::vector<Row> here = local_rows(local);
    std::vector<Row> upserts;
    std::vector<std::string> deletes;
    diff_rows(here, rows_of(reply_rows(reply)), key, owned, upserts, deletes);
    // A row of the primary whose key names a row here that replication does not own (a
    // local token) would replace it; apply refuses that, so keep the local one.
    std::set<std::string> foreign;
    for (const Row& m : here) {
      if (!owned(m)) foreign.insert(key(m));
    }
    std::erase_if(upserts, [&](const Row& r) { return foreign.contains(key(r)); });
    return pack<Row, Msg>(upserts, deletes, limits, batch_of);
  };
  return k;
}

const auto kEveryRow = [](const auto&) { return true; };

}  // namespace

ReplicatedKind acl_policies_kind() {
  return acl_kind<state::AclPolicy, proto::AclPolicy>(
      "policies", proto::ReplicationRequest::ACL_POLICIES,
      [](const state::Snapshot& s) { return s.acl_policies(); },
      [](const proto::ReplicationReply& r) -> const auto& { return r.policies(); },
      [](const state::AclPolicy& p) { return p.id; }, kEveryRow,
      [](proto::Command& c) { return c.mutable_acl_policy_batch(); });
}

ReplicatedKind acl_roles_kind() {
  return acl_kind<state::AclRole, proto::AclRole>(
      "roles", proto::ReplicationRequest::ACL_ROLES,
      [](const state::Snapshot& s) { return s.acl_roles(); },
      [](const proto::ReplicationReply& r) -> const auto& { return r.roles(); },
      [](const state::AclRole& r) { return r.id; }, kEveryRow,
      [](proto::Command& c) { return c.mutable_acl_role_batch(); });
}

ReplicatedKind acl_tokens_kind() {
  return acl_kind<state::AclToken, proto::AclToken>(
      "tokens", proto::ReplicationRequest::ACL_TOKENS,
      [](const state::Snapshot& s) { return s.acl_tokens(); },
      [](const proto::ReplicationReply& r) -> const auto& { return r.tokens(); },
      [](const state::AclToken& t) { return t.accessor_id; },
      [](const state::AclToken& t) { return !t.local; },
      [](proto::Command& c) { return c.mutable_acl_token_batch(); });
}

}  // namespace pc::daemon
