// What each log command does to the state: one apply function per command type and one
// registration table (kCommands, at the bottom), as Consul's fsm/commands_ce.go does.
//
// Semantics follow Consul's state store (agent/consul/state/kvs.go, txn.go, session.go,
// catalog.go) including its error texts, which reach clients unchanged. Every function here
// runs on the apply thread only, and depends on nothing but the index, the command and the
// prior version, so a replayed log rebuilds identical state.
//
// Nothing here asserts on command content: a command is bytes from the log, and a bad one is
// answered with an error status (and changes nothing), never a crash.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "core/strings.h"
#include "proto/commands.pb.h"
#include "state/detail/acl_apply.h"
#include "state/detail/coordinates.h"
#include "state/detail/version.h"

namespace pc::state {
namespace {

using core::Code;
using core::make_error;

using core::go_quote;

// Consul's api.KVOp names, used in its error texts.
std::string_view verb_name(proto::KvOp::Verb verb) {
  switch (verb) {
    case proto::KvOp::SET: return "set";
    case proto::KvOp::DELETE: return "delete";
    case proto::KvOp::DELETE_TREE: return "delete-tree";
    case proto::KvOp::DELETE_CAS: return "delete-cas";
    case proto::KvOp::CAS: return "cas";
    case proto::KvOp::LOCK: return "lock";
    case proto::KvOp::UNLOCK: return "unlock";
    case proto::KvOp::GET: return "get";
    case proto::KvOp::GET_TREE: return "get-tree";
    case proto::KvOp::CHECK_INDEX: return "check-index";
    case proto::KvOp::CHECK_SESSION: return "check-session";
    case proto::KvOp::CHECK_NOT_EXISTS: return "check-not-exists";
    default: return "";
  }
}
std::string quoted_verb(proto::KvOp::Verb verb) {
  std::string_view name = verb_name(verb);
  return go_quote(name.empty() ? std::to_string(static_cast<int>(verb)) : std::string(name));
}

// ---- Table primitives. Each keeps the secondary indexes, the table indexes and the change
// record in step with the rows, so the operations above them cannot forget one. ----

void bump(ApplyContext& ctx, Table table) {
  ctx.v.table_indexes[static_cast<std::size_t>(table)] = ctx.index;
  ctx.changes.table(table);
}

// Stores `entry` (whose indexes the caller set) and moves its session-lock row from
// `old_session` to entry.session.
// Records that a service name's instances (or their checks or nodes) changed: its own index
// moves to this entry, and watches on that name fire after the publish.
void touch_service(ApplyContext& ctx, std::string lower_name) {
  if (lower_name.empty()) return;
  ctx.v.service_indexes = ctx.v.service_indexes.set(lower_name, ctx.index);
  ctx.changes.service(std::move(lower_name));
}

// Touches every service name on a node (Consul's updateAllServiceIndexesOfNode): health
// entries carry the node's fields and its node-level checks.
void touch_node_services(ApplyContext& ctx, std::string_view lower_node) {
  std::vector<std::string> names;
  ctx.v.services.scan_prefix(composite_prefix(lower_node), [&](const auto& e) {
    names.push_back(core::to_lower(e.value.service));
    return true;
  });
  for (auto& name : names) touch_service(ctx, std::move(name));
}

void kv_put(ApplyContext& ctx, std::string_view old_session, DirEntry entry) {
  if (old_session != entry.session) {
    if (!old_session.empty()) {
      ctx.v.session_locks = ctx.v.session_locks.erase(composite_key(old_session, entry.key));
    }
    if (!entry.session.empty()) {
      ctx.v.session_locks = ctx.v.session_locks.set(composite_key(entry.session, entry.key), {});
    }
  }
  ctx.changes.key(entry.key);
  std::string key = entry.key;
  ctx.v.kvs = ctx.v.kvs.set(std::move(key), std::move(entry));
  bump(ctx, Table::kKvs);
}

// Removes `key` and its lock row; no tombstone (the callers decide where that goes).
void kv_remove(ApplyContext& ctx, const std::string& key, const std::string& session) {
  if (!session.empty()) {
    ctx.v.session_locks = ctx.v.session_locks.erase(composite_key(session, key));
  }
  ctx.v.kvs = ctx.v.kvs.erase(key);
  ctx.changes.key(key);
  bump(ctx, Table::kKvs);
}

void tombstone_put(ApplyContext& ctx, std::string key) {
  ctx.v.tombstones = ctx.v.tombstones.set(std::move(key), ctx.index);
  bump(ctx, Table::kTombstones);
}

DirEntry without_value(const DirEntry& e) {
  return DirEntry{e.key, {}, e.flags, e.session, e.lock_index, e.create_index, e.modify_index};
}

// Consul's kvsSetTxn: upserts entry.key with entry's value, flags and lock index. The session
// is the caller's when `update_session`, else the existing entry's. CreateIndex is kept; an
// entry that would not change is left alone, ModifyIndex and all, as Consul does. Returns the
// entry as stored, without its value (what write results carry).
DirEntry kvs_set(ApplyContext& ctx, DirEntry entry, bool update_session) {
  const DirEntry* existing = ctx.v.kvs.find(entry.key);
  std::string old_session = existing != nullptr ? existing->session : std::string();
  entry.create_index = existing != nullptr ? existing->create_index : ctx.index;
  if (!update_session) entry.session = old_session;
  if (existing != nullptr && existing->lock_index == entry.lock_index &&
      existing->flags == entry.flags && existing->session == entry.session &&
      existing->value == entry.value) {
    entry.modify_index = existing->modify_index;
    return without_value(entry);
  }
  entry.modify_index = ctx.index;
  DirEntry result = without_value(entry);
  kv_put(ctx, old_session, std::move(entry));
  return result;
}

DirEntry entry_from(const proto::KvOp& op) {
  DirEntry e;
  e.key = op.key();
  e.value = op.value();
  e.flags = op.flags();
  return e;
}

// SET keeps the lock holder and the lock count of an existing entry: only LOCK and UNLOCK
// change them. (Consul takes LockIndex from the request, which its HTTP layer leaves 0, so a
// plain PUT on a held key zeroes the count; keeping it is the documented meaning.)
// A plain set (and CAS) keeps the lock holder but, as Consul's kvsSetTxn does, takes
// LockIndex from the request, which carries none: writing a held key resets its count to 0.
DirEntry kvs_set_op(ApplyContext& ctx, const proto::KvOp& op) {
  return kvs_set(ctx, entry_from(op), false);
}

// Consul's kvsSetCASTxn: index 0 creates only if absent; otherwise the ModifyIndex must match.
std::optional<DirEntry> kvs_cas(ApplyContext& ctx, const proto::KvOp& op) {
  const DirEntry* existing = ctx.v.kvs.find(op.key());
  if (op.index() == 0 ? existing != nullptr
                      : existing == nullptr || existing->modify_index != op.index()) {
    return std::nullopt;
  }
  return kvs_set_op(ctx, op);
}

// Consul's kvsDeleteTxn: a missing key is a no-op (no tombstone, no index change).
void kvs_delete(ApplyContext& ctx, std::string_view key) {
  const DirEntry* existing = ctx.v.kvs.find(key);
  if (existing == nullptr) return;
  const std::string k(key);
  const std::string session = existing->session;
  tombstone_put(ctx, k);
  kv_remove(ctx, k, session);
}

// Consul's kvsDeleteCASTxn: true when the key is absent (nothing to do) or was deleted.
bool kvs_delete_cas(ApplyContext& ctx, const proto::KvOp& op) {
  const DirEntry* existing = ctx.v.kvs.find(op.key());
  if (existing == nullptr) return true;
  if (existing->modify_index != op.index()) return false;
  kvs_delete(ctx, op.key());
  return true;
}

// Consul's kvsDeleteTreeTxn: one tombstone at the prefix stands for every deleted key (none
// for the empty prefix: the whole table's index then covers every key). Nothing deleted,
// nothing changes.
void kvs_delete_tree(ApplyContext& ctx, const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> doomed;  // key, lock holder
  ctx.v.kvs.scan_prefix(prefix, [&](const auto& e) {
    doomed.emplace_back(e.key, e.value.session);
    return true;
  });
  if (doomed.empty()) return;
  for (const auto& [key, session] : doomed) kv_remove(ctx, key, session);
  if (!prefix.empty()) tombstone_put(ctx, prefix);
}

// Consul's kvsLockTxn. Ok(false) when another session holds the key; an error for a missing
// or unknown session.
core::Result<std::optional<DirEntry>> kvs_lock(ApplyContext& ctx, const proto::KvOp& op) {
  if (op.session().empty()) return make_error(Code::kInvalidArgument, "missing session");
  if (!ctx.v.sessions.contains(op.session())) {
    return make_error(Code::kInvalidArgument, "invalid session " + go_quote(op.session()));
  }
  DirEntry e = entry_from(op);
  e.session = op.session();
  if (const DirEntry* existing = ctx.v.kvs.find(op.key())) {
    if (existing->session == op.session()) {
      e.lock_index = existing->lock_index;  // already ours: update in place
    } else if (!existing->session.empty()) {
      return std::optional<DirEntry>();
    } else {
      e.lock_index = existing->lock_index + 1;
    }
  } else {
    e.lock_index = 1;
  }
  return std::optional<DirEntry>(kvs_set(ctx, std::move(e), true));
}

// Consul's kvsUnlockTxn: only the holder may release; the value and flags are replaced and
// the lock count kept.
core::Result<std::optional<DirEntry>> kvs_unlock(ApplyContext& ctx, const proto::KvOp& op) {
  if (op.session().empty()) return make_error(Code::kInvalidArgument, "missing session");
  const DirEntry* existing = ctx.v.kvs.find(op.key());
  if (existing == nullptr || existing->session != op.session()) {
    return std::optional<DirEntry>();
  }
  DirEntry e = entry_from(op);
  e.lock_index = existing->lock_index;
  return std::optional<DirEntry>(kvs_set(ctx, std::move(e), true));
}

// ---- KV: a single operation (PUT/DELETE /v1/kv) ----

ApplyResult apply_kv(ApplyContext& ctx, const proto::Command& command) {
  const proto::KvOp& op = command.kv();
  ApplyResult r;
  switch (op.verb()) {
    case proto::KvOp::SET: (void)kvs_set_op(ctx, op); break;
    case proto::KvOp::CAS: r.ok = kvs_cas(ctx, op).has_value(); break;
    case proto::KvOp::DELETE: kvs_delete(ctx, op.key()); break;
    case proto::KvOp::DELETE_CAS: r.ok = kvs_delete_cas(ctx, op); break;
    case proto::KvOp::DELETE_TREE: kvs_delete_tree(ctx, op.key()); break;
    case proto::KvOp::LOCK:
    case proto::KvOp::UNLOCK: {
      auto res = op.verb() == proto::KvOp::LOCK ? kvs_lock(ctx, op) : kvs_unlock(ctx, op);
      if (!res) {
        r.status = res.error();
        r.ok = false;
      } else {
        r.ok = res->has_value();
      }
      break;
    }
    default:
      // Reads and checks only make sense inside a txn (Consul's FSM rejects them too).
      r.status =
          make_error(Code::kInvalidArgument, "Invalid KVS operation " + quoted_verb(op.verb()));
      r.ok = false;
  }
  return r;
}

// ---- Txn (/v1/txn): every op or none ----

// One op of a txn, as Consul's txnKVS: appends its results (none for deletes and
// check-not-exists; the value only for reads) or returns its error text.
std::optional<std::string> txn_kv_op(ApplyContext& ctx, const proto::KvOp& op,
                                     std::vector<std::optional<DirEntry>>& results) {
  const std::string quoted_key = go_quote(op.key());
  switch (op.verb()) {
    case proto::KvOp::SET: results.emplace_back(kvs_set_op(ctx, op)); return std::nullopt;
    case proto::KvOp::DELETE: kvs_delete(ctx, op.key()); return std::nullopt;
    case proto::KvOp::DELETE_CAS:
      if (kvs_delete_cas(ctx, op)) return std::nullopt;
      return "failed to delete key " + quoted_key + ", index is stale";
    case proto::KvOp::DELETE_TREE: kvs_delete_tree(ctx, op.key()); return std::nullopt;
    case proto::KvOp::CAS: {
      auto e = kvs_cas(ctx, op);
      if (!e) return "failed to set key " + quoted_key + ", index is stale";
      results.emplace_back(std::move(e));
      return std::nullopt;
    }
    case proto::KvOp::LOCK:
    case proto::KvOp::UNLOCK: {
      const bool lock = op.verb() == proto::KvOp::LOCK;
      auto res = lock ? kvs_lock(ctx, op) : kvs_unlock(ctx, op);
      if (!res) return res.error().message;
      if (!res->has_value()) {
        return lock ? "failed to lock key " + quoted_key + ", lock is already held"
                    : "failed to unlock key " + quoted_key +
                          ", lock isn't held, or is held by another session";
      }
      results.emplace_back(std::move(*res));
      return std::nullopt;
    }
    case proto::KvOp::GET: {
      const DirEntry* e = ctx.v.kvs.find(op.key());
      if (e == nullptr) return "key " + quoted_key + " doesn't exist";
      results.emplace_back(*e);
      return std::nullopt;
    }
    case proto::KvOp::GET_TREE:
      ctx.v.kvs.scan_prefix(op.key(), [&](const auto& e) {
        results.emplace_back(e.value);
        return true;
      });
      return std::nullopt;
    case proto::KvOp::CHECK_INDEX: {
      const DirEntry* e = ctx.v.kvs.find(op.key());
      if (e == nullptr) return "failed to check index, key " + quoted_key + " doesn't exist";
      if (e->modify_index != op.index()) {
        return fmt::format("failed index check for key {}, current modify index {} != {}",
                           quoted_key, e->modify_index, op.index());
      }
      results.emplace_back(without_value(*e));
      return std::nullopt;
    }
    case proto::KvOp::CHECK_SESSION: {
      const DirEntry* e = ctx.v.kvs.find(op.key());
      if (e == nullptr) return "failed to check session, key " + quoted_key + " doesn't exist";
      if (e->session != op.session()) {
        return "failed session check for key " + quoted_key + ", current session " +
               go_quote(e->session) + " != " + go_quote(op.session());
      }
      results.emplace_back(without_value(*e));
      return std::nullopt;
    }
    case proto::KvOp::CHECK_NOT_EXISTS:
      if (ctx.v.kvs.contains(op.key())) return "key " + quoted_key + " exists";
      return std::nullopt;
    default: return "unknown KV verb " + quoted_verb(op.verb());
  }
}

// Like Consul's txnDispatch, every op runs (later ones see earlier ones' writes) so that all
// errors are reported; any error rolls the whole txn back.
ApplyResult apply_txn(ApplyContext& ctx, const proto::Command& command) {
  const Version before = ctx.v;  // a handful of root pointers
  const Changes::Mark mark = ctx.changes.mark();
  ApplyResult r;
  const auto& ops = command.txn().ops();
  for (int i = 0; i < ops.size(); ++i) {
    if (auto what = txn_kv_op(ctx, ops[i], r.txn_results)) {
      r.txn_errors.push_back(TxnError{static_cast<std::size_t>(i), std::move(*what)});
    }
  }
  if (!r.txn_errors.empty()) {
    ctx.v = before;
    ctx.changes.rollback(mark);
    r.txn_results.clear();
    r.ok = false;
  }
  return r;
}

// ---- Sessions ----

void session_index_remove(ApplyContext& ctx, const Session& s) {
  ctx.v.sessions_by_node =
      ctx.v.sessions_by_node.erase(composite_key(core::to_lower(s.node), s.id));
}

// Consul's validateSessionChecksTxn: every check a session depends on (node checks, then
// service checks, by ID) must exist on the session's node and not be critical, or the session
// would be invalidated the moment it was made.
core::Status validate_session_checks(ApplyContext& ctx, const proto::Session& in) {
  auto one = [&](const std::string& id) -> core::Status {
    const HealthCheck* c = ctx.v.checks.find(check_key(in.node(), id));
    if (c == nullptr)
      return make_error(Code::kInvalidArgument, "Missing check '" + id + "' registration");
    if (c->status == kHealthCritical) {
      return make_error(Code::kInvalidArgument, "Check '" + id + "' is in critical state");
    }
    return core::ok();
  };
  for (const auto& id : in.node_checks()) {
    if (auto st = one(id); !st) return st;
  }
  for (const auto& ref : in.service_checks()) {
    if (auto st = one(ref.id()); !st) return st;
  }
  return core::ok();
}

// Consul's sessionCreateTxn. TTL and lock-delay bounds are checked at the endpoint.
ApplyResult apply_session_create(ApplyContext& ctx, const proto::Command& command) {
  const proto::Session& in = command.session_create().session();
  ApplyResult r;
  std::string behavior = in.behavior().empty() ? "release" : in.behavior();
  if (in.id().empty()) {
    r.status = make_error(Code::kInvalidArgument, "Missing session ID");
  } else if (behavior != "release" && behavior != "delete") {
    r.status = make_error(Code::kInvalidArgument, "Invalid session behavior: " + behavior);
  } else if (!ctx.v.nodes.contains(core::to_lower(in.node()))) {
    r.status = make_error(Code::kInvalidArgument, "Missing node registration");
  } else {
    r.status = validate_session_checks(ctx, in);
  }
  if (!r.status) {
    r.ok = false;
    return r;
  }
  Session s;
  s.id = in.id();
  s.name = in.name();
  s.node = in.node();
  s.lock_delay_ns = in.lock_delay_ns();
  s.behavior = std::move(behavior);
  s.ttl = in.ttl();
  s.node_checks.assign(in.node_checks().begin(), in.node_checks().end());
  for (const auto& c : in.service_checks()) s.service_checks.push_back({c.id(), c.namespace_()});
  s.create_index = ctx.index;
  s.modify_index = ctx.index;
  // Consul never re-creates an ID (the endpoint makes a fresh UUID), but if a command does,
  // the new row replaces the old one and its node index row moves with it.
  if (const Session* old = ctx.v.sessions.find(s.id)) session_index_remove(ctx, *old);
  ctx.v.sessions_by_node =
      ctx.v.sessions_by_node.set(composite_key(core::to_lower(s.node), s.id), {});
  std::string id = s.id;
  ctx.changes.session(id);
  ctx.v.sessions = ctx.v.sessions.set(std::move(id), std::move(s));
  bump(ctx, Table::kSessions);
  return r;
}

// Lock delays are never read after they expire; drop the expired ones whenever the map has
// doubled since the last sweep, so it stays proportional to the recent invalidations.
void prune_lock_delays(ApplyContext& ctx) {
  if (ctx.v.lock_delays.size() < ctx.v.lock_delays_prune_at) return;
  std::vector<std::string> expired;
  for (const auto& e : ctx.v.lock_delays) {
    if (e.value <= ctx.proposed_unix_ns) expired.push_back(e.key);
  }
  for (const auto& k : expired) ctx.v.lock_delays = ctx.v.lock_delays.erase(k);
  ctx.v.lock_delays_prune_at = std::max<std::size_t>(64, 2 * ctx.v.lock_delays.size());
}

// Consul's deleteSessionTxn: an unknown ID is a no-op; otherwise every key the session holds
// is released or deleted per its behavior, and gets a lock delay (from the proposer's clock,
// so every replica computes the same one).
core::Status session_delete(ApplyContext& ctx, std::string_view id) {
  const Session* found = ctx.v.sessions.find(id);
  if (found == nullptr) return core::ok();
  const Session s = *found;
  const bool release = s.behavior == "release";
  if (!release && s.behavior != "delete") {  // only reachable from state not made by apply
    return make_error(Code::kInvalidArgument, "unknown session behavior " + go_quote(s.behavior));
  }
  session_index_remove(ctx, s);
  ctx.v.sessions = ctx.v.sessions.erase(s.id);
  delete_session_queries(ctx, s.id);
  ctx.changes.session(s.id);
  bump(ctx, Table::kSessions);

  const std::string lock_prefix = composite_prefix(s.id);
  std::vector<std::string> held;
  ctx.v.session_locks.scan_prefix(lock_prefix, [&](const auto& e) {
    held.push_back(e.key.substr(lock_prefix.size()));
    return true;
  });
  const std::int64_t delay_max_ns =
      std::chrono::nanoseconds(core::limits::session_lock_delay_max).count();
  const std::int64_t delay_ns = std::clamp<std::int64_t>(s.lock_delay_ns, 0, delay_max_ns);
  // Saturate rather than overflow: the proposal time is command content, not to be trusted.
  const std::int64_t until_unix_ns =
      ctx.proposed_unix_ns > std::numeric_limits<std::int64_t>::max() - delay_ns
          ? std::numeric_limits<std::int64_t>::max()
          : ctx.proposed_unix_ns + delay_ns;
  for (const std::string& key : held) {
    if (release) {
      const DirEntry* held_entry = ctx.v.kvs.find(key);
      PC_ASSERT(held_entry != nullptr, "session lock index names missing key {}", key);
      DirEntry e = *held_entry;
      e.session.clear();
      (void)kvs_set(ctx, std::move(e), true);
    } else {
      kvs_delete(ctx, key);
    }
    if (delay_ns > 0) ctx.v.lock_delays = ctx.v.lock_delays.set(key, until_unix_ns);
  }
  prune_lock_delays(ctx);
  return core::ok();
}

ApplyResult apply_session_destroy(ApplyContext& ctx, const proto::Command& command) {
  ApplyResult r;
  r.status = session_delete(ctx, command.session_destroy().id());
  r.ok = static_cast<bool>(r.status);
  return r;
}

// ---- Nodes ----

// Consul's ensureNodeTxn: an upsert by (case-insensitive) name; re-registering an identical
// node changes nothing, so no watch wakes and no index moves.
core::Status node_ensure(ApplyContext& ctx, Node n) {
  if (n.node.empty()) return make_error(Code::kInvalidArgument, "Must provide node");
  std::string key = core::to_lower(n.node);
  if (const Node* existing = ctx.v.nodes.find(key)) {
    n.create_index = existing->create_index;
    n.modify_index = existing->modify_index;
    if (*existing == n) return core::ok();
  } else {
    n.create_index = ctx.index;
  }
  n.modify_index = ctx.index;
  // Service reads carry their node's fields, so every service on a changed node changed too
  // (Consul's updateAllServiceIndexesOfNode).
  touch_node_services(ctx, key);
  ctx.v.nodes = ctx.v.nodes.set(std::move(key), std::move(n));
  bump(ctx, Table::kNodes);
  return core::ok();
}

template <class Pairs>
std::map<std::string, std::string> to_map(const Pairs& pairs) {
  std::map<std::string, std::string> out;
  // A repeated key keeps its last value, as a map entry would.
  for (const auto& p : pairs) out[p.key()] = p.value();
  return out;
}

ApplyResult apply_node_register(ApplyContext& ctx, const proto::Command& command) {
  const proto::NodeRegister& in = command.node_register();
  Node n;
  n.id = in.id();
  n.node = in.node();
  n.address = in.address();
  n.datacenter = in.datacenter();
  n.tagged_addresses = to_map(in.tagged_addresses());
  n.meta = to_map(in.meta());
  ApplyResult r;
  r.status = node_ensure(ctx, std::move(n));
  r.ok = static_cast<bool>(r.status);
  return r;
}

// ---- Catalog: services and checks (Consul's catalog.go) ----

void service_row_remove(ApplyContext& ctx, const std::string& key, const Service& s) {
  ctx.v.services_by_name =
      ctx.v.services_by_name.erase(composite_key(core::to_lower(s.service), key));
  ctx.v.services = ctx.v.services.erase(key);
  touch_service(ctx, core::to_lower(s.service));
  bump(ctx, Table::kServices);
}

// A service's tagged addresses: the legacy string entries (field 5, port 0) first, so the
// current ones (field 11) win on a shared key; a repeated key keeps its last value.
std::map<std::string, ServiceAddress> service_addresses(const proto::Service& in) {
  std::map<std::string, ServiceAddress> out;
  for (const auto& p : in.legacy_tagged_addresses()) out[p.key()] = ServiceAddress{p.value(), 0};
  for (const auto& p : in.tagged_addresses()) {
    out[p.key()] = ServiceAddress{p.value().address(), p.value().port()};
  }
  return out;
}

// Consul's ensureServiceTxn: the node must exist; an identical service changes nothing.
core::Status service_ensure(ApplyContext& ctx, const std::string& node, const proto::Service& in) {
  if (!ctx.v.nodes.contains(core::to_lower(node))) {
    return make_error(Code::kInvalidArgument, "Missing node registration");
  }
  Service s;
  s.node = node;
  s.id = in.id().empty() ? in.service() : in.id();  // Consul: the ID defaults to the name
  s.service = in.service();
  s.tags.assign(in.tags().begin(), in.tags().end());
  s.address = in.address();
  s.tagged_addresses = service_addresses(in);
  s.meta = to_map(in.meta());
  s.port = in.port();
  if (in.has_weights()) s.weights = Weights{in.weights().passing(), in.weights().warning()};
  s.enable_tag_override = in.enable_tag_override();
  s.kind = in.kind();
  std::string key = service_key(node, s.id);
  if (const Service* existing = ctx.v.services.find(key)) {
    s.create_index = existing->create_index;
    s.modify_index = existing->modify_index;
    if (*existing == s) return core::ok();
    const Service old = *existing;
    service_row_remove(ctx, key, old);
  } else {
    s.create_index = ctx.index;
  }
  s.modify_index = ctx.index;
  ctx.v.services_by_name =
      ctx.v.services_by_name.set(composite_key(core::to_lower(s.service), key), {});
  touch_service(ctx, core::to_lower(s.service));
  ctx.v.services = ctx.v.services.set(std::move(key), std::move(s));
  bump(ctx, Table::kServices);
  return core::ok();
}

// Consul's checkSessionsTxn + deleteSessionTxn: destroys every session on the check's node
// that lists the check among its node or service checks, releasing or deleting its locks
// exactly as SessionDestroy does.
core::Status check_sessions_destroy(ApplyContext& ctx, const HealthCheck& c) {
  const std::string node_prefix = composite_prefix(core::to_lower(c.node));
  const std::string id = core::to_lower(c.check_id);
  std::vector<std::string> doomed;
  ctx.v.sessions_by_node.scan_prefix(node_prefix, [&](const auto& e) {
    const Session* s = ctx.v.sessions.find(std::string_view(e.key).substr(node_prefix.size()));
    if (s == nullptr) return true;
    bool listed = false;
    for (const auto& nc : s->node_checks) listed = listed || core::to_lower(nc) == id;
    for (const auto& sc : s->service_checks) listed = listed || core::to_lower(sc.id) == id;
    if (listed) doomed.push_back(s->id);
    return true;
  });
  for (const auto& sid : doomed) {
    if (auto st = session_delete(ctx, sid); !st) return st;
  }
  return core::ok();
}

std::string service_name_key(ApplyContext& ctx, const HealthCheck& c) {
  if (c.service_id.empty()) return {};
  const Service* s = ctx.v.services.find(service_key(c.node, c.service_id));
  return s != nullptr ? core::to_lower(s->service) : std::string();
}

// Consul's ensureCheckTxn: the node (and the service, if named) must exist; the service's
// name and tags are copied in; an empty status is critical; a critical check invalidates the
// sessions that depend on it; an identical check changes nothing.
core::Status check_ensure(ApplyContext& ctx, const std::string& default_node,
                          const proto::HealthCheck& in) {
  HealthCheck c;
  c.node = in.node().empty() ? default_node : in.node();
  c.check_id = in.check_id();
  c.name = in.name();
  c.status = in.status().empty() ? kHealthCritical : in.status();
  c.notes = in.notes();
  c.output = in.output();
  c.service_id = in.service_id();
  c.service_name = in.service_name();
  c.service_tags.assign(in.service_tags().begin(), in.service_tags().end());
  c.type = in.type();
  c.http = in.http();
  c.tcp = in.tcp();
  c.interval = in.interval();
  c.timeout = in.timeout();
  c.deregister_critical_service_after = in.deregister_critical_service_after();
  if (!ctx.v.nodes.contains(core::to_lower(c.node))) {
    return make_error(Code::kInvalidArgument, "Missing node registration");
  }
  std::string skey;
  if (!c.service_id.empty()) {
    skey = service_key(c.node, c.service_id);
    const Service* s = ctx.v.services.find(skey);
    if (s == nullptr) return make_error(Code::kInvalidArgument, "Missing service registration");
    c.service_name = s->service;
    c.service_tags = s->tags;
  }
  if (c.status == kHealthCritical) {
    if (auto st = check_sessions_destroy(ctx, c); !st) return st;
  }
  std::string key = check_key(c.node, c.check_id);
  if (const HealthCheck* existing = ctx.v.checks.find(key)) {
    c.create_index = existing->create_index;
    c.modify_index = existing->modify_index;
    if (*existing == c) return core::ok();
    // The row may move to another service of the node: drop its old index row.
    const HealthCheck old = *existing;
    if (!old.service_id.empty()) {
      const std::string old_skey = service_key(old.node, old.service_id);
      ctx.v.checks_by_service = ctx.v.checks_by_service.erase(composite_key(old_skey, key));
      touch_service(ctx, service_name_key(ctx, old));
    }
  } else {
    c.create_index = ctx.index;
  }
  c.modify_index = ctx.index;
  if (!skey.empty()) {
    ctx.v.checks_by_service = ctx.v.checks_by_service.set(composite_key(skey, key), {});
    touch_service(ctx, service_name_key(ctx, c));
  } else {
    // A node-level check (serfHealth, node maintenance) is part of every health entry of
    // the node's services.
    touch_node_services(ctx, core::to_lower(c.node));
  }
  ctx.v.checks = ctx.v.checks.set(std::move(key), std::move(c));
  bump(ctx, Table::kChecks);
  return core::ok();
}

// Consul's deleteCheckTxn: a missing check is a no-op; otherwise the sessions that depend on
// it are destroyed.
core::Status check_delete(ApplyContext& ctx, std::string_view node, std::string_view id) {
  const std::string key = check_key(node, id);
  const HealthCheck* found = ctx.v.checks.find(key);
  if (found == nullptr) return core::ok();
  const HealthCheck c = *found;
  if (!c.service_id.empty()) {
    ctx.v.checks_by_service =
        ctx.v.checks_by_service.erase(composite_key(service_key(c.node, c.service_id), key));
    touch_service(ctx, service_name_key(ctx, c));
  } else {
    touch_node_services(ctx, core::to_lower(c.node));
  }
  ctx.v.checks = ctx.v.checks.erase(key);
  bump(ctx, Table::kChecks);
  return check_sessions_destroy(ctx, c);
}

// Consul's deleteServiceTxn: a missing service is a no-op; its checks go first.
core::Status service_delete(ApplyContext& ctx, std::string_view node, std::string_view id) {
  const std::string key = service_key(node, id);
  const Service* found = ctx.v.services.find(key);
  if (found == nullptr) return core::ok();
  const Service s = *found;
  const std::string prefix = composite_prefix(key);
  std::vector<std::string> check_ids;
  ctx.v.checks_by_service.scan_prefix(prefix, [&](const auto& e) {
    const HealthCheck* c = ctx.v.checks.find(std::string_view(e.key).substr(prefix.size()));
    PC_ASSERT(c != nullptr, "checks_by_service names a missing check");
    check_ids.push_back(c->check_id);
    return true;
  });
  for (const auto& cid : check_ids) {
    if (auto st = check_delete(ctx, s.node, cid); !st) return st;
  }
  service_row_remove(ctx, key, s);
  return core::ok();
}

// Consul's deleteNodeTxn: a missing node is a no-op; otherwise its services, checks (which
// invalidates the sessions on them) and remaining sessions go with it.
core::Status node_delete(ApplyContext& ctx, std::string_view name) {
  const std::string lower = core::to_lower(name);
  const Node* found = ctx.v.nodes.find(lower);
  if (found == nullptr) return core::ok();
  const std::string node = found->node;
  const std::string prefix = composite_prefix(lower);
  std::vector<std::string> ids;
  ctx.v.services.scan_prefix(prefix, [&](const auto& e) {
    ids.push_back(e.value.id);
    return true;
  });
  for (const auto& id : ids) {
    if (auto st = service_delete(ctx, node, id); !st) return st;
  }
  ids.clear();
  ctx.v.checks.scan_prefix(prefix, [&](const auto& e) {
    ids.push_back(e.value.check_id);
    return true;
  });
  for (const auto& id : ids) {
    if (auto st = check_delete(ctx, node, id); !st) return st;
  }
  ctx.v.nodes = ctx.v.nodes.erase(lower);
  bump(ctx, Table::kNodes);
  coordinates_delete_node(ctx, lower);
  ids.clear();
  ctx.v.sessions_by_node.scan_prefix(prefix, [&](const auto& e) {
    ids.push_back(e.key.substr(prefix.size()));
    return true;
  });
  for (const auto& id : ids) {
    if (auto st = session_delete(ctx, id); !st) return st;
  }
  return core::ok();
}

// Consul's ensureRegistrationTxn: the node (unless skipped or unchanged), then the service,
// then the checks; any error fails the whole command with Consul's wrapped text.
ApplyResult apply_catalog_register(ApplyContext& ctx, const proto::Command& command) {
  const proto::CatalogRegister& in = command.catalog_register();
  ApplyResult r;
  auto fail = [&](std::string_view what, const core::Status& st) {
    r.status = make_error(Code::kInvalidArgument,
                          std::string(what) + ": " + std::string(st.error().message));
    r.ok = false;
    return r;
  };
  if (in.node().empty()) {
    r.status = make_error(Code::kInvalidArgument, "Must provide node");
    r.ok = false;
    return r;
  }
  if (!in.skip_node_update()) {
    Node n;
    n.id = in.id();
    n.node = in.node();
    n.address = in.address();
    n.datacenter = in.datacenter();
    n.tagged_addresses = to_map(in.tagged_addresses());
    n.meta = to_map(in.node_meta());
    if (auto st = node_ensure(ctx, std::move(n)); !st) return fail("failed inserting node", st);
  }
  if (in.has_service()) {
    if (auto st = service_ensure(ctx, in.node(), in.service()); !st) {
      return fail("failed inserting service", st);
    }
  }
  if (in.has_check()) {
    if (auto st = check_ensure(ctx, in.node(), in.check()); !st) {
      return fail("failed inserting check", st);
    }
  }
  for (const auto& c : in.checks()) {
    if (auto st = check_ensure(ctx, in.node(), c); !st) return fail("failed inserting check", st);
  }
  return r;
}

// Consul's FSM applyDeregister: a service if named, else a check if named, else the node.
ApplyResult apply_catalog_deregister(ApplyContext& ctx, const proto::Command& command) {
  const proto::CatalogDeregister& in = command.catalog_deregister();
  ApplyResult r;
  if (in.node().empty()) {
    r.status = make_error(Code::kInvalidArgument, "Must provide node");
  } else if (!in.service_id().empty()) {
    r.status = service_delete(ctx, in.node(), in.service_id());
  } else if (!in.check_id().empty()) {
    r.status = check_delete(ctx, in.node(), in.check_id());
  } else {
    r.status = node_delete(ctx, in.node());
  }
  r.ok = static_cast<bool>(r.status);
  return r;
}

// ---- Tombstones ----

// Consul's ReapTxn: drops tombstones at or below the given index. Like Consul it moves no
// table index and wakes no watch: no row a reader can see changed.
ApplyResult apply_tombstone_reap(ApplyContext& ctx, const proto::Command& command) {
  const std::uint64_t up_to = command.tombstone_reap().up_to_index();
  std::vector<std::string> reaped;
  for (const auto& e : ctx.v.tombstones) {
    if (e.value <= up_to) reaped.push_back(e.key);
  }
  for (const auto& k : reaped) ctx.v.tombstones = ctx.v.tombstones.erase(k);
  return ApplyResult{};
}

// ---- The registration table (STYLE rule 9): one line per command type ----

using ApplyFn = ApplyResult (*)(ApplyContext&, const proto::Command&);
struct CommandType {
  proto::Command::BodyCase body;
  std::string_view name;
  ApplyFn apply;
};
constexpr std::array kCommands = {
    CommandType{proto::Command::kKv, "kv", &apply_kv},
    CommandType{proto::Command::kTxn, "txn", &apply_txn},
    CommandType{proto::Command::kSessionCreate, "session_create", &apply_session_create},
    CommandType{proto::Command::kSessionDestroy, "session_destroy", &apply_session_destroy},
    CommandType{proto::Command::kNodeRegister, "node_register", &apply_node_register},
    CommandType{proto::Command::kTombstoneReap, "tombstone_reap", &apply_tombstone_reap},
    CommandType{proto::Command::kCatalogRegister, "catalog_register", &apply_catalog_register},
    CommandType{proto::Command::kCatalogDeregister, "catalog_deregister",
                &apply_catalog_deregister},
    CommandType{proto::Command::kCoordinateBatchUpdate, "coordinate_batch_update",
                &apply_coordinate_batch_update},
    CommandType{proto::Command::kAclTokenSet, "acl_token_set", &apply_acl_token_set},
    CommandType{proto::Command::kAclTokenDelete, "acl_token_delete", &apply_acl_token_delete},
    CommandType{proto::Command::kAclPolicySet, "acl_policy_set", &apply_acl_policy_set},
    CommandType{proto::Command::kAclPolicyDelete, "acl_policy_delete", &apply_acl_policy_delete},
    CommandType{proto::Command::kAclRoleSet, "acl_role_set", &apply_acl_role_set},
    CommandType{proto::Command::kAclRoleDelete, "acl_role_delete", &apply_acl_role_delete},
    CommandType{proto::Command::kAclBootstrap, "acl_bootstrap", &apply_acl_bootstrap},
    CommandType{proto::Command::kAclInit, "acl_init", &apply_acl_init},
    CommandType{proto::Command::kAclTokenReap, "acl_token_reap", &apply_acl_token_reap},
    CommandType{proto::Command::kAclPolicyBatch, "acl_policy_batch", &apply_acl_policy_batch},
    CommandType{proto::Command::kAclRoleBatch, "acl_role_batch", &apply_acl_role_batch},
    CommandType{proto::Command::kAclTokenBatch, "acl_token_batch", &apply_acl_token_batch},
    CommandType{proto::Command::kPreparedQuerySet, "prepared_query_set", &apply_prepared_query_set},
    CommandType{proto::Command::kPreparedQueryDelete, "prepared_query_delete",
                &apply_prepared_query_delete},
};

}  // namespace

ApplyResult apply_command(ApplyContext& ctx, const proto::Command& command) {
  for (const CommandType& type : kCommands) {
    if (type.body != command.body_case()) continue;
    // A command that fails changes nothing, whatever its function did before failing.
    const Version before = ctx.v;
    const Changes::Mark mark = ctx.changes.mark();
    ApplyResult r = type.apply(ctx, command);
    if (!r.status) {
      ctx.v = before;
      ctx.changes.rollback(mark);
    }
    return r;
  }
  ApplyResult r;
  r.status = make_error(Code::kInvalidArgument, fmt::format("unknown command type {}",
                                                            static_cast<int>(command.body_case())));
  r.ok = false;
  return r;
}

}  // namespace pc::state
