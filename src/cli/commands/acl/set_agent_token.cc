// `proconsul acl set-agent-token TYPE TOKEN`, as Consul's command/acl/agenttokens: sets one
// of the running agent's tokens through PUT /v1/agent/token/<type>.
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <map>
#include <ostream>

#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

// The CLI's type names and the API path each sets ("recovery" is the API's agent_recovery).
const std::map<std::string, std::string, std::less<>>& token_paths() {
  static const std::map<std::string, std::string, std::less<>> paths = {
      {"default", "default"},
      {"agent", "agent"},
      {"recovery", "agent_recovery"},
      {"replication", "replication"},
      {"config_file_service_registration", "config_file_service_registration"},
      {"dns", "dns"},
  };
  return paths;
}

class SetAgentToken final : public Command {
 public:
  SetAgentToken() { http_.add_client_flags(flags_); }

  std::string synopsis() const override { return "Assign tokens for the Consul Agent's usage"; }
  std::string help() const override {
    return flags_.help(
        "\nUsage: proconsul acl set-agent-token [options] TYPE TOKEN\n\n"
        "  Sets one of the tokens the running agent uses. Tokens set this way live in\n"
        "  memory only: after a restart the agent uses its configured tokens again.\n\n"
        "  Token types:\n\n"
        "    default      used for HTTP requests without a token, and for DNS when no\n"
        "                 dns token is set; the anonymous token when unset\n"
        "    agent        the agent's own operations; the default token when unset\n"
        "    recovery     agent API access while no server can be reached\n"
        "    replication  ACL replication between datacenters\n"
        "    config_file_service_registration  registering services from configuration\n"
        "    dns          DNS answers; the default token when unset\n\n"
        "  Example:\n\n"
        "    $ proconsul acl set-agent-token default c4d0f8df-3aba-4ab6-a7a0-35b760dc29a1\n");
  }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (positional.size() != 2) {
      *ctx.err << "Error! " << arguments_error(positional) << "\n";
      return 1;
    }
    auto token = load_data_source(positional[1], ctx);
    if (!token) {
      *ctx.err << "Error! " << token.error().message << "\n";
      return 1;
    }
    const std::string& type = positional[0];
    const auto path = token_paths().find(type);
    if (path == token_paths().end()) {
      *ctx.err << "Unknown token type\n";
      return 1;
    }
    boost::json::object body;
    body["Token"] = *token;
    const std::string prefix = "Failed to set ACL token \"" + type + "\": ";
    auto res = call_agent_ok(ctx, http_, CallKind::kWrite, "PUT", "/v1/agent/token/" + path->second,
                             {}, prefix, boost::json::serialize(body));
    if (!res) return 1;
    *ctx.out << "ACL token \"" << type << "\" set successfully\n";
    return 0;
  }

 private:
  static std::string arguments_error(const std::vector<std::string>& positional) {
    if (positional.empty()) return "Missing TYPE and TOKEN arguments";
    if (positional.size() == 1) {
      if (token_paths().contains(positional[0])) return "Missing TOKEN argument";
      return "MISSING TYPE argument";
    }
    return "Too many arguments: expected 2 got " + std::to_string(positional.size());
  }

  core::FlagSet flags_;
  HttpFlags http_;
};

}  // namespace

std::unique_ptr<Command> make_acl_set_agent_token_command() {
  return std::make_unique<SetAgentToken>();
}

}  // namespace pc::cli
