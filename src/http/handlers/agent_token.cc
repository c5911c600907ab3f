// PUT /v1/agent/token/<type>: replaces one of the running agent's ACL tokens (Consul's
// AgentToken handler); every reader of endpoints::AgentTokens sees it from the next request
// on. With acl.enable_token_persistence the holder also rewrites <data_dir>/acl-tokens.json
// before the answer, so the token outlives a restart; when that write fails the token is in
// effect but not saved, and the answer is 500 with the reason, as Consul's.
#include <boost/json/value.hpp>

#include <string>

#include "core/log.h"
#include "endpoints/acl.h"
#include "endpoints/agent_tokens.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/read.h"

namespace pc::http::handlers {

void agent_token(endpoints::Context& ctx, const Request& req, Reply reply) {
  endpoints::AgentTokens* tokens = ctx.agent_tokens;
  if (tokens == nullptr || !tokens->acl_enabled()) {
    return reply(acl_error_response(endpoints::acl_disabled()));
  }
  if (ctx.acl == nullptr || !ctx.acl->enabled()) {
    // A client agent cannot resolve tokens itself yet; accepting any caller would let anyone
    // change what the agent speaks for, so the change is refused until it can check.
    return reply(Response::text(
        403, "Permission denied: this agent cannot resolve ACL tokens to check agent:write"));
  }
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  // Consul checks agent:write on the agent's own node name (older versions asked acl:write).
  if (!acl::allowed(who->authz->agent_write(ctx.identity.node_name))) {
    return reply(acl_error_response(
        endpoints::permission_denied(*who, "agent", "write", ctx.identity.node_name)));
  }
  auto parsed = parse_json_body(req.body);
  if (!parsed) return reply(bad_request(parsed.error().message));
  auto body = body_object(*parsed);
  if (!body) return reply(bad_request(body.error().message));
  auto secret = get_string(**body, "Token");
  if (!secret) return reply(bad_request(secret.error().message));
  const std::string target(path_suffix(req, "/v1/agent/token/"));
  const auto kind = endpoints::AgentTokens::kind_of(target);
  if (!kind) return reply(Response::text(404, "Token \"" + target + "\" is unknown"));
  if (auto saved = tokens->set(*kind, secret->value_or("")); !saved) {
    core::log::warn("http", "Failed to persist the agent's ACL token {}: {}", target,
                    saved.error().message);
    return reply(Response::text(500, "Failed to persist tokens - " + saved.error().message));
  }
  core::log::info("http", "Updated agent's ACL token: token={}", target);
  reply(Response::text(200, ""));
}

}  // namespace pc::http::handlers
