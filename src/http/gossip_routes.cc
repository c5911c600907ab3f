#include "http/gossip_routes.h"

#include "http/handlers/gossip.h"
#include "http/routes.h"

namespace pc::http {

void register_gossip_routes(Router& router, const endpoints::GossipOps& ops,
                            Handler keyring_forwarder, Handler dc_forwarder) {
  using HandlerFn = void (*)(const endpoints::GossipOps&, const Request&, Reply);
  auto bind = [&ops, dc_forwarder](HandlerFn fn) {
    return [&ops, fn, dc_forwarder](const Request& req, Reply reply) {
      // Another datacenter's events are its servers' business (as routes.cc forwards).
      if (const auto* dc = req.query_param("dc");
          dc != nullptr && !dc->empty() && ops.datacenter != nullptr && *dc != *ops.datacenter &&
          !ignores_datacenter(req.path)) {
        if (dc_forwarder) {
          dc_forwarder(req, std::move(reply));
          return;
        }
        reply(Response::text(500, "No path to datacenter"));
        return;
      }
      fn(ops, req, std::move(reply));
    };
  };
  Handler keyring = bind(handlers::operator_keyring);
  if (keyring_forwarder) {
    keyring = [local = std::move(keyring), forward = std::move(keyring_forwarder)](
                  const Request& req, Reply reply) {
      const std::string* lo = req.query_param("local-only");
      const bool local_only = lo != nullptr && (*lo == "true" || *lo == "1");
      (local_only ? local : forward)(req, std::move(reply));
    };
  }
  router.add("/v1/operator/keyring", {"GET", "POST", "PUT", "DELETE"}, std::move(keyring));
  router.add("/v1/event/fire/", {"PUT"}, bind(handlers::event_fire));
  router.add("/v1/event/list", {"GET"}, bind(handlers::event_list));
}

}  // namespace pc::http
