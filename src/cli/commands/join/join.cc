// `proconsul join [-wan] address ...`, as Consul's command/join: each address through
// PUT /v1/agent/join/<address>[?wan=1]; the count of those that answered, or an error per
// address and exit 1 when none did.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul join [options] address ...

  Tells a running Proconsul agent (with "proconsul agent") to join the cluster
  by specifying at least one existing member.
)";

class JoinCommand final : public Command {
 public:
  JoinCommand() {
    http_.add_client_flags(flags_);
    flags_.add_bool("wan", &wan_, "Joins a server to another server in the WAN pool.");
  }

  std::string synopsis() const override { return "Tell Proconsul agent to join cluster"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> addresses;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, addresses)) return *code;
    if (addresses.empty()) {
      *ctx.err << "At least one address to join must be specified.\n\n" << help() << "\n";
      return 1;
    }
    int joins = 0;
    for (const std::string& address : addresses) {
      QueryParams params;
      if (wan_) params.emplace_back("wan", "1");
      const std::string prefix = "Error joining address '" + address + "': ";
      if (call_agent_ok(ctx, http_, CallKind::kWrite, "PUT", "/v1/agent/join/" + address,
                        std::move(params), prefix)) {
        ++joins;
      }
    }
    if (joins == 0) {
      *ctx.err << "Failed to join any nodes.\n";
      return 1;
    }
    *ctx.out << "Successfully joined cluster by contacting " << joins << " nodes.\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  bool wan_ = false;
};

}  // namespace

std::unique_ptr<Command> make_join_command() {
  return std::make_unique<JoinCommand>();
}

}  // namespace pc::cli
