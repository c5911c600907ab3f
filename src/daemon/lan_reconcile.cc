#include "daemon/lan_reconcile.h"

#include <set>
#include <string_view>
#include <utility>

#include "state/types.h"

namespace pc::daemon {
namespace {

void add_pairs(const std::map<std::string, std::string>& from,
               google::protobuf::RepeatedPtrField<proto::BytesPair>* to) {
  for (const auto& [k, v] : from) {
    auto* pair = to->Add();
    pair->set_key(k);
    pair->set_value(v);
  }
}

// A registration carrying the node's serfHealth check. An existing node at the same address
// is left as it is (skip_node_update); a new or moved one is written, keeping what the
// catalog already had for it.
proto::Command register_with_check(const ReconcileInput& input, const ReconcileMember& m,
                                   const CatalogNodeRow* row, const char* status,
                                   const char* output) {
  proto::Command cmd;
  auto* reg = cmd.mutable_catalog_register();
  reg->set_node(m.name);
  reg->set_id(m.node_id.empty() && row != nullptr ? row->id : m.node_id);
  reg->set_address(m.address);
  reg->set_datacenter(input.datacenter);
  if (row != nullptr && row->address == m.address) {
    reg->set_skip_node_update(true);
  } else if (row != nullptr) {
    add_pairs(row->tagged_addresses, reg->mutable_tagged_addresses());
    add_pairs(row->meta, reg->mutable_node_meta());
  }
  if (m.server && std::string_view(status) == state::kHealthPassing) {
    *reg->mutable_service() = consul_service(m.server_port, m.build);
  }
  auto* check = reg->mutable_check();
  check->set_node(m.name);
  check->set_check_id(kSerfCheckId);
  check->set_name(kSerfCheckName);
  check->set_status(status);
  check->set_output(output);
  return cmd;
}

proto::Command deregister_node(const std::string& name) {
  proto::Command cmd;
  cmd.mutable_catalog_deregister()->set_node(name);
  return cmd;
}

// Consul's reconcileReaped: a node the pool no longer knows under any status. Names compare
// exactly, as serf's member map and Consul's known-members set do.
void append_reaped(const ReconcileInput& input, std::vector<proto::Command>& out) {
  std::set<std::string_view> known;
  for (const ReconcileMember& m : input.members) known.insert(m.name);
  for (const SerfCheckedNode& node : input.serf_nodes) {
    if (known.count(node.name) != 0 || node.name == input.self_name || node.in_raft_configuration ||
        !(node.seen_by_pool || input.pool_settled)) {
      continue;
    }
    out.push_back(deregister_node(node.name));
  }
}

}  // namespace

proto::Service consul_service(int server_port, const std::string& version) {
  proto::Service consul;
  consul.set_id("consul");
  consul.set_service("consul");
  consul.set_port(server_port);
  consul.mutable_weights()->set_passing(1);
  consul.mutable_weights()->set_warning(1);
  for (auto [k, v] : {std::pair<const char*, std::string>{"raft_version", "3"},
                      {"serf_protocol_current", "2"},
                      {"serf_protocol_max", "5"},
                      {"serf_protocol_min", "1"},
                      {"version", version}}) {
    auto* meta = consul.add_meta();
    meta->set_key(k);
    meta->set_value(v);
  }
  return consul;
}

std::vector<proto::Command> reconcile_commands(const ReconcileInput& input) {
  std::vector<proto::Command> out;
  for (const ReconcileMember& m : input.members) {
    if (m.datacenter != input.datacenter) continue;
    auto it = input.catalog.find(m.name);
    const CatalogNodeRow* row = it == input.catalog.end() ? nullptr : &it->second;
    const bool same_address = row != nullptr && row->address == m.address;
    switch (m.health) {
      case MemberHealth::kAlive:
        if (same_address && row->serf_status == state::kHealthPassing &&
            (!m.server || row->consul_service_port == m.server_port)) {
          break;
        }
        out.push_back(register_with_check(input, m, row, state::kHealthPassing, kSerfAliveOutput));
        break;
      case MemberHealth::kFailed:
        if (row == nullptr) break;  // never registered: nothing to mark
        if (same_address && row->serf_status == state::kHealthCritical) break;
        out.push_back(
            register_with_check(input, m, row, state::kHealthCritical, kSerfFailedOutput));
        break;
      case MemberHealth::kLeft: {
        if (row == nullptr || m.name == input.self_name || m.in_raft_configuration) break;
        out.push_back(deregister_node(m.name));
        break;
      }
    }
  }
  append_reaped(input, out);
  return out;
}

}  // namespace pc::daemon
