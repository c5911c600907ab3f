#include "http/routes.h"

#include "http/acl_primary.h"
#include "http/handlers/handlers.h"

namespace pc::http {
namespace {

// Reads of replicated state (not the agent's own, not status): ?stale reads answer from
// this server as it is; ?consistent reads always take the read barrier (ReadIndex through a
// quorum); default reads answer at once only on a leader whose lease holds (Log::lease_valid:
// a quorum acknowledged its heartbeats within the lease, by the monotonic clock), as Consul's
// leader does. Everywhere else, including on a leader that was deposed, partitioned or
// paused and has not noticed yet, a default read takes the read barrier too, so it never
// answers older than a write acknowledged before it.
bool needs_read_barrier(const endpoints::Context& ctx, const Request& req) {
  // ACL writes validate against this server's state (names, links, the caller's token): off
  // a leader under a valid lease they first wait for it to hold every committed entry, so a
  // policy or token made through another server a moment ago is found.
  if (req.path.starts_with("/v1/acl/") && req.method != "GET" && req.method != "HEAD") {
    return !ctx.log.lease_valid();
  }
  if (req.method != "GET" && req.method != "HEAD") return false;
  const std::string_view path = req.path;
  const bool replicated = path.starts_with("/v1/kv/") || path.starts_with("/v1/catalog/") ||
                          path.starts_with("/v1/health/") || path.starts_with("/v1/session/") ||
                          path.starts_with("/v1/acl/") || path.starts_with("/v1/query");
  // The datacenter list comes from the WAN pool, not the replicated state: Consul answers it
  // without a leader.
  if (path == "/v1/catalog/datacenters") return false;
  if (!replicated || req.query_param("stale") != nullptr) return false;
  if (req.query_param("consistent") != nullptr) return true;
  return !ctx.log.lease_valid();
}

}  // namespace

bool ignores_datacenter(std::string_view path) {
  return path.starts_with("/v1/agent/") || path == "/v1/catalog/datacenters" ||
         path == "/v1/coordinate/datacenters" || path == "/v1/event/list";
}

void register_routes(Router& router, endpoints::Context& ctx, RouteSet which,
                     LeaderForwarder to_leader, DcForwarder to_dc) {
  using HandlerFn = void (*)(endpoints::Context&, const Request&, Reply);
  auto bind = [&ctx, to_dc](HandlerFn fn) {
    return [&ctx, fn, to_dc](const Request& req, Reply reply) {
      // ?dc= names the datacenter to serve the request: another one runs it there, whole
      // (Consul forwards the RPC); without a way there it is Consul's unreachable answer.
      if (const auto* dc = req.query_param("dc"); dc != nullptr && !dc->empty() &&
                                                  *dc != ctx.identity.datacenter &&
                                                  !ignores_datacenter(req.path)) {
        if (to_dc) {
          to_dc(req, std::move(reply));
          return;
        }
        reply(Response::text(500, "No path to datacenter"));
        return;
      }
      // In a secondary datacenter, global ACL writes run in the primary (http/acl_primary.h).
      if (auto primary = acl_primary_for(ctx, req); primary && to_dc) {
        Request there = req;
        std::erase_if(there.query, [](const auto& kv) { return kv.first == "dc"; });
        there.query.emplace_back("dc", std::move(*primary));
        to_dc(there, std::move(reply));
        return;
      }
      if (needs_read_barrier(ctx, req)) {
        // ?consistent reads, and default reads anywhere but on a leader under a valid lease,
        // wait for a read point confirmed by a quorum, so they never answer older than a
        // write acknowledged before them (Consul forwards them to the leader).
        ctx.log.read_barrier([&ctx, fn, req, reply = std::move(reply)](core::Status s) mutable {
          if (!s) {
            reply(Response::text(500, s.error().message));
            return;
          }
          fn(ctx, req, std::move(reply));
        });
        return;
      }
      fn(ctx, req, std::move(reply));
    };
  };
  // What the agent itself holds and does: a client agent answers these and forwards the rest.
  router.add("/v1/agent/self", {"GET"}, bind(handlers::agent_self));
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
  // The members of this agent's LAN gossip pool: every agent answers from its own.
  router.add("/v1/agent/members", {"GET"}, bind(handlers::agent_members));
  // Gossip membership of this agent's pools (?wan=1: the WAN pool of servers).
  // GET too for join and force-leave, which Consul took before 1.0 (python3-consul 0.7.1).
  router.add("/v1/agent/join/", {"PUT", "GET"}, bind(handlers::agent_join));
  router.add("/v1/agent/leave", {"PUT"}, bind(handlers::agent_leave));
  router.add("/v1/agent/force-leave/", {"PUT", "GET"}, bind(handlers::agent_force_leave));
  router.add("/v1/agent/token/", {"PUT"}, bind(handlers::agent_token));
  // Reads the configuration files again, as SIGHUP does.
  router.add("/v1/agent/reload", {"PUT"}, bind(handlers::agent_reload));
  if (which == RouteSet::kAgentOnly) return;

  // A path ending in '/' is a prefix route.
  router.add("/v1/kv/", {"GET", "PUT", "DELETE"}, bind(handlers::kv));
  router.add("/v1/txn", {"PUT"}, bind(handlers::txn));
  router.add("/v1/session/create", {"PUT"}, bind(handlers::session_create));
  router.add("/v1/session/destroy/", {"PUT"}, bind(handlers::session_destroy));
  router.add("/v1/session/renew/", {"PUT"},
             [to_leader, local = bind(handlers::session_renew)](const Request& req, Reply reply) {
               if (to_leader && to_leader(req, reply)) return;
               local(req, std::move(reply));
             });
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
  router.add("/v1/coordinate/datacenters", {"GET"}, bind(handlers::coordinate_datacenters));
  router.add("/v1/coordinate/nodes", {"GET"}, bind(handlers::coordinate_nodes));
  router.add("/v1/coordinate/node/", {"GET"}, bind(handlers::coordinate_node));
  router.add("/v1/coordinate/update", {"PUT"}, bind(handlers::coordinate_update));
  router.add("/v1/status/leader", {"GET"}, bind(handlers::status_leader));
  router.add("/v1/status/peers", {"GET"}, bind(handlers::status_peers));
  router.add("/v1/operator/raft/configuration", {"GET"},
             bind(handlers::operator_raft_configuration));
  router.add("/v1/operator/raft/peer", {"DELETE"}, bind(handlers::operator_raft_peer));
  router.add("/v1/operator/raft/transfer-leader", {"POST"},
             bind(handlers::operator_raft_transfer_leader));
  router.add("/v1/operator/autopilot/health", {"GET"}, bind(handlers::operator_autopilot_health));
  router.add("/v1/operator/autopilot/configuration", {"GET", "PUT"},
             bind(handlers::operator_autopilot_configuration));
  router.add("/v1/acl/bootstrap", {"PUT"}, bind(handlers::acl_bootstrap));
  router.add("/v1/acl/token", {"PUT"}, bind(handlers::acl_token_create));
  router.add("/v1/acl/token/self", {"GET"}, bind(handlers::acl_token_self));
  router.add("/v1/acl/token/", {"GET", "PUT", "DELETE"}, bind(handlers::acl_token));
  router.add("/v1/acl/tokens", {"GET"}, bind(handlers::acl_token_list));
  router.add("/v1/acl/policy", {"PUT"}, bind(handlers::acl_policy_create));
  router.add("/v1/acl/policy/name/", {"GET"}, bind(handlers::acl_policy_by_name));
  router.add("/v1/acl/policy/", {"GET", "PUT", "DELETE"}, bind(handlers::acl_policy));
  router.add("/v1/acl/policies", {"GET"}, bind(handlers::acl_policy_list));
  router.add("/v1/acl/role", {"PUT"}, bind(handlers::acl_role_create));
  router.add("/v1/acl/role/name/", {"GET"}, bind(handlers::acl_role_by_name));
  router.add("/v1/acl/role/", {"GET", "PUT", "DELETE"}, bind(handlers::acl_role));
  router.add("/v1/acl/roles", {"GET"}, bind(handlers::acl_role_list));
  // The replicators run on the leader, so its status is the one to show (Consul forwards too).
  router.add("/v1/acl/replication", {"GET"},
             [to_leader, local = bind(handlers::acl_replication)](const Request& req, Reply reply) {
               if (to_leader && to_leader(req, reply)) return;
               local(req, std::move(reply));
             });
  router.add("/v1/query", {"GET", "POST"}, bind(handlers::query_general));
  router.add("/v1/query/", {"GET", "PUT", "DELETE"}, bind(handlers::query_specific));
}

}  // namespace pc::http
