#include "cli/commands/acl/acl_command.h"

#include <ostream>

namespace pc::cli::acl_cli {

int AclCommand::run(const std::vector<std::string>& args, Context& ctx) {
  std::vector<std::string> positional;
  if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
  if (!expect_no_arguments(positional, ctx)) return 1;
  std::optional<Request> req = build(ctx);
  if (!req) return 1;
  const CallKind kind = req->method == "GET" ? CallKind::kRead : CallKind::kWrite;
  auto res = call_agent_ok(ctx, http_, kind, req->method, req->path, {}, error_prefix_, req->body);
  if (!res) return 1;
  return print(ctx, res->body);
}

}  // namespace pc::cli::acl_cli
