#pragma once
// The API handlers, one function per route; http/routes.cc binds them to paths. Each parses
// HTTP-level input, calls endpoints/, and renders Consul's JSON.
#include "endpoints/context.h"
#include "http/handler.h"

namespace pc::http::handlers {

void kv(endpoints::Context& ctx, const Request& req, Reply reply);
void txn(endpoints::Context& ctx, const Request& req, Reply reply);

void session_create(endpoints::Context& ctx, const Request& req, Reply reply);
void session_destroy(endpoints::Context& ctx, const Request& req, Reply reply);
void session_renew(endpoints::Context& ctx, const Request& req, Reply reply);
void session_info(endpoints::Context& ctx, const Request& req, Reply reply);
void session_node(endpoints::Context& ctx, const Request& req, Reply reply);
void session_list(endpoints::Context& ctx, const Request& req, Reply reply);

void catalog_register(endpoints::Context& ctx, const Request& req, Reply reply);
void catalog_deregister(endpoints::Context& ctx, const Request& req, Reply reply);
void catalog_datacenters(endpoints::Context& ctx, const Request& req, Reply reply);
void catalog_services(endpoints::Context& ctx, const Request& req, Reply reply);
void catalog_service_nodes(endpoints::Context& ctx, const Request& req, Reply reply);
void catalog_nodes(endpoints::Context& ctx, const Request& req, Reply reply);
void catalog_node_services(endpoints::Context& ctx, const Request& req, Reply reply);
void catalog_node_service_list(endpoints::Context& ctx, const Request& req, Reply reply);

void health_node_checks(endpoints::Context& ctx, const Request& req, Reply reply);
void health_service_checks(endpoints::Context& ctx, const Request& req, Reply reply);
void health_service_nodes(endpoints::Context& ctx, const Request& req, Reply reply);
void health_checks_in_state(endpoints::Context& ctx, const Request& req, Reply reply);

void coordinate_datacenters(endpoints::Context& ctx, const Request& req, Reply reply);
void coordinate_nodes(endpoints::Context& ctx, const Request& req, Reply reply);
void coordinate_node(endpoints::Context& ctx, const Request& req, Reply reply);
void coordinate_update(endpoints::Context& ctx, const Request& req, Reply reply);

void status_leader(endpoints::Context& ctx, const Request& req, Reply reply);
void status_peers(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_self(endpoints::Context& ctx, const Request& req, Reply reply);
// PUT /v1/agent/token/<type> (agent_token.cc).
void agent_token(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_members(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_services(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_service(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_checks(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_service_register(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_service_deregister(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_check_register(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_check_deregister(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_check_pass(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_check_warn(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_check_fail(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_check_update(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_maintenance(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_service_maintenance(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_join(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_leave(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_force_leave(endpoints::Context& ctx, const Request& req, Reply reply);
void agent_reload(endpoints::Context& ctx, const Request& req, Reply reply);

void operator_raft_configuration(endpoints::Context& ctx, const Request& req, Reply reply);
void operator_raft_peer(endpoints::Context& ctx, const Request& req, Reply reply);
void operator_raft_transfer_leader(endpoints::Context& ctx, const Request& req, Reply reply);
void operator_autopilot_health(endpoints::Context& ctx, const Request& req, Reply reply);
void operator_autopilot_configuration(endpoints::Context& ctx, const Request& req, Reply reply);

// /v1/acl/* (handlers/acl.cc).
void acl_bootstrap(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_token_create(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_token(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_token_self(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_token_list(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_policy_create(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_policy(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_policy_by_name(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_policy_list(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_role_create(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_role(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_role_by_name(endpoints::Context& ctx, const Request& req, Reply reply);
void acl_role_list(endpoints::Context& ctx, const Request& req, Reply reply);
// GET /v1/acl/replication (handlers/acl_replication.cc).
void acl_replication(endpoints::Context& ctx, const Request& req, Reply reply);
// Prepared queries (handlers/query.cc): /v1/query (GET list, POST create) and
// /v1/query/<id> (GET, PUT, DELETE; /execute and /explain by ID or name).
void query_general(endpoints::Context& ctx, const Request& req, Reply reply);
void query_specific(endpoints::Context& ctx, const Request& req, Reply reply);

}  // namespace pc::http::handlers
