// `proconsul services`: only the help for its subcommands (register, deregister).
#include "cli/commands/commands.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(Usage: proconsul services <subcommand> [options] [args]

  This command has subcommands for interacting with services. The subcommands
  default to working with services registered with the local agent. Please see
  the "proconsul catalog" command for interacting with the entire catalog.

  For more examples, ask for subcommand help or view the documentation.)";

class ServicesCommand final : public Command {
 public:
  std::string synopsis() const override { return "Interact with services"; }
  std::string help() const override { return std::string(kHelp); }
  int run(const std::vector<std::string>&, Context&) override { return kRunResultHelp; }
};

}  // namespace

std::unique_ptr<Command> make_services_command() {
  return std::make_unique<ServicesCommand>();
}

}  // namespace pc::cli
