// `proconsul acl`, `acl token`, `acl policy`, `acl role` (help only) and `acl bootstrap`, as
// Consul's command/acl.
#include <ostream>

#include "cli/commands/acl/acl_command.h"
#include "cli/commands/commands.h"

namespace pc::cli {
namespace {

class HelpOnly final : public Command {
 public:
  HelpOnly(std::string synopsis, std::string help)
      : synopsis_(std::move(synopsis)), help_(std::move(help)) {}
  std::string synopsis() const override { return synopsis_; }
  std::string help() const override { return help_; }
  int run(const std::vector<std::string>&, Context&) override { return kRunResultHelp; }

 private:
  std::string synopsis_, help_;
};

class Bootstrap final : public acl_cli::AclCommand {
 public:
  Bootstrap()
      : AclCommand("Bootstrap Consul's ACL system",
                   "\nUsage: proconsul acl bootstrap [options]\n\n"
                   "  The bootstrap command will request a new ACL token from the agent\n"
                   "  with a management policy. This can only be done once per cluster.\n",
                   "Failed ACL bootstrapping: ") {}

 private:
  std::optional<acl_cli::Request> build(Context&) override {
    return acl_cli::Request{"PUT", "/v1/acl/bootstrap", ""};
  }
  int print(Context& ctx, const std::string& body) override {
    return acl_cli::print_response(ctx, body, acl_cli::format_token);
  }
};

}  // namespace

std::unique_ptr<Command> make_acl_command() {
  return std::make_unique<HelpOnly>(
      "Interact with Consul's ACLs",
      "Usage: proconsul acl <subcommand> [options] [args]\n\n"
      "  This command has subcommands for interacting with ACLs: bootstrap the system,\n"
      "  and manage tokens, policies and roles.\n\n"
      "      $ proconsul acl bootstrap\n"
      "      $ proconsul acl policy create -name app -rules @app.hcl\n"
      "      $ proconsul acl token create -description app -policy-name app");
}
std::unique_ptr<Command> make_acl_token_command() {
  return std::make_unique<HelpOnly>("Manage Consul's ACL tokens",
                                    "Usage: proconsul acl token <subcommand> [options] [args]\n\n"
                                    "  Create, read, update, delete and list ACL tokens.");
}
std::unique_ptr<Command> make_acl_policy_command() {
  return std::make_unique<HelpOnly>("Manage Consul's ACL policies",
                                    "Usage: proconsul acl policy <subcommand> [options] [args]\n\n"
                                    "  Create, read, update, delete and list ACL policies.");
}
std::unique_ptr<Command> make_acl_role_command() {
  return std::make_unique<HelpOnly>("Manage Consul's ACL roles",
                                    "Usage: proconsul acl role <subcommand> [options] [args]\n\n"
                                    "  Create, read, update, delete and list ACL roles.");
}
std::unique_ptr<Command> make_acl_bootstrap_command() {
  return std::make_unique<Bootstrap>();
}

}  // namespace pc::cli
