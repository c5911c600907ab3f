#include "http/gossip_routes.h"

#include "http/handlers/gossip.h"

namespace pc::http {

void register_gossip_routes(Router& router, const endpoints::GossipOps& ops) {
  using HandlerFn = void (*)(const endpoints::GossipOps&, const Request&, Reply);
  auto bind = [&ops](HandlerFn fn) {
    return [&ops, fn](const Request& req, Reply reply) {
      // Only the local datacenter exists until federation lands (as routes.cc answers).
      if (const auto* dc = req.query_param("dc");
          dc != nullptr && !dc->empty() && ops.datacenter != nullptr && *dc != *ops.datacenter) {
        reply(Response::text(500, "No path to datacenter"));
        return;
      }
      fn(ops, req, std::move(reply));
    };
  };
  router.add("/v1/operator/keyring", {"GET", "POST", "PUT", "DELETE"},
             bind(handlers::operator_keyring));
  router.add("/v1/event/fire/", {"PUT"}, bind(handlers::event_fire));
  router.add("/v1/event/list", {"GET"}, bind(handlers::event_list));
}

}  // namespace pc::http
