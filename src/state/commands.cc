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
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "core/strings.h"
#include "proto/commands.pb.h"
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

// Consul's sessionCreateTxn. TTL, lock-delay and check validation happen at the endpoint;
// checks are stored as given until the checks table exists.
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
    // A session may only depend on checks that exist. Until the catalog issue adds the checks
    // table, the only check any node has is serfHealth (Consul's gossip health check, which
    // is the default a session depends on); everything else is missing.
    for (const auto& check : in.node_checks()) {
      if (check != "serfHealth") {
        r.status = make_error(Code::kInvalidArgument, "Missing check '" + check + "' registration");
        break;
      }
    }
    if (r.status && in.service_checks_size() > 0) {
      r.status = make_error(Code::kInvalidArgument,
                            "Missing check '" + in.service_checks(0).id() + "' registration");
    }
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
ApplyResult apply_session_destroy(ApplyContext& ctx, const proto::Command& command) {
  ApplyResult r;
  const Session* found = ctx.v.sessions.find(command.session_destroy().id());
  if (found == nullptr) return r;
  const Session s = *found;
  const bool release = s.behavior == "release";
  if (!release && s.behavior != "delete") {  // only reachable from state not made by apply
    r.status =
        make_error(Code::kInvalidArgument, "unknown session behavior " + go_quote(s.behavior));
    r.ok = false;
    return r;
  }
  session_index_remove(ctx, s);
  ctx.v.sessions = ctx.v.sessions.erase(s.id);
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
  return r;
}

// ---- Nodes ----

// An upsert by (case-insensitive) name; re-registering an identical node changes nothing,
// as Consul's ensureNodeTxn skips it, so no watch wakes and no index moves.
ApplyResult apply_node_register(ApplyContext& ctx, const proto::Command& command) {
  const proto::NodeRegister& in = command.node_register();
  ApplyResult r;
  if (in.node().empty()) {
    r.status = make_error(Code::kInvalidArgument, "Must provide node");
    r.ok = false;
    return r;
  }
  Node n;
  n.id = in.id();
  n.node = in.node();
  n.address = in.address();
  n.datacenter = in.datacenter();
  // A repeated key keeps its last value, as a map entry would.
  for (const auto& p : in.tagged_addresses()) n.tagged_addresses[p.key()] = p.value();
  for (const auto& p : in.meta()) n.meta[p.key()] = p.value();
  std::string key = core::to_lower(n.node);
  if (const Node* existing = ctx.v.nodes.find(key)) {
    n.create_index = existing->create_index;
    n.modify_index = existing->modify_index;
    if (*existing == n) return r;
  } else {
    n.create_index = ctx.index;
  }
  n.modify_index = ctx.index;
  ctx.v.nodes = ctx.v.nodes.set(std::move(key), std::move(n));
  bump(ctx, Table::kNodes);
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
