#include "endpoints/acl_write.h"

#include "acl/builtin.h"
#include "endpoints/acl_command.h"
#include "endpoints/acl_resolver.h"
#include "endpoints/agent_tokens.h"

namespace pc::endpoints {

core::Status authorize_write_for(const Context& ctx, const proto::Command& command,
                                 const std::string& secret) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) return core::ok();
  auto who = ctx.acl->resolve(secret.empty() ? std::string(acl::kAnonymousTokenSecretId) : secret);
  if (!who) return who.error();
  return authorize_client_command(command, *who, ctx.store.snapshot());
}

core::Status authorize_own_write(const Context& ctx, const proto::Command& command,
                                 const std::string& token) {
  if (!token.empty() || ctx.agent_tokens == nullptr) {
    return authorize_write_for(ctx, command, token);
  }
  return authorize_write_for(ctx, command, ctx.agent_tokens->agent_token());
}

}  // namespace pc::endpoints
