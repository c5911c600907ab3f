// Fuzz target for what the API decodes from clients: the query string (?index, ?wait, flags,
// ?cas, ?flags, ?acquire, ?filter, ?tag, ?node-meta, ?passing...) and the JSON bodies of
// /v1/txn, /v1/session/create, /v1/catalog/register and /deregister and
// /v1/coordinate/update, the ACL token, policy and role bodies (an update as the CLI sends it:
// the object as read, with its indexes and hash), prepared queries and their ?limit= on
// execute and explain (and ?near= on the catalog and health reads), driven through the
// real handlers over a live store and -dev log. Input: one selector byte (the route, modulo
// the table), then "<query>\n<body>". Whatever comes in, the handler must answer exactly
// once, and never crash or commit an entry that does not decode (StoreFsm would stop the
// process).
//
// kRoutes only grows at the end: a corpus file's selector byte names its route by position.
#include <cstdint>
#include <string>
#include <string_view>

#include <future>

#include "endpoints/acl.h"
#include "endpoints/agent_tokens.h"
#include "http/handlers/handlers.h"
#include "http/query.h"
#include "http/tests/handler_world.h"

namespace {

using namespace pc;

struct Route {
  const char* method;
  const char* path;
  http::testing::HandlerWorld::HandlerFn fn;
};
const Route kRoutes[] = {
    {"PUT", "/v1/txn", http::handlers::txn},                                    // 0
    {"PUT", "/v1/session/create", http::handlers::session_create},              // 1
    {"PUT", "/v1/kv/fuzz/key", http::handlers::kv},                             // 2
    {"GET", "/v1/kv/fuzz/", http::handlers::kv},                                // 3
    {"DELETE", "/v1/kv/fuzz/key", http::handlers::kv},                          // 4
    {"PUT", "/v1/catalog/register", http::handlers::catalog_register},          // 5
    {"PUT", "/v1/catalog/deregister", http::handlers::catalog_deregister},      // 6
    {"GET", "/v1/catalog/services", http::handlers::catalog_services},          // 7
    {"GET", "/v1/catalog/service/web", http::handlers::catalog_service_nodes},  // 8
    {"GET", "/v1/catalog/nodes", http::handlers::catalog_nodes},                // 9
    {"GET", "/v1/catalog/node/fuzz", http::handlers::catalog_node_services},    // 10
    {"GET", "/v1/catalog/node-services/fuzz",                                   // 11
     http::handlers::catalog_node_service_list},
    {"GET", "/v1/health/node/fuzz", http::handlers::health_node_checks},                      // 12
    {"GET", "/v1/health/checks/web", http::handlers::health_service_checks},                  // 13
    {"GET", "/v1/health/service/web", http::handlers::health_service_nodes},                  // 14
    {"GET", "/v1/health/state/any", http::handlers::health_checks_in_state},                  // 15
    {"PUT", "/v1/agent/service/register", http::handlers::agent_service_register},            // 16
    {"PUT", "/v1/agent/check/register", http::handlers::agent_check_register},                // 17
    {"PUT", "/v1/agent/check/update/fuzz", http::handlers::agent_check_update},               // 18
    {"PUT", "/v1/agent/maintenance", http::handlers::agent_maintenance},                      // 19
    {"GET", "/v1/agent/services", http::handlers::agent_services},                            // 20
    {"GET", "/v1/agent/checks", http::handlers::agent_checks},                                // 21
    {"GET", "/v1/agent/service/web", http::handlers::agent_service},                          // 22
    {"PUT", "/v1/agent/service/maintenance/web", http::handlers::agent_service_maintenance},  // 23
    {"PUT", "/v1/coordinate/update", http::handlers::coordinate_update},                      // 24
    {"GET", "/v1/coordinate/nodes", http::handlers::coordinate_nodes},                        // 25
    {"GET", "/v1/coordinate/node/fuzz", http::handlers::coordinate_node},                     // 26
    {"PUT", "/v1/acl/token", http::handlers::acl_token_create},                               // 27
    {"PUT", "/v1/acl/policy", http::handlers::acl_policy_create},                             // 28
    {"PUT", "/v1/acl/role", http::handlers::acl_role_create},                                 // 29
    {"PUT", "/v1/acl/token/fuzz-accessor", http::handlers::acl_token},                        // 30
    {"PUT", "/v1/agent/token/default", http::handlers::agent_token},                          // 31
    {"POST", "/v1/query", http::handlers::query_general},                                     // 32
    {"GET", "/v1/query/fuzz-query/execute", http::handlers::query_specific},                  // 33
    {"PUT", "/v1/acl/role/fuzz-role", http::handlers::acl_role},                              // 34
    {"GET", "/v1/query/fuzz-query/explain", http::handlers::query_specific},                  // 35
};

// ACLs on, default allow (so the other routes behave as without ACLs), and every request
// carries a management token so that the ACL routes reach their body decoders.
constexpr const char* kRootSecret = "fuzz-root";

endpoints::AclResolver& enable_acls(http::testing::HandlerWorld& world) {
  endpoints::AclSettings settings;
  settings.enabled = true;
  settings.initial_management = kRootSecret;
  static endpoints::AclResolver resolver(world.store(), settings, "dc1",
                                         core::SystemClock::instance());
  world.ctx().acl = &resolver;
  // The agent's tokens, so /v1/agent/token/ reaches its body decoder.
  static endpoints::AgentTokens tokens({.acl_enabled = true});
  world.ctx().agent_tokens = &tokens;
  // The builtin objects, then the initial_management token (a second command).
  while (auto init = endpoints::acl_init_command(world.ctx())) {
    std::promise<void> done;
    endpoints::submit(world.ctx(), std::move(*init),
                      [&](core::Result<state::ApplyResult>) { done.set_value(); });
    done.get_future().get();
  }
  return resolver;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static http::testing::HandlerWorld world("fuzz");
  static endpoints::AclResolver& acl = enable_acls(world);
  (void)acl;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto newline = input.find('\n');
  const Route& route = kRoutes[data[0] % (sizeof kRoutes / sizeof kRoutes[0])];
  http::Request req;
  req.method = route.method;
  req.path = route.path;
  http::testing::split_query(input.substr(0, newline), req);
  if (newline != std::string_view::npos) req.body = std::string(input.substr(newline + 1));
  req.headers.emplace_back("x-consul-token", kRootSecret);
  (void)http::parse_query_options(req);
  (void)world.call(route.fn, req);
  return 0;
}
