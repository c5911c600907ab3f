#pragma once
// Factories of the commands, one per file under commands/<noun>/<verb>.cc; registered in
// the table in cli.cc.
#include <memory>

#include "cli/cli.h"

namespace pc::cli {

std::unique_ptr<Command> make_acl_command();
std::unique_ptr<Command> make_acl_bootstrap_command();
std::unique_ptr<Command> make_acl_set_agent_token_command();
std::unique_ptr<Command> make_acl_token_command();
std::unique_ptr<Command> make_acl_token_create_command();
std::unique_ptr<Command> make_acl_token_read_command();
std::unique_ptr<Command> make_acl_token_update_command();
std::unique_ptr<Command> make_acl_token_delete_command();
std::unique_ptr<Command> make_acl_token_list_command();
std::unique_ptr<Command> make_acl_policy_command();
std::unique_ptr<Command> make_acl_policy_create_command();
std::unique_ptr<Command> make_acl_policy_read_command();
std::unique_ptr<Command> make_acl_policy_update_command();
std::unique_ptr<Command> make_acl_policy_delete_command();
std::unique_ptr<Command> make_acl_policy_list_command();
std::unique_ptr<Command> make_acl_role_command();
std::unique_ptr<Command> make_acl_role_create_command();
std::unique_ptr<Command> make_acl_role_read_command();
std::unique_ptr<Command> make_acl_role_update_command();
std::unique_ptr<Command> make_acl_role_delete_command();
std::unique_ptr<Command> make_acl_role_list_command();
std::unique_ptr<Command> make_agent_command();
std::unique_ptr<Command> make_catalog_command();
std::unique_ptr<Command> make_catalog_datacenters_command();
std::unique_ptr<Command> make_catalog_nodes_command();
std::unique_ptr<Command> make_catalog_services_command();
std::unique_ptr<Command> make_info_command();
std::unique_ptr<Command> make_kv_command();
std::unique_ptr<Command> make_kv_delete_command();
std::unique_ptr<Command> make_kv_get_command();
std::unique_ptr<Command> make_kv_put_command();
std::unique_ptr<Command> make_maint_command();
std::unique_ptr<Command> make_members_command();
std::unique_ptr<Command> make_operator_command();
std::unique_ptr<Command> make_operator_autopilot_command();
std::unique_ptr<Command> make_operator_autopilot_get_config_command();
std::unique_ptr<Command> make_operator_autopilot_set_config_command();
std::unique_ptr<Command> make_operator_raft_command();
std::unique_ptr<Command> make_operator_raft_list_peers_command();
std::unique_ptr<Command> make_operator_raft_remove_peer_command();
std::unique_ptr<Command> make_operator_raft_transfer_leader_command();
std::unique_ptr<Command> make_rtt_command();
std::unique_ptr<Command> make_services_command();
std::unique_ptr<Command> make_services_deregister_command();
std::unique_ptr<Command> make_services_register_command();
std::unique_ptr<Command> make_tls_command();
std::unique_ptr<Command> make_tls_ca_command();
std::unique_ptr<Command> make_tls_ca_create_command();
std::unique_ptr<Command> make_tls_cert_command();
std::unique_ptr<Command> make_tls_cert_create_command();
std::unique_ptr<Command> make_version_command();
std::unique_ptr<Command> make_join_command();
std::unique_ptr<Command> make_leave_command();
std::unique_ptr<Command> make_reload_command();
std::unique_ptr<Command> make_force_leave_command();
std::unique_ptr<Command> make_keyring_command();
std::unique_ptr<Command> make_keygen_command();
std::unique_ptr<Command> make_event_command();

}  // namespace pc::cli
