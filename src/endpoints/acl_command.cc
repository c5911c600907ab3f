#include "endpoints/acl_command.h"

#include <map>

#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

core::Status need(acl::Decision d, const ResolvedToken& who, std::string_view resource,
                  std::string_view access, std::string_view name) {
  if (acl::allowed(d)) return core::ok();
  return permission_denied(who, resource, access, name);
}

core::Status node_write(const ResolvedToken& who, std::string_view node) {
  return need(who.authz->node_write(node), who, "node", "write", node);
}

core::Status service_write(const ResolvedToken& who, std::string_view service) {
  return need(who.authz->service_write(service), who, "service", "write", service);
}

std::map<std::string, std::string> pairs(
    const google::protobuf::RepeatedPtrField<proto::BytesPair>& in) {
  std::map<std::string, std::string> out;
  for (const auto& p : in) out[p.key()] = p.value();
  return out;
}

// Consul's RegisterRequest.ChangesNode: does the write create the node or change its row?
bool changes_node(const proto::CatalogRegister& r, const state::Snapshot& snap) {
  if (r.skip_node_update()) return false;
  auto node = snap.node_get(r.node());
  if (!node) return true;
  return r.id() != node->id || r.address() != node->address ||
         (!r.datacenter().empty() && r.datacenter() != node->datacenter) ||
         pairs(r.tagged_addresses()) != node->tagged_addresses ||
         pairs(r.node_meta()) != node->meta;
}

// A check belongs to a service (service:write on it) or to the node (node:write).
core::Status check_write(const ResolvedToken& who, const proto::CatalogRegister& r,
                         const proto::HealthCheck& check, const state::Snapshot& snap) {
  if (check.service_id().empty()) return node_write(who, r.node());
  if (r.has_service() && r.service().id() == check.service_id()) {
    return service_write(who, r.service().service());
  }
  // A check on a service registered earlier; one on no known service needs the node.
  if (auto s = snap.service_get(r.node(), check.service_id())) {
    return service_write(who, s->service);
  }
  return node_write(who, r.node());
}

core::Status catalog_register(const ResolvedToken& who, const proto::CatalogRegister& r,
                              const state::Snapshot& snap) {
  if (changes_node(r, snap)) {
    if (auto st = node_write(who, r.node()); !st) return st;
  }
  if (r.has_service()) {
    if (auto st = service_write(who, r.service().service()); !st) return st;
  }
  if (r.has_check()) {
    if (auto st = check_write(who, r, r.check(), snap); !st) return st;
  }
  for (const auto& c : r.checks()) {
    if (auto st = check_write(who, r, c, snap); !st) return st;
  }
  return core::ok();
}

core::Status catalog_deregister(const ResolvedToken& who, const proto::CatalogDeregister& d,
                                const state::Snapshot& snap) {
  if (!d.service_id().empty()) {
    if (auto s = snap.service_get(d.node(), d.service_id())) return service_write(who, s->service);
    return node_write(who, d.node());
  }
  if (!d.check_id().empty()) {
    auto c = snap.check_get(d.node(), d.check_id());
    if (c && !c->service_id.empty()) return service_write(who, c->service_name);
  }
  return node_write(who, d.node());
}

core::Status kv_op(const ResolvedToken& who, const proto::KvOp& op) {
  const std::string& key = op.key();
  switch (op.verb()) {
    case proto::KvOp::DELETE_TREE:
      return need(who.authz->key_write_prefix(key), who, "key", "write", key);
    case proto::KvOp::GET:
    case proto::KvOp::GET_TREE:
    case proto::KvOp::CHECK_INDEX:
    case proto::KvOp::CHECK_SESSION:
    case proto::KvOp::CHECK_NOT_EXISTS:
      return need(who.authz->key_read(key), who, "key", "read", key);
    default: return need(who.authz->key_write(key), who, "key", "write", key);
  }
}

core::Status session_write(const ResolvedToken& who, std::string_view node) {
  return need(who.authz->session_write(node), who, "session", "write", node);
}

}  // namespace

core::Status authorize_client_command(const proto::Command& command, const ResolvedToken& who,
                                      const state::Snapshot& snap) {
  switch (command.body_case()) {
    case proto::Command::kCatalogRegister:
      return catalog_register(who, command.catalog_register(), snap);
    case proto::Command::kCatalogDeregister:
      return catalog_deregister(who, command.catalog_deregister(), snap);
    case proto::Command::kNodeRegister: return node_write(who, command.node_register().node());
    case proto::Command::kCoordinateBatchUpdate:
      for (const auto& u : command.coordinate_batch_update().updates()) {
        if (auto st = node_write(who, u.node()); !st) return st;
      }
      return core::ok();
    case proto::Command::kSessionCreate:
      return session_write(who, command.session_create().session().node());
    case proto::Command::kSessionDestroy: {
      auto s = snap.session_get(command.session_destroy().id());
      return s ? session_write(who, s->node) : core::ok();  // destroying nothing changes nothing
    }
    case proto::Command::kKv: return kv_op(who, command.kv());
    case proto::Command::kTxn:
      for (const auto& op : command.txn().ops()) {
        if (auto st = kv_op(who, op); !st) return st;
      }
      return core::ok();
    default:
      return core::make_error(
          core::Code::kPermissionDenied,
          "Permission denied: this command is not accepted from a client agent");
  }
}

}  // namespace pc::endpoints
