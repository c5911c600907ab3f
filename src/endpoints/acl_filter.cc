#include "endpoints/acl_filter.h"

#include <algorithm>

#include "proto/commands.pb.h"

namespace pc::endpoints {

core::Status check_key_read(const ResolvedToken& who, std::string_view key) {
  if (acl::allowed(who.authz->key_read(key))) return core::ok();
  return permission_denied(who, "key", "read", key);
}

core::Status check_kv_op(const ResolvedToken& who, const proto::KvOp& op) {
  switch (op.verb()) {
    case proto::KvOp::GET:
    case proto::KvOp::GET_TREE:
    case proto::KvOp::CHECK_INDEX:
    case proto::KvOp::CHECK_SESSION:
    case proto::KvOp::CHECK_NOT_EXISTS: return check_key_read(who, op.key());
    case proto::KvOp::DELETE_TREE:
      // Consul answers the bare acl.ErrPermissionDenied here.
      if (acl::allowed(who.authz->key_write_prefix(op.key()))) return core::ok();
      return core::make_error(core::Code::kPermissionDenied, "Permission denied");
    default:
      if (acl::allowed(who.authz->key_write(op.key()))) return core::ok();
      return permission_denied(who, "key", "write", op.key());
  }
}

bool filter_kv_entries(const ResolvedToken& who, std::vector<state::DirEntry>& entries) {
  const std::size_t before = entries.size();
  std::erase_if(
      entries, [&](const state::DirEntry& e) { return !acl::allowed(who.authz->key_read(e.key)); });
  return entries.size() != before;
}

bool filter_kv_keys(const ResolvedToken& who, std::vector<std::string>& keys) {
  const std::size_t before = keys.size();
  std::erase_if(keys, [&](const std::string& k) { return !acl::allowed(who.authz->key_read(k)); });
  return keys.size() != before;
}

namespace {

bool node_ok(const ResolvedToken& who, std::string_view node) {
  return acl::allowed(who.authz->node_read(node));
}
bool service_ok(const ResolvedToken& who, std::string_view service) {
  return acl::allowed(who.authz->service_read(service));
}

template <class Rows, class Keep>
bool filter_rows(Rows& rows, Keep keep) {
  const std::size_t before = rows.size();
  std::erase_if(rows, [&](const auto& row) { return !keep(row); });
  return rows.size() != before;
}

}  // namespace

bool filter_service_names(const ResolvedToken& who,
                          std::map<std::string, std::vector<std::string>>& services) {
  return std::erase_if(services, [&](const auto& e) { return !service_ok(who, e.first); }) != 0;
}

bool filter_nodes(const ResolvedToken& who, std::vector<state::Node>& nodes) {
  return filter_rows(nodes, [&](const state::Node& n) { return node_ok(who, n.node); });
}

bool filter_service_nodes(const ResolvedToken& who, std::vector<ServiceNode>& nodes) {
  return filter_rows(nodes, [&](const ServiceNode& sn) {
    return node_ok(who, sn.node.node) && service_ok(who, sn.service.service);
  });
}

bool filter_check_service_nodes(const ResolvedToken& who, std::vector<CheckServiceNode>& nodes) {
  return filter_rows(nodes, [&](const CheckServiceNode& csn) {
    return node_ok(who, csn.node.node) && service_ok(who, csn.service.service);
  });
}

bool filter_health_checks(const ResolvedToken& who, std::vector<state::HealthCheck>& checks) {
  return filter_rows(checks, [&](const state::HealthCheck& c) {
    return node_ok(who, c.node) && (c.service_name.empty() || service_ok(who, c.service_name));
  });
}

}  // namespace pc::endpoints
