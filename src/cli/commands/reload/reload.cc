// `proconsul reload`, as Consul's command/reload: PUT /v1/agent/reload makes the agent read
// its configuration files again, as SIGHUP does.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul reload [options]

  Asks the agent to read its configuration files again, the same as sending
  it SIGHUP: services and checks defined in the files are added, updated or
  removed, and the log level, DNS settings and TLS files are applied. When a
  file cannot be used the agent keeps running as it was and the error is shown.
)";

class ReloadCommand final : public Command {
 public:
  ReloadCommand() { http_.add_client_flags(flags_); }

  std::string synopsis() const override {
    return "Triggers the agent to reload configuration files";
  }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (!positional.empty()) {
      *ctx.err << "Too many arguments (expected 0, got " << positional.size() << ")\n";
      return 1;
    }
    if (!call_agent_ok(ctx, http_, CallKind::kWrite, "PUT", "/v1/agent/reload", {},
                       "Error reloading: ")) {
      return 1;
    }
    *ctx.out << "Configuration reload triggered\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
};

}  // namespace

std::unique_ptr<Command> make_reload_command() {
  return std::make_unique<ReloadCommand>();
}

}  // namespace pc::cli
