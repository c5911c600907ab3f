#pragma once
// Cross-table invariants of a store version, checked through the public read API only. Shared
// by the replay test and the fuzz target, so no GoogleTest here: returns "" when all hold, or
// the first violation.
#include <algorithm>
#include <string>
#include <vector>

#include "state/store.h"

namespace pc::state::testing {

inline std::string check_store_invariants(const Snapshot& s) {
  const std::uint64_t applied = s.applied_index();
  for (Table t : {Table::kKvs, Table::kTombstones, Table::kSessions, Table::kNodes,
                  Table::kServices, Table::kChecks}) {
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
    std::vector<std::string> check_ids = session.node_checks;
    for (const auto& ref : session.service_checks) check_ids.push_back(ref.id);
    for (const auto& id : check_ids) {
      auto c = s.check_get(session.node, id);
      if (!c) return "session on a missing check: " + session.id + " " + id;
      if (c->status == kHealthCritical) return "session on a critical check: " + session.id;
    }
    for (const std::string& key : s.session_locked_keys(session.id)) {
      auto e = s.kv_get(key);
      if (!e || e->session != session.id) return "lock index names a key not held: " + key;
    }
  }
  std::size_t service_count = 0;
  std::size_t check_count = 0;
  for (const Node& n : s.node_list()) {
    for (const Session& session : s.session_list_node(n.node)) {
      if (!s.session_get(session.id)) return "node index names a missing session";
    }
    service_count += s.node_services(n.node).size();
    check_count += s.checks_for_node(n.node).size();
  }
  // Every service and check is on a registered node: those found through the nodes are all.
  std::size_t named_instances = 0;
  for (const auto& [name, tags] : s.service_names()) {
    for (const Service& svc : s.service_instances(name)) {
      ++named_instances;
      if (svc.create_index == 0 || svc.create_index > svc.modify_index ||
          svc.modify_index > s.table_index(Table::kServices)) {
        return "service indexes out of order: " + svc.id;
      }
      if (!s.node_get(svc.node)) return "service on a missing node: " + svc.id;
    }
  }
  if (named_instances != service_count) return "service name index out of step";
  const auto all_checks = s.checks_in_state("any");
  if (all_checks.size() != check_count) return "check on a missing node";
  for (const HealthCheck& c : all_checks) {
    if (c.create_index == 0 || c.create_index > c.modify_index ||
        c.modify_index > s.table_index(Table::kChecks)) {
      return "check indexes out of order: " + c.check_id;
    }
    if (c.status.empty()) return "check without a status: " + c.check_id;
    if (!c.service_id.empty()) {
      auto svc = s.service_get(c.node, c.service_id);
      if (!svc) return "check on a missing service: " + c.check_id;
      bool found = false;
      for (const HealthCheck& sc : s.checks_for_service(svc->service)) {
        found = found || (sc.node == c.node && sc.check_id == c.check_id);
      }
      if (!found) return "check missing from its service's index: " + c.check_id;
    }
  }
  for (const CoordinateRow& c : s.coordinates()) {
    if (!s.node_get(c.node)) return "coordinate of a missing node: " + c.node;
    if (c.modify_index == 0 || c.modify_index > s.table_index(Table::kCoordinates)) {
      return "coordinate index out of range: " + c.node;
    }
  }
  return "";
}

}  // namespace pc::state::testing
