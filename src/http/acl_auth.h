#pragma once
// Who a request speaks for: Consul's parseToken (the ?token= parameter, else the
// X-Consul-Token header, else "Authorization: Bearer <secret>") resolved through the agent's
// AclResolver. With ACLs off every request is allowed everything.
//
// Stateless; safe from any thread.
#include <functional>
#include <optional>
#include <string>

#include "endpoints/acl_resolver.h"
#include "endpoints/context.h"
#include "http/handler.h"

namespace pc::http {

// The request's secret, "" when it carries none.
std::string request_token(const Request& req);

// The resolved token, or nullopt after replying with the error (403 "ACL not found" for an
// unknown or expired secret).
std::optional<endpoints::ResolvedToken> authorize(const endpoints::Context& ctx, const Request& req,
                                                  Reply& reply);

// The same through `acl` alone, for routes without a Context (the gossip-backed ones); null
// means ACLs are off.
std::optional<endpoints::ResolvedToken> authorize(const endpoints::AclResolver* acl,
                                                  const Request& req, Reply& reply);

// A check of what the resolved token may do: ok, or the denial to answer.
using AclCheck = std::function<core::Status(const endpoints::ResolvedToken&)>;

// Resolves the request's token and runs `check`; false after replying with the error (403
// with Consul's "Permission denied: token with AccessorID ..." text on a denial).
bool require(const endpoints::AclResolver* acl, const Request& req, Reply& reply,
             const AclCheck& check);
inline bool require(const endpoints::Context& ctx, const Request& req, Reply& reply,
                    const AclCheck& check) {
  return require(ctx.acl, req, reply, check);
}

// Resolves the request's token and checks operator:read (`write` false) or operator:write;
// false after replying 403 with Consul's text ("... lacks permission 'operator:read'").
bool require_operator(const endpoints::Context& ctx, const Request& req, Reply& reply, bool write);

// Consul's header on list results that left out entries the token may not read.
inline constexpr std::string_view kResultsFilteredHeader = "X-Consul-Results-Filtered-By-ACLs";

// True when ACLs are on, so list reads must filter per token (and not share renderings).
inline bool acl_filters(const endpoints::Context& ctx) {
  return ctx.acl != nullptr && ctx.acl->enabled();
}

// A JSON response, marked with kResultsFilteredHeader when `filtered`.
Response filtered_json(std::string body, bool filtered);

// The response for an error from an ACL check or endpoint: 401 for "ACL support disabled",
// otherwise as error_response (403 for denials and "ACL not found").
Response acl_error_response(const core::Error& error);

}  // namespace pc::http
