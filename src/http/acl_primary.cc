// Which ACL writes a secondary sends to the primary (acl_primary.h).
#include "http/acl_primary.h"

#include <boost/json.hpp>

#include "endpoints/acl_replication.h"
#include "endpoints/acl_resolver.h"

namespace pc::http {
namespace {

// The body's "Local"; a body that does not parse is left to the local handler's error.
bool body_says_local(const Request& req) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(req.body, ec);
  if (ec || !v.is_object()) return true;
  const auto* local = v.as_object().if_contains("Local");
  return local != nullptr && local->is_bool() && local->as_bool();
}

// A token clone or delete: the stored token's locality.
bool stored_token_is_local(const endpoints::Context& ctx, std::string_view accessor) {
  const auto token = ctx.store.snapshot().acl_token(accessor);
  return token && token->local;
}

bool global_write(const endpoints::Context& ctx, const Request& req) {
  const std::string_view path = req.path;
  if (path == "/v1/acl/policy" || path.starts_with("/v1/acl/policy/") || path == "/v1/acl/role" ||
      path.starts_with("/v1/acl/role/")) {
    return true;
  }
  if (path == "/v1/acl/token") return !body_says_local(req);
  constexpr std::string_view kToken = "/v1/acl/token/";
  if (!path.starts_with(kToken) || path == "/v1/acl/token/self") return false;
  std::string_view rest = path.substr(kToken.size());
  constexpr std::string_view kClone = "/clone";
  if (rest.ends_with(kClone)) {
    return !stored_token_is_local(ctx, rest.substr(0, rest.size() - kClone.size()));
  }
  if (req.method == "DELETE") return !stored_token_is_local(ctx, rest);
  return !body_says_local(req);
}

}  // namespace

std::optional<std::string> acl_primary_for(const endpoints::Context& ctx, const Request& req) {
  if (req.method == "GET" || req.method == "HEAD") return std::nullopt;
  if (!req.path.starts_with("/v1/acl/")) return std::nullopt;
  if (ctx.acl == nullptr || !ctx.acl->enabled() || endpoints::acl_in_primary(ctx)) {
    return std::nullopt;
  }
  if (!global_write(ctx, req)) return std::nullopt;
  return endpoints::acl_primary_datacenter(ctx);
}

}  // namespace pc::http
