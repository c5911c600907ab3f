// `proconsul catalog`: only the help for its subcommands (datacenters, nodes, services).
#include "cli/commands/commands.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(Usage: proconsul catalog <subcommand> [options] [args]

  This command has subcommands for interacting with Proconsul's catalog. The
  catalog should not be confused with the agent, although the APIs and
  responses may be similar.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  List all datacenters:

      $ proconsul catalog datacenters

  List all nodes:

      $ proconsul catalog nodes

  List all services:

      $ proconsul catalog services

  For more examples, ask for subcommand help or view the documentation.)";

class CatalogCommand final : public Command {
 public:
  std::string synopsis() const override { return "Interact with the catalog"; }
  std::string help() const override { return std::string(kHelp); }
  int run(const std::vector<std::string>&, Context&) override { return kRunResultHelp; }
};

}  // namespace

std::unique_ptr<Command> make_catalog_command() {
  return std::make_unique<CatalogCommand>();
}

}  // namespace pc::cli
