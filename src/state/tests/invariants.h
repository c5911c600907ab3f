#pragma once
// Cross-table invariants of a store version, checked through the public read API only. Shared
// by the replay test and the fuzz target, so no GoogleTest here: returns "" when all hold, or
// the first violation.
#include <algorithm>
#include <string>

#include "state/store.h"

namespace pc::state::testing {

inline std::string check_store_invariants(const Snapshot& s) {
  const std::uint64_t applied = s.applied_index();
  for (Table t : {Table::kKvs, Table::kTombstones, Table::kSessions, Table::kNodes}) {
    if (s.table_index(t) > applied) return "table index above applied index";
  }
  std::string bad;
  s.kv_scan("", [&](const DirEntry& e) {
    if (e.create_index == 0 || e.create_index > e.modify_index ||
        e.modify_index > s.table_index(Table::kKvs)) {
      bad = "kv indexes out of order for " + e.key;
    } else if (!e.session.empty()) {
      auto locked = s.session_locked_keys(e.session);
      if (!s.session_get(e.session))
        bad = "key held by a missing session: " + e.key;
      else if (std::find(locked.begin(), locked.end(), e.key) == locked.end()) {
        bad = "held key missing from its session's locks: " + e.key;
      }
    }
    return bad.empty();
  });
  if (!bad.empty()) return bad;
  if (s.kv_graveyard_max_index("") > s.table_index(Table::kTombstones)) {
    return "tombstone above the tombstones index";
  }
  for (const Session& session : s.session_list()) {
    if (session.create_index > s.table_index(Table::kSessions)) return "session index too high";
    if (!s.node_get(session.node)) return "session on a missing node: " + session.id;
    bool listed = false;
    for (const Session& other : s.session_list_node(session.node)) {
      listed = listed || other.id == session.id;
    }
    if (!listed) return "session missing from its node's index: " + session.id;
    for (const std::string& key : s.session_locked_keys(session.id)) {
      auto e = s.kv_get(key);
      if (!e || e->session != session.id) return "lock index names a key not held: " + key;
    }
  }
  for (const Node& n : s.node_list()) {
    for (const Session& session : s.session_list_node(n.node)) {
      if (!s.session_get(session.id)) return "node index names a missing session";
    }
  }
  return "";
}

}  // namespace pc::state::testing
