#include "daemon/acl_client.h"

#include "core/clock.h"
#include "core/duration.h"
#include "daemon/acl_init.h"

namespace pc::daemon {

core::Result<std::unique_ptr<endpoints::AclResolver>> client_acl_resolver(
    const core::AclConfig& config, const std::string& datacenter, endpoints::TokenFetch fetch) {
  endpoints::AclSettings settings = acl_settings(config);
  auto ttl = core::parse_go_duration(config.token_ttl);
  if (!ttl) {
    return core::make_error(core::Code::kInvalidArgument, "acl.token_ttl: " + ttl.error().message);
  }
  auto down = endpoints::parse_down_policy(config.down_policy);
  if (!down) return down.error();
  endpoints::RemoteAclOptions options;
  options.datacenter = datacenter;
  options.default_policy = settings.default_policy;
  options.down_policy = *down;
  options.token_ttl = *ttl;
  auto source = std::make_unique<endpoints::RemoteTokenSource>(std::move(fetch), std::move(options),
                                                               core::SystemClock::instance());
  return std::make_unique<endpoints::AclResolver>(std::move(settings), std::move(source));
}

}  // namespace pc::daemon
