// `proconsul force-leave [-prune] [-wan] node`, as Consul's command/forceleave:
// PUT /v1/agent/force-leave/<node> turns a failed member left; nothing is printed on success.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul force-leave [options] name

  Forces a member of a Proconsul cluster to enter the "left" state. Note
  that if the member is still actually alive, it will eventually rejoin
  the cluster. This command is most useful for cleaning out "failed" nodes
  that are never coming back. If you do not force leave a failed node,
  Proconsul will attempt to reconnect to those failed nodes for some period of
  time before eventually reaping them.
)";

class ForceLeaveCommand final : public Command {
 public:
  ForceLeaveCommand() {
    http_.add_client_flags(flags_);
    flags_.add_bool("prune", &prune_, "Remove agent forcibly from list of members");
    flags_.add_bool("wan", &wan_, "Exclusively leave the agent from the WAN serf pool.");
  }

  std::string synopsis() const override {
    return "Forces a member of the cluster to enter the \"left\" state";
  }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> nodes;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, nodes)) return *code;
    if (nodes.size() != 1) {
      *ctx.err << "A single node name must be specified to force leave.\n\n" << help() << "\n";
      return 1;
    }
    QueryParams params;
    if (prune_) params.emplace_back("prune", "1");
    if (wan_) params.emplace_back("wan", "1");
    if (!call_agent_ok(ctx, http_, CallKind::kWrite, "PUT", "/v1/agent/force-leave/" + nodes[0],
                       std::move(params), "Error force leaving: ")) {
      return 1;
    }
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  bool prune_ = false;
  bool wan_ = false;
};

}  // namespace

std::unique_ptr<Command> make_force_leave_command() {
  return std::make_unique<ForceLeaveCommand>();
}

}  // namespace pc::cli
