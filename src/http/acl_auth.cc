#include "http/acl_auth.h"

#include <cctype>

#include "endpoints/acl.h"
#include "http/errors.h"

namespace pc::http {

std::string request_token(const Request& req) {
  if (const auto* t = req.query_param("token"); t != nullptr && !t->empty()) return *t;
  if (const auto* t = req.header("x-consul-token"); t != nullptr && !t->empty()) return *t;
  if (const auto* auth = req.header("authorization")) {
    // Consul takes the second word of "Bearer <token>", the scheme in any case.
    std::string_view v = *auth;
    const std::size_t space = v.find(' ');
    if (space != std::string_view::npos) {
      std::string scheme(v.substr(0, space));
      for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view rest = v.substr(space + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (scheme == "bearer" && !rest.empty()) return std::string(rest);
    }
  }
  return "";
}

std::optional<endpoints::ResolvedToken> authorize(const endpoints::Context& ctx, const Request& req,
                                                  Reply& reply) {
  return authorize(ctx.acl, req, reply);
}

std::optional<endpoints::ResolvedToken> authorize(const endpoints::AclResolver* acl,
                                                  const Request& req, Reply& reply) {
  if (acl == nullptr) return endpoints::ResolvedToken{"", acl::allow_all()};
  auto who = acl->resolve(request_token(req));
  if (!who) {
    reply(acl_error_response(who.error()));
    return std::nullopt;
  }
  return std::move(*who);
}

bool require(const endpoints::AclResolver* acl, const Request& req, Reply& reply,
             const AclCheck& check) {
  auto who = authorize(acl, req, reply);
  if (!who) return false;
  if (auto st = check(*who); !st) {
    reply(acl_error_response(st.error()));
    return false;
  }
  return true;
}

bool require_operator(const endpoints::Context& ctx, const Request& req, Reply& reply, bool write) {
  auto who = authorize(ctx, req, reply);
  if (!who) return false;
  const acl::Decision d = write ? who->authz->operator_write() : who->authz->operator_read();
  if (acl::allowed(d)) return true;
  reply(acl_error_response(
      endpoints::permission_denied(*who, "operator", write ? "write" : "read", {})));
  return false;
}

Response filtered_json(std::string body, bool filtered) {
  Response r = Response::json(std::move(body));
  if (filtered) r.headers.emplace_back(std::string(kResultsFilteredHeader), "true");
  return r;
}

Response acl_error_response(const core::Error& error) {
  if (endpoints::is_acl_disabled(error)) return Response::text(401, error.message);
  // Denials already carry Consul's full text ("Permission denied: token with ...", or "ACL not
  // found", which Consul sends without the prefix).
  if (error.code == core::Code::kPermissionDenied) return Response::text(403, error.message);
  return rpc_error_response(error);
}

}  // namespace pc::http
