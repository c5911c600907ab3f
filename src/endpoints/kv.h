#pragma once
// KV endpoint logic (Consul's KVS and Txn RPC endpoints): which index a read reports, what a
// read watches, lock-delay enforcement, and validation of writes. Rendering lives in http/.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "endpoints/context.h"

namespace pc::proto {
class KvOp;
}

namespace pc::endpoints {

struct KvEntries {
  std::uint64_t index = 0;
  std::vector<state::DirEntry> entries;
};

struct KvKeys {
  std::uint64_t index = 0;
  std::vector<std::string> keys;
};

// Reads: register the watch for exactly what they read, then read one snapshot.
// A found key reports its ModifyIndex; a missing key the KV table's index (Consul's KVS.Get).
KvEntries kv_get(const Context& ctx, state::WatchSet& ws, std::string_view key);
// Everything under a prefix; the index is the highest of the entries and of the tombstones
// under the prefix, so deleting under it moves the index forward (Consul's KVS.List).
KvEntries kv_list(const Context& ctx, state::WatchSet& ws, std::string_view prefix);
// Keys under a prefix, cut after the first separator past the prefix (Consul's ListKeys).
KvKeys kv_keys(const Context& ctx, state::WatchSet& ws, std::string_view prefix,
               std::string_view separator);

// One write (PUT/DELETE). `done` gets the boolean Consul returns (CAS lost, lock held: false).
// A lock acquire on a key inside its lock-delay window answers false without writing.
void kv_apply(Context& ctx, const proto::KvOp& op, Done<bool> done);

// /v1/txn: every op applied or none. A transaction of reads only is answered from one
// snapshot without entering the log (Consul's Txn.Read); `done` then runs before returning.
struct TxnOutcome {
  std::vector<std::optional<state::DirEntry>> results;
  std::vector<state::TxnError> errors;
};
// True when every op only reads (get, get-tree, check-*).
bool kv_txn_is_read_only(const std::vector<proto::KvOp>& ops);
void kv_txn(Context& ctx, const std::vector<proto::KvOp>& ops, Done<TxnOutcome> done);

}  // namespace pc::endpoints
