#include "http/gossip_routes.h"

#include "endpoints/acl_checks.h"
#include "http/acl_auth.h"
#include "http/handlers/gossip.h"

namespace pc::http {

void register_gossip_routes(Router& router, const endpoints::GossipOps& ops,
                            Handler keyring_forwarder) {
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
  Handler keyring = bind(handlers::operator_keyring);
  if (keyring_forwarder) {
    keyring = [local = std::move(keyring), forward = std::move(keyring_forwarder)](
                  const Request& req, Reply reply) {
      const std::string* lo = req.query_param("local-only");
      const bool local_only = lo != nullptr && (*lo == "true" || *lo == "1");
      (local_only ? local : forward)(req, std::move(reply));
    };
  }
  // keyring:read lists, keyring:write changes: checked here, before a client forwards (the
  // server checks again with the same token).
  keyring = [&ops, inner = std::move(keyring)](const Request& req, Reply reply) {
    const acl::AccessLevel level =
        req.method == "GET" ? acl::AccessLevel::kRead : acl::AccessLevel::kWrite;
    if (!require(ops.acl, req, reply, [level](const endpoints::ResolvedToken& who) {
          return endpoints::require_global(who, acl::GlobalResource::kKeyring, level);
        })) {
      return;
    }
    inner(req, std::move(reply));
  };
  router.add("/v1/operator/keyring", {"GET", "POST", "PUT", "DELETE"}, std::move(keyring));
  router.add("/v1/event/fire/", {"PUT"}, bind(handlers::event_fire));
  router.add("/v1/event/list", {"GET"}, bind(handlers::event_list));
}

}  // namespace pc::http
