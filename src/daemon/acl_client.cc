#include "daemon/acl_client.h"

#include "core/clock.h"
#include "core/duration.h"
#include "daemon/acl_init.h"
#include "daemon/client_rpc.h"

namespace pc::daemon {

namespace {

// A token lookup is answered from the other server's tables at once; past this the
// down_policy decides rather than leave the request waiting.
constexpr std::chrono::seconds kPrimaryCallTimeout{5};

core::Result<endpoints::RemoteAclOptions> remote_options(const core::AclConfig& config,
                                                         const std::string& datacenter) {
  auto ttl = core::parse_go_duration(config.token_ttl);
  if (!ttl) {
    return core::make_error(core::Code::kInvalidArgument, "acl.token_ttl: " + ttl.error().message);
  }
  auto down = endpoints::parse_down_policy(config.down_policy);
  if (!down) return down.error();
  endpoints::RemoteAclOptions options;
  options.datacenter = datacenter;
  options.default_policy = acl_settings(config).default_policy;
  options.down_policy = *down;
  options.token_ttl = *ttl;
  return options;
}

}  // namespace

core::Result<std::unique_ptr<endpoints::AclResolver>> client_acl_resolver(
    const core::AclConfig& config, const std::string& datacenter, endpoints::TokenFetch fetch) {
  auto options = remote_options(config, datacenter);
  if (!options) return options.error();
  auto source = std::make_unique<endpoints::RemoteTokenSource>(
      std::move(fetch), std::move(*options), core::SystemClock::instance());
  return std::make_unique<endpoints::AclResolver>(acl_settings(config), std::move(source));
}

core::Result<std::unique_ptr<const endpoints::TokenSource>> primary_token_source(
    const core::AclConfig& config, const std::string& datacenter, std::string primary,
    federation::WanDcCaller& caller) {
  auto options = remote_options(config, datacenter);
  if (!options) return options.error();
  endpoints::TokenFetch fetch = [&caller, primary = std::move(primary)](
                                    const std::string& secret, endpoints::TokenFetchDone done) {
    caller.call_idempotent(primary, kRpcClientAclResolve, encode_acl_resolve_request(secret),
                           kPrimaryCallTimeout,
                           [done = std::move(done)](core::Result<std::string> reply) {
                             if (!reply) return done(reply.error());
                             auto answer = decode_acl_resolve_reply(*reply);
                             if (!answer) return done(answer.error());
                             done(std::move(*answer));
                           });
  };
  return std::unique_ptr<const endpoints::TokenSource>(
      std::make_unique<endpoints::RemoteTokenSource>(std::move(fetch), std::move(*options),
                                                     core::SystemClock::instance()));
}

}  // namespace pc::daemon
