#include "endpoints/acl_checks.h"

#include <algorithm>
#include <map>

#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

bool allows(const ResolvedToken& who, acl::Resource resource, std::string_view name,
            acl::AccessLevel level) {
  return acl::allowed(who.authz->check(resource, name, level));
}

template <class Rows, class Keep>
bool keep_only(Rows& rows, Keep keep) {
  const std::size_t before = rows.size();
  std::erase_if(rows, [&](const auto& row) { return !keep(row); });
  return rows.size() != before;
}

std::map<std::string, std::string> pairs(
    const google::protobuf::RepeatedPtrField<proto::BytesPair>& in) {
  std::map<std::string, std::string> out;
  for (const auto& p : in) out[p.key()] = p.value();
  return out;
}

// Consul's RegisterRequest.ChangesNode: would this registration write the node row?
bool changes_node(const proto::CatalogRegister& req, const std::optional<state::Node>& existing) {
  if (req.skip_node_update() && existing) return false;
  if (!existing) return true;
  if (!req.id().empty() && req.id() != existing->id) return true;
  return req.address() != existing->address ||
         pairs(req.tagged_addresses()) != existing->tagged_addresses ||
         pairs(req.node_meta()) != existing->meta;
}

// The name of the service a check of `req` belongs to: the one the request registers, else
// the node's instance already in the catalog; nullopt when neither has that ID.
std::optional<std::string> check_service_name(const state::Snapshot& snap,
                                              const proto::CatalogRegister& req,
                                              const std::string& service_id) {
  if (req.has_service()) {
    const auto& s = req.service();
    if (s.id() == service_id || (s.id().empty() && s.service() == service_id)) {
      return s.service();
    }
  }
  if (auto existing = snap.service_get(req.node(), service_id)) return existing->service;
  return std::nullopt;
}

core::Status check_registered_check(const ResolvedToken& who, const state::Snapshot& snap,
                                    const proto::CatalogRegister& req,
                                    const proto::HealthCheck& check) {
  if (check.service_id().empty()) {
    return require_rule(who, acl::Resource::kNode, req.node(), acl::AccessLevel::kWrite);
  }
  // A check of an unknown service is the endpoint's error to answer; the node is what it
  // would be written on.
  auto name = check_service_name(snap, req, check.service_id());
  if (!name) return require_rule(who, acl::Resource::kNode, req.node(), acl::AccessLevel::kWrite);
  return require_rule(who, acl::Resource::kService, *name, acl::AccessLevel::kWrite);
}

}  // namespace

core::Status require_rule(const ResolvedToken& who, acl::Resource resource, std::string_view name,
                          acl::AccessLevel level) {
  if (allows(who, resource, name, level)) return core::ok();
  return permission_denied(who, acl::resource_name(resource), acl::access_level_name(level), name);
}

core::Status require_global(const ResolvedToken& who, acl::GlobalResource resource,
                            acl::AccessLevel level) {
  if (acl::allowed(who.authz->check_global(resource, level))) return core::ok();
  return permission_denied(who, acl::global_resource_name(resource), acl::access_level_name(level),
                           std::nullopt);
}

core::Status check_catalog_register(const ResolvedToken& who, const state::Snapshot& snap,
                                    const proto::CatalogRegister& req) {
  constexpr auto kWrite = acl::AccessLevel::kWrite;
  if (changes_node(req, snap.node_get(req.node()))) {
    if (auto st = require_rule(who, acl::Resource::kNode, req.node(), kWrite); !st) return st;
  }
  if (req.has_service()) {
    const auto& s = req.service();
    if (auto st = require_rule(who, acl::Resource::kService, s.service(), kWrite); !st) return st;
    // Replacing an instance of another service under the same ID writes that one too.
    const std::string& id = s.id().empty() ? s.service() : s.id();
    if (auto old = snap.service_get(req.node(), id); old && old->service != s.service()) {
      if (auto st = require_rule(who, acl::Resource::kService, old->service, kWrite); !st) {
        return st;
      }
    }
  }
  if (req.has_check()) {
    if (auto st = check_registered_check(who, snap, req, req.check()); !st) return st;
  }
  for (const auto& c : req.checks()) {
    if (auto st = check_registered_check(who, snap, req, c); !st) return st;
  }
  return core::ok();
}

core::Status check_catalog_deregister(const ResolvedToken& who, const state::Snapshot& snap,
                                      const proto::CatalogDeregister& req) {
  constexpr auto kWrite = acl::AccessLevel::kWrite;
  // node:write on a node covers everything on it, so an agent whose token lost a service's
  // rule can still clean up after it (Consul allows the same).
  auto node_write = require_rule(who, acl::Resource::kNode, req.node(), kWrite);
  if (node_write) return node_write;
  if (!req.service_id().empty()) {
    auto s = snap.service_get(req.node(), req.service_id());
    if (!s) return node_write;
    return require_rule(who, acl::Resource::kService, s->service, kWrite);
  }
  if (!req.check_id().empty()) {
    auto c = snap.check_get(req.node(), req.check_id());
    if (!c || c->service_id.empty()) return node_write;
    return require_rule(who, acl::Resource::kService, c->service_name, kWrite);
  }
  return node_write;
}

core::Status check_session_write(const ResolvedToken& who, const state::Snapshot& snap,
                                 std::string_view id) {
  auto s = snap.session_get(id);
  if (!s) return core::ok();
  return require_rule(who, acl::Resource::kSession, s->node, acl::AccessLevel::kWrite);
}

bool filter_sessions(const ResolvedToken& who, std::vector<state::Session>& sessions) {
  return keep_only(sessions, [&](const state::Session& s) {
    return allows(who, acl::Resource::kSession, s.node, acl::AccessLevel::kRead);
  });
}

bool filter_coordinates(const ResolvedToken& who, std::vector<state::CoordinateRow>& rows) {
  return keep_only(rows, [&](const state::CoordinateRow& r) {
    return allows(who, acl::Resource::kNode, r.node, acl::AccessLevel::kRead);
  });
}

bool filter_node_services(const ResolvedToken& who, CatalogNodeServices& read) {
  if (!read.node) return false;
  if (!allows(who, acl::Resource::kNode, read.node->node, acl::AccessLevel::kRead)) {
    read.node.reset();
    read.services.clear();
    return true;
  }
  return keep_only(read.services, [&](const state::Service& s) {
    return allows(who, acl::Resource::kService, s.service, acl::AccessLevel::kRead);
  });
}

bool filter_members(const ResolvedToken& who, std::vector<LanMember>& members) {
  return keep_only(members, [&](const LanMember& m) {
    return allows(who, acl::Resource::kNode, m.name, acl::AccessLevel::kRead);
  });
}

bool filter_user_events(const ResolvedToken& who, std::vector<UserEvent>& events) {
  return keep_only(events, [&](const UserEvent& e) {
    return allows(who, acl::Resource::kEvent, e.name, acl::AccessLevel::kRead);
  });
}

}  // namespace pc::endpoints
