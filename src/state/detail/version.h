#pragma once
// Private to state/: the shape of one version of the store, and the seam between store.cc
// (versions, readers, watches) and commands.cc (what each command does to a version).
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"
#include "state/acl_types.h"
#include "state/pmap.h"
#include "state/query_types.h"
#include "state/store.h"
#include "state/types.h"

namespace pc::proto {
class Command;
}

namespace pc::state {

// Secondary index rows carry nothing: the key is the whole fact.
struct IndexRow {};

// The roots of every table at one log index. Copying a Version copies a few pointers; a
// published Version is never changed again (readers hold it as shared_ptr<const Version>).
// Invariants, all kept by commands.cc:
//  - session_locks holds lock_key(s, k) exactly when kvs[k].session == s != "";
//  - sessions_by_node holds node_key(lower(n), id) exactly when sessions[id].node == n;
//  - every session's lower-cased node is a key of `nodes` when the session was created;
//  - services[service_key(n, id)] has n registered; services_by_name holds
//    composite_key(lower(name), service_key) exactly for each service row;
//  - checks[check_key(n, id)] has n registered and, when service_id is set, that service;
//    checks_by_service holds composite_key(service_key, check_key) exactly for those;
//  - every check a session lists exists on its node and is not critical;
//  - coordinates[composite_key(lower(n), segment)] has n registered;
//  - table_indexes[t] <= applied_index.
struct Version {
  PMap<DirEntry> kvs;               // key -> entry
  PMap<std::uint64_t> tombstones;   // deleted key (or deleted tree prefix) -> delete index
  PMap<Session> sessions;           // id -> session
  PMap<IndexRow> sessions_by_node;  // node_key(lower(node), id)
  PMap<IndexRow> session_locks;     // lock_key(session, key)
  PMap<Node> nodes;                 // lower-cased name -> node (Consul's names ignore case)
  PMap<Service> services;           // service_key(node, id) -> service
  PMap<IndexRow> services_by_name;  // composite_key(lower(name), service_key)
  // lower(name) -> index of the last change to the service's instances, their checks or
  // their nodes (Consul's "service.<name>" index): monotonic, kept after the last instance.
  PMap<std::uint64_t> service_indexes;
  PMap<HealthCheck> checks;          // check_key(node, check_id) -> check
  PMap<IndexRow> checks_by_service;  // composite_key(service_key, check_key)
  PMap<std::int64_t> lock_delays;    // key -> unix ns until which it may not be acquired
  // composite_key(lower(node), segment) -> coordinate; rows only for registered nodes.
  PMap<CoordinateRow> coordinates;
  std::size_t lock_delays_prune_at = 0;  // size at which expired delays are next dropped
  // ACLs (Consul's acl-tokens, acl-policies, acl-roles tables). The by_* maps are unique
  // secondary indexes: secret -> accessor, name -> id (names as given: Consul's name indexes
  // ignore case only in Enterprise namespaces; ours are exact).
  PMap<AclToken> acl_tokens;               // accessor id -> token
  PMap<std::string> acl_tokens_by_secret;  // secret id -> accessor id
  PMap<AclPolicy> acl_policies;            // id -> policy
  PMap<std::string> acl_policies_by_name;  // name -> id
  PMap<AclRole> acl_roles;                 // id -> role
  PMap<std::string> acl_roles_by_name;     // name -> id
  std::uint64_t acl_bootstrap_index = 0;   // index of the bootstrap; 0: not bootstrapped
  // Prepared queries (Consul's prepared-queries table): by ID, with two unique indexes:
  // lower(name) -> id for named queries, and lower(name) -> id for templates (a template's
  // name may be "", which matches every name), the second for the longest-prefix lookup.
  PMap<PreparedQuery> prepared_queries;
  PMap<std::string> prepared_queries_by_name;
  PMap<std::string> query_templates;
  std::array<std::uint64_t, kTableCount> table_indexes{};
  std::uint64_t applied_index = 0;
};

// How the module's own code (store.cc, snapshot_io.cc) reaches the Version a Snapshot pins;
// null for a default-constructed Snapshot, which reads as the empty version.
struct VersionAccess {
  static const std::shared_ptr<const Version>& of(const Snapshot& s) { return s.version_; }
};

// Composite keys of the secondary indexes: escape(first) + "\0\0" + second, where escape
// turns each '\0' into "\0\x01". The first part is then prefix-free, so a scan of
// composite_prefix(first) finds that first part only, even for names that contain '\0'.
inline std::string composite_prefix(std::string_view first) {
  std::string out;
  out.reserve(first.size() + 2);
  for (char c : first) {
    out.push_back(c);
    if (c == '\0') out.push_back('\x01');
  }
  out.append("\0\0", 2);
  return out;
}
inline std::string composite_key(std::string_view first, std::string_view second) {
  std::string out = composite_prefix(first);
  out.append(second);
  return out;
}

// Row keys of services and checks: node and ID both lower-cased, as Consul's id indexes
// ignore case.
inline std::string service_key(std::string_view node, std::string_view id) {
  return composite_key(core::to_lower(node), core::to_lower(id));
}
inline std::string check_key(std::string_view node, std::string_view id) {
  return service_key(node, id);
}

// What applies changed since the last publish, so publish() wakes exactly those watches.
// Writer-thread only.
class Changes {
 public:
  void key(std::string_view k) { keys_.emplace_back(k); }
  void table(Table t) { tables_ |= 1u << static_cast<unsigned>(t); }
  // A service name (lower-cased) whose instances or their checks changed.
  void service(std::string name) { services_.push_back(std::move(name)); }
  std::vector<std::string>& services() { return services_; }
  // A session created or destroyed.
  void session(std::string id) { sessions_.push_back(std::move(id)); }
  std::vector<std::string>& sessions() { return sessions_; }
  bool table_changed(Table t) const { return (tables_ >> static_cast<unsigned>(t)) & 1u; }
  std::vector<std::string>& keys() { return keys_; }
  bool empty() const {
    return keys_.empty() && services_.empty() && sessions_.empty() && tables_ == 0;
  }
  void clear() {
    keys_.clear();
    services_.clear();
    sessions_.clear();
    tables_ = 0;
  }

  // A txn that fails is rolled back to a mark, so its partial changes wake nobody.
  struct Mark {
    std::size_t keys = 0;
    std::size_t services = 0;
    std::size_t sessions = 0;
    unsigned tables = 0;
  };
  Mark mark() const { return Mark{keys_.size(), services_.size(), sessions_.size(), tables_}; }
  void rollback(const Mark& m) {
    keys_.resize(m.keys);
    services_.resize(m.services);
    sessions_.resize(m.sessions);
    tables_ = m.tables;
  }

 private:
  std::vector<std::string> keys_;
  std::vector<std::string> services_;
  std::vector<std::string> sessions_;
  unsigned tables_ = 0;
};

// Everything one apply may touch. `v` is the store's working version.
struct ApplyContext {
  std::uint64_t index = 0;
  std::int64_t proposed_unix_ns = 0;
  Version& v;
  Changes& changes;
};

// commands.cc: applies one command to ctx.v (the registration table lives there).
ApplyResult apply_command(ApplyContext& ctx, const proto::Command& command);

}  // namespace pc::state
