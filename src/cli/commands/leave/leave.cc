// `proconsul leave`, as Consul's command/leave: PUT /v1/agent/leave makes the agent leave its
// gossip pools gracefully and shut down.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul leave [options]

  Causes the agent to gracefully leave the Proconsul cluster and shutdown.
)";

class LeaveCommand final : public Command {
 public:
  LeaveCommand() { http_.add_client_flags(flags_); }

  std::string synopsis() const override {
    return "Gracefully leaves the Proconsul cluster and shuts down";
  }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (!positional.empty()) {
      std::string list;
      for (const std::string& p : positional) list += (list.empty() ? "" : " ") + p;
      // Go's %v of a string slice.
      *ctx.err << "Error found unexpected args: [" << list << "]\n";
      *ctx.out << help() << "\n";
      return 1;
    }
    if (!call_agent_ok(ctx, http_, CallKind::kWrite, "PUT", "/v1/agent/leave", {},
                       "Error leaving: ")) {
      return 1;
    }
    *ctx.out << "Graceful leave complete\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
};

}  // namespace

std::unique_ptr<Command> make_leave_command() {
  return std::make_unique<LeaveCommand>();
}

}  // namespace pc::cli
