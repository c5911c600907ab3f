#include "http/routes.h"

#include "http/handlers/handlers.h"

namespace pc::http {

void register_routes(Router& router, endpoints::Context& ctx) {
  using HandlerFn = void (*)(endpoints::Context&, const Request&, Reply);
  auto bind = [&ctx](HandlerFn fn) {
    return [&ctx, fn](const Request& req, Reply reply) {
      // ?dc= names the datacenter to serve the request. Only the local one exists until
      // federation lands; any other gets Consul's answer for an unreachable datacenter.
      if (const auto* dc = req.query_param("dc");
          dc != nullptr && !dc->empty() && *dc != ctx.identity.datacenter) {
        reply(Response::text(500, "No path to datacenter"));
        return;
      }
      fn(ctx, req, std::move(reply));
    };
  };
  // A path ending in '/' is a prefix route.
  router.add("/v1/kv/", {"GET", "PUT", "DELETE"}, bind(handlers::kv));
  router.add("/v1/txn", {"PUT"}, bind(handlers::txn));
  router.add("/v1/session/create", {"PUT"}, bind(handlers::session_create));
  router.add("/v1/session/destroy/", {"PUT"}, bind(handlers::session_destroy));
  router.add("/v1/session/renew/", {"PUT"}, bind(handlers::session_renew));
  router.add("/v1/session/info/", {"GET"}, bind(handlers::session_info));
  router.add("/v1/session/node/", {"GET"}, bind(handlers::session_node));
  router.add("/v1/session/list", {"GET"}, bind(handlers::session_list));
  router.add("/v1/catalog/register", {"PUT"}, bind(handlers::catalog_register));
  router.add("/v1/catalog/deregister", {"PUT"}, bind(handlers::catalog_deregister));
  router.add("/v1/catalog/datacenters", {"GET"}, bind(handlers::catalog_datacenters));
  router.add("/v1/catalog/services", {"GET"}, bind(handlers::catalog_services));
  router.add("/v1/catalog/service/", {"GET"}, bind(handlers::catalog_service_nodes));
  router.add("/v1/catalog/nodes", {"GET"}, bind(handlers::catalog_nodes));
  router.add("/v1/catalog/node/", {"GET"}, bind(handlers::catalog_node_services));
  router.add("/v1/catalog/node-services/", {"GET"}, bind(handlers::catalog_node_service_list));
  router.add("/v1/health/node/", {"GET"}, bind(handlers::health_node_checks));
  router.add("/v1/health/checks/", {"GET"}, bind(handlers::health_service_checks));
  router.add("/v1/health/service/", {"GET"}, bind(handlers::health_service_nodes));
  router.add("/v1/health/state/", {"GET"}, bind(handlers::health_checks_in_state));
  router.add("/v1/status/leader", {"GET"}, bind(handlers::status_leader));
  router.add("/v1/status/peers", {"GET"}, bind(handlers::status_peers));
  router.add("/v1/agent/self", {"GET"}, bind(handlers::agent_self));
  router.add("/v1/agent/members", {"GET"}, bind(handlers::agent_members));
  router.add("/v1/agent/services", {"GET"}, bind(handlers::agent_services));
  router.add("/v1/agent/checks", {"GET"}, bind(handlers::agent_checks));
  router.add("/v1/agent/service/register", {"PUT"}, bind(handlers::agent_service_register));
  // GET as well as PUT where Consul before 1.0 took GET, for clients of that age
  // (python3-consul 0.7.1 among them).
  router.add("/v1/agent/service/deregister/", {"PUT", "GET"},
             bind(handlers::agent_service_deregister));
  router.add("/v1/agent/service/maintenance/", {"PUT"}, bind(handlers::agent_service_maintenance));
  router.add("/v1/agent/service/", {"GET"}, bind(handlers::agent_service));
  router.add("/v1/agent/check/register", {"PUT"}, bind(handlers::agent_check_register));
  router.add("/v1/agent/check/deregister/", {"PUT", "GET"}, bind(handlers::agent_check_deregister));
  router.add("/v1/agent/check/pass/", {"PUT", "GET"}, bind(handlers::agent_check_pass));
  router.add("/v1/agent/check/warn/", {"PUT", "GET"}, bind(handlers::agent_check_warn));
  router.add("/v1/agent/check/fail/", {"PUT", "GET"}, bind(handlers::agent_check_fail));
  router.add("/v1/agent/check/update/", {"PUT"}, bind(handlers::agent_check_update));
  router.add("/v1/agent/maintenance", {"PUT"}, bind(handlers::agent_maintenance));
}

}  // namespace pc::http
