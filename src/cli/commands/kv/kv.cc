// `proconsul kv`: only the help for its subcommands (get, put, delete).
#include "cli/commands/commands.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(Usage: proconsul kv <subcommand> [options] [args]

  This command has subcommands for interacting with the key-value store.
  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  Create or update the key named "redis/config/connections" with the value "5":

      $ proconsul kv put redis/config/connections 5

  Read this value back:

      $ proconsul kv get redis/config/connections

  Or get detailed key information:

      $ proconsul kv get -detailed redis/config/connections

  Finally, delete the key:

      $ proconsul kv delete redis/config/connections

  For more examples, ask for subcommand help or view the documentation.)";

class KvCommand final : public Command {
 public:
  std::string synopsis() const override { return "Interact with the key-value store"; }
  std::string help() const override { return std::string(kHelp); }
  int run(const std::vector<std::string>&, Context&) override { return kRunResultHelp; }
};

}  // namespace

std::unique_ptr<Command> make_kv_command() {
  return std::make_unique<KvCommand>();
}

}  // namespace pc::cli
