#include "endpoints/kv.h"

#include <algorithm>

#include "core/log.h"
#include "core/strings.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {

using state::Table;

namespace {

// The index of a listing under `prefix`, from the highest modify index among the entries it
// read: raised to the newest tombstone under the prefix, so a delete moves it too; the
// tables' index for the whole store, or when the prefix never held anything.
std::uint64_t kv_list_index(const state::Snapshot& snap, std::string_view prefix,
                            std::uint64_t entries_index) {
  const std::uint64_t table_index = snap.max_index({Table::kKvs, Table::kTombstones});
  if (prefix.empty()) return table_index;
  const std::uint64_t index = std::max(entries_index, snap.kv_graveyard_max_index(prefix));
  return index != 0 ? index : table_index;
}

}  // namespace

KvEntries kv_get(const Context& ctx, state::WatchSet& ws, std::string_view key) {
  ctx.store.watch_kv_key(ws, key);
  state::Snapshot snap = ctx.store.snapshot();
  KvEntries out;
  if (auto entry = snap.kv_get(key)) {
    out.index = entry->modify_index;
    out.entries.push_back(std::move(*entry));
  } else {
    out.index = snap.max_index({Table::kKvs, Table::kTombstones});
  }
  return out;
}

KvEntries kv_list(const Context& ctx, state::WatchSet& ws, std::string_view prefix) {
  ctx.store.watch_kv_prefix(ws, prefix);
  state::Snapshot snap = ctx.store.snapshot();
  KvEntries out;
  std::uint64_t list_index = 0;
  snap.kv_scan(prefix, [&](const state::DirEntry& e) {
    list_index = std::max(list_index, e.modify_index);
    out.entries.push_back(e);
    return true;
  });
  out.index = kv_list_index(snap, prefix, list_index);
  return out;
}

KvKeys kv_keys(const Context& ctx, state::WatchSet& ws, std::string_view prefix,
               std::string_view separator) {
  ctx.store.watch_kv_prefix(ws, prefix);
  state::Snapshot snap = ctx.store.snapshot();
  KvKeys out;
  std::uint64_t list_index = 0;
  snap.kv_scan(prefix, [&](const state::DirEntry& e) {
    list_index = std::max(list_index, e.modify_index);
    std::string_view key = e.key;
    if (!separator.empty()) {
      std::size_t cut = key.find(separator, prefix.size());
      if (cut != std::string_view::npos) key = key.substr(0, cut + separator.size());
    }
    if (out.keys.empty() || out.keys.back() != key) out.keys.emplace_back(key);
    return true;
  });
  out.index = kv_list_index(snap, prefix, list_index);
  return out;
}

namespace {

bool reads_only(proto::KvOp::Verb verb) {
  return verb == proto::KvOp::GET || verb == proto::KvOp::GET_TREE ||
         verb == proto::KvOp::CHECK_INDEX || verb == proto::KvOp::CHECK_SESSION ||
         verb == proto::KvOp::CHECK_NOT_EXISTS;
}

}  // namespace

void kv_apply(Context& ctx, const proto::KvOp& op, Done<bool> done) {
  if (op.verb() == proto::KvOp::LOCK) {
    // Consul enforces the lock-delay on the leader before the write enters the log, so a
    // session that was invalidated cannot have its lock taken over at once.
    std::int64_t until = ctx.store.snapshot().kv_lock_delay_until_unix_ns(op.key());
    if (until > unix_now_ns(ctx)) {
      core::log::debug("kvs", "lock delay enforced on key \"{}\"", op.key());
      done(false);
      return;
    }
  }
  proto::Command cmd;
  *cmd.mutable_kv() = op;
  submit(ctx, std::move(cmd), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) {
      done(r.error());
      return;
    }
    done(r->ok);
  });
}

bool kv_txn_is_read_only(const std::vector<proto::KvOp>& ops) {
  return std::all_of(ops.begin(), ops.end(), [](const auto& op) { return reads_only(op.verb()); });
}

void kv_txn(Context& ctx, const std::vector<proto::KvOp>& ops, Done<TxnOutcome> done) {
  // Consul's Txn.preCheck, before anything enters the log: every op needs a key (but a tree
  // delete), and a lock must wait out the key's lock-delay (wall time only the leader may
  // judge, so it is never part of apply).
  TxnOutcome refused;
  const std::int64_t now_ns = unix_now_ns(ctx);
  state::Snapshot snap = ctx.store.snapshot();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    if (op.key().empty() && op.verb() != proto::KvOp::DELETE_TREE) {
      refused.errors.push_back(state::TxnError{i, "Must provide key"});
    } else if (op.verb() == proto::KvOp::LOCK &&
               snap.kv_lock_delay_until_unix_ns(op.key()) > now_ns) {
      refused.errors.push_back(state::TxnError{
          i, "failed to lock key " + core::go_quote(op.key()) + " due to lock delay"});
    }
  }
  if (!refused.errors.empty()) {
    done(std::move(refused));
    return;
  }
  proto::Command cmd;
  cmd.mutable_txn();  // an empty transaction is still a transaction, not an empty command
  for (const auto& op : ops) *cmd.mutable_txn()->add_ops() = op;
  if (kv_txn_is_read_only(ops)) {
    // Consul's Txn.Read: reads are answered from one snapshot, without the log.
    state::ApplyResult r = snap.txn_read(cmd);
    done(TxnOutcome{std::move(r.txn_results), std::move(r.txn_errors)});
    return;
  }
  submit(ctx, std::move(cmd), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) {
      done(r.error());
      return;
    }
    TxnOutcome out;
    out.results = std::move(r->txn_results);
    out.errors = std::move(r->txn_errors);
    done(std::move(out));
  });
}

}  // namespace pc::endpoints
