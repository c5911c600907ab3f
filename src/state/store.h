#pragma once
// The replicated state machine's store: KV entries, tombstones, sessions, nodes, services and
// health checks, each a persistent (immutable, structurally shared) ordered map, in the
// manner of go-memdb's immutable radix trees under Consul.
//
// Threads: exactly one writer (the log's apply thread) calls apply(), publish() and
// restore(); any number of readers on any thread call snapshot() and the watch_* functions. A
// reader pins an immutable Version and never waits for the writer beyond one pointer copy.
//
// Determinism: apply() depends only on the index, the command and the prior state (time comes
// from Command.proposed_unix_ns), so replaying a log rebuilds byte-identical state (dump()).
#include <any>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "state/acl_types.h"
#include "state/query_types.h"
#include "state/types.h"
#include "state/watch.h"

namespace pc::proto {
class Command;
}

namespace pc::state {

struct Version;  // state/detail/version.h (private): the roots of every table at one index

// One /v1/txn operation's error, with Consul's texts (agent/consul/state/txn.go).
struct TxnError {
  std::size_t op_index = 0;
  std::string what;
};

// What applying one command produced. `status` is not OK for commands Consul rejects with an
// error (e.g. `invalid session "<id>"`, "Missing node registration"); such a command changes
// nothing. `ok` is the boolean answer of KV writes (CAS mismatch, lock held: false).
struct ApplyResult {
  core::Status status;
  bool ok = true;
  // Txn: on success Consul's flat result list, in op order: GET one entry and GET_TREE one
  // per key, with values; SET, CAS, LOCK, UNLOCK, CHECK_INDEX and CHECK_SESSION the entry
  // without its value; DELETE* and CHECK_NOT_EXISTS nothing. Every element is engaged. On
  // failure no results, `ok` false and every failing op in `txn_errors`.
  std::vector<std::optional<DirEntry>> txn_results;
  std::vector<TxnError> txn_errors;
};

// An immutable view of one version. Cheap to copy; safe on any thread; lives as long as the
// caller holds it, whatever the writer does meanwhile.
class Snapshot {
 public:
  Snapshot() = default;
  explicit Snapshot(std::shared_ptr<const Version> version) : version_(std::move(version)) {}

  std::uint64_t applied_index() const;
  std::uint64_t table_index(Table table) const;
  // Max of the given tables' indexes (Consul's maxIndexTxn).
  std::uint64_t max_index(std::initializer_list<Table> tables) const;

  // KV.
  std::optional<DirEntry> kv_get(std::string_view key) const;
  // Entries whose key starts with `prefix`, in key order. Stops early if `fn` returns false.
  void kv_scan(std::string_view prefix, const std::function<bool(const DirEntry&)>& fn) const;
  // Highest tombstone index among deleted keys (and deleted trees) under `prefix`; 0 if none.
  std::uint64_t kv_graveyard_max_index(std::string_view prefix) const;
  // Unix ns until which `key` may not be acquired after its holder's session was
  // invalidated (Consul's lock-delay); 0 when no delay applies.
  std::int64_t kv_lock_delay_until_unix_ns(std::string_view key) const;

  // Sessions.
  std::optional<Session> session_get(std::string_view id) const;
  std::vector<Session> session_list() const;  // ordered by ID
  std::vector<Session> session_list_node(std::string_view node) const;
  // Keys currently locked by the session, in key order.
  std::vector<std::string> session_locked_keys(std::string_view id) const;

  // Nodes.
  std::optional<Node> node_get(std::string_view name) const;
  std::vector<Node> node_list() const;  // ordered by name

  // Catalog (Consul's catalog.go reads). Service names and node names ignore case.
  // Every service name with the union of its instances' tags (sorted, deduplicated).
  std::map<std::string, std::vector<std::string>> service_names() const;
  // Instances of one service, ordered by node, then ID (both lower-cased).
  std::vector<Service> service_instances(std::string_view name) const;
  std::vector<Service> node_services(std::string_view node) const;  // ordered by ID
  std::optional<Service> service_get(std::string_view node, std::string_view id) const;
  std::vector<HealthCheck> checks_for_node(std::string_view node) const;  // ordered by ID
  // The checks of one instance as a health entry lists them: the node's own (no ServiceID)
  // and those of `service_id`, ordered by ID. Copies only those.
  std::vector<HealthCheck> checks_for_instance(std::string_view node,
                                               std::string_view service_id) const;
  // Checks of every instance of a service, ordered by node, service ID, check ID.
  std::vector<HealthCheck> checks_for_service(std::string_view name) const;
  // Checks whose status is `status`, or all of them for "any"; ordered by node, check ID.
  std::vector<HealthCheck> checks_in_state(std::string_view status) const;
  std::optional<HealthCheck> check_get(std::string_view node, std::string_view id) const;

  // Network coordinates (Consul's coordinate.go reads): every row, ordered by lower-cased
  // node then segment; and one node's rows (case ignored), one per segment.
  std::vector<CoordinateRow> coordinates() const;
  std::vector<CoordinateRow> node_coordinates(std::string_view node) const;

  // ACLs (state/acl_reads.cc). Tokens by AccessorID or SecretID, policies and roles by ID or
  // name: each one index lookup, whatever the number of rows. Lists are in key order.
  std::optional<AclToken> acl_token(std::string_view accessor_id) const;
  std::optional<AclToken> acl_token_by_secret(std::string_view secret_id) const;
  std::vector<AclToken> acl_tokens() const;
  // AccessorIDs of at most `max` tokens whose ExpirationTime is before `now_unix_ns` (only
  // Local ones with `local_only`), in key order: what the leader's reaper deletes. Visits
  // every token: the reaper runs once a second, on the leader only.
  std::vector<std::string> acl_expired_token_ids(std::int64_t now_unix_ns, std::size_t max,
                                                 bool local_only) const;
  std::optional<AclPolicy> acl_policy(std::string_view id) const;
  std::optional<AclPolicy> acl_policy_by_name(std::string_view name) const;
  std::vector<AclPolicy> acl_policies() const;
  std::optional<AclRole> acl_role(std::string_view id) const;
  std::optional<AclRole> acl_role_by_name(std::string_view name) const;
  std::vector<AclRole> acl_roles() const;
  // The log index of the ACL bootstrap; 0 while the cluster is not bootstrapped.
  std::uint64_t acl_bootstrap_index() const;
  // Max of the three ACL tables' indexes: moves whenever any token, policy or role changes,
  // which is what a cache of resolved tokens keys on.
  std::uint64_t acl_index() const;

  // Prepared queries (state/query_reads.cc): by ID, every one in ID order, by exact name (case
  // ignored), and the template whose name is the longest prefix of `name` (case ignored; a
  // template named "" matches every name). The table index is table_index(kPreparedQueries).
  std::optional<PreparedQuery> prepared_query(std::string_view id) const;
  std::vector<PreparedQuery> prepared_queries() const;
  std::optional<PreparedQuery> prepared_query_by_name(std::string_view name) const;
  std::optional<PreparedQuery> prepared_query_template_for(std::string_view name) const;

  // Runs a transaction of reads only (get, get-tree, check-*) against this snapshot, as
  // Consul's Txn.Read does: no log entry, no writer involved. PC_ASSERTs that every op reads.
  ApplyResult txn_read(const proto::Command& txn) const;

  // Index of the last change to a service name's instances, their checks or nodes (Consul's
  // per-service index); 0 if the name was never registered.
  std::uint64_t service_index(std::string_view name) const;

  // Canonical bytes of every table, for determinism checks: equal states, equal dumps.
  std::string dump() const;

 private:
  friend struct VersionAccess;  // state/detail/version.h: the module's own code (snapshot_io)
  std::shared_ptr<const Version> version_;
};

class Store {
 public:
  Store();
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Writer side (one thread). Applies `command` at log index `index` (strictly increasing)
  // to the working version; readers see it after publish().
  ApplyResult apply(std::uint64_t index, const proto::Command& command);
  // Makes every change applied since the last publish visible to readers at once, then fires
  // the watches of exactly what changed.
  void publish();
  // Replaces the whole state with `state` (from read_snapshot in state/snapshot_io.h, or any
  // store's snapshot), as a Raft follower installing its leader's snapshot does. Writer side,
  // like apply(). Changes applied but not yet published are dropped. Readers holding older
  // snapshots keep them; the next snapshot() returns `state`; then every registered watch
  // fires, since any read may now answer differently (Consul's state store abandons every
  // watch on restore for the same reason): each blocking query wakes, reads again and parks
  // again if its index did not move. The next apply() must use an index above
  // state.applied_index(). Whether the state may go back in time is the caller's choice.
  void restore(const Snapshot& state);

  // Reader side (any thread).
  Snapshot snapshot() const;
  // Register a watch on one key, on every key under a prefix, or on a whole table. Register
  // before taking the snapshot the read uses, so no change can slip between the two.
  void watch_kv_key(WatchSet& ws, std::string_view key) const;
  void watch_kv_prefix(WatchSet& ws, std::string_view prefix) const;
  void watch_table(WatchSet& ws, Table table) const;
  // Fires when an instance of the service `name` (case ignored), or a check of one, is
  // added, changed or removed: what Consul's blocking health queries per service wait on.
  // Fires when the session with this ID is created or destroyed.
  void watch_session(WatchSet& ws, std::string_view id) const;
  void watch_service(WatchSet& ws, std::string_view name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Encoding of log entries: a Command as protobuf bytes. decode returns Corruption for bytes
// that do not parse or carry no body; committed entries that fail to decode are fatal to
// the caller, not here.
std::string encode_command(const proto::Command& command);
core::Result<proto::Command> decode_command(std::string_view bytes);

}  // namespace pc::state
