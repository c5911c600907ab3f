#include "endpoints/acl_command.h"

#include "endpoints/acl_checks.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

core::Status node_write(const ResolvedToken& who, std::string_view node) {
  return require_rule(who, acl::Resource::kNode, node, acl::AccessLevel::kWrite);
}

core::Status kv_op(const ResolvedToken& who, const proto::KvOp& op) {
  const std::string& key = op.key();
  switch (op.verb()) {
    case proto::KvOp::DELETE_TREE:
      // Every key under the prefix: denied if any rule below it denies.
      if (acl::allowed(who.authz->key_write_prefix(key))) return core::ok();
      return permission_denied(who, "key", "write", key);
    case proto::KvOp::GET:
    case proto::KvOp::GET_TREE:
    case proto::KvOp::CHECK_INDEX:
    case proto::KvOp::CHECK_SESSION:
    case proto::KvOp::CHECK_NOT_EXISTS:
      return require_rule(who, acl::Resource::kKey, key, acl::AccessLevel::kRead);
    default: return require_rule(who, acl::Resource::kKey, key, acl::AccessLevel::kWrite);
  }
}

}  // namespace

core::Status authorize_client_command(const proto::Command& command, const ResolvedToken& who,
                                      const state::Snapshot& snap) {
  switch (command.body_case()) {
    // The same rules as PUT /v1/catalog/register and /deregister (acl_checks.h).
    case proto::Command::kCatalogRegister:
      return check_catalog_register(who, snap, command.catalog_register());
    case proto::Command::kCatalogDeregister:
      return check_catalog_deregister(who, snap, command.catalog_deregister());
    case proto::Command::kNodeRegister: return node_write(who, command.node_register().node());
    case proto::Command::kCoordinateBatchUpdate:
      for (const auto& u : command.coordinate_batch_update().updates()) {
        if (auto st = node_write(who, u.node()); !st) return st;
      }
      return core::ok();
    case proto::Command::kSessionCreate:
      return require_rule(who, acl::Resource::kSession, command.session_create().session().node(),
                          acl::AccessLevel::kWrite);
    case proto::Command::kSessionDestroy:
      return check_session_write(who, snap, command.session_destroy().id());
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
