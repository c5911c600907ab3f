// `proconsul operator`, `proconsul operator raft` and `proconsul operator autopilot`: only the
// help for their subcommands.
#include "cli/commands/commands.h"

namespace pc::cli {
namespace {

constexpr std::string_view kOperatorHelp = R"(Usage: proconsul operator <subcommand> [options]

  Provides cluster-level tools for Proconsul operators, such as interacting with
  the Raft subsystem. NOTE: Use this command with extreme caution, as improper
  use could lead to a Proconsul outage and even loss of data.

  Requests are forwarded internally to the leader if required, so this can be
  run from any Proconsul server in a cluster.

  Run proconsul operator <subcommand> with no arguments for help on that
  subcommand.)";

constexpr std::string_view kRaftHelp = R"(Usage: proconsul operator raft <subcommand> [options]

  The Raft operator command is used to interact with Proconsul's Raft subsystem.
  The command can be used to verify Raft peers, to move leadership to another
  server, or in rare cases to recover quorum by removing invalid peers.)";

constexpr std::string_view kAutopilotHelp =
    R"(Usage: proconsul operator autopilot <subcommand> [options]

  Shows or changes the settings of autopilot, the leader's watch over the
  servers: their health, and the removal of servers that have died.)";

class OperatorCommand final : public Command {
 public:
  std::string synopsis() const override {
    return "Provides cluster-level tools for Proconsul operators";
  }
  std::string help() const override { return std::string(kOperatorHelp); }
  int run(const std::vector<std::string>&, Context&) override { return kRunResultHelp; }
};

class OperatorRaftCommand final : public Command {
 public:
  std::string synopsis() const override { return "Provides cluster-level tools for Raft"; }
  std::string help() const override { return std::string(kRaftHelp); }
  int run(const std::vector<std::string>&, Context&) override { return kRunResultHelp; }
};

class OperatorAutopilotCommand final : public Command {
 public:
  std::string synopsis() const override {
    return "Provides tools for modifying Autopilot configuration";
  }
  std::string help() const override { return std::string(kAutopilotHelp); }
  int run(const std::vector<std::string>&, Context&) override { return kRunResultHelp; }
};

}  // namespace

std::unique_ptr<Command> make_operator_command() {
  return std::make_unique<OperatorCommand>();
}

std::unique_ptr<Command> make_operator_autopilot_command() {
  return std::make_unique<OperatorAutopilotCommand>();
}

std::unique_ptr<Command> make_operator_raft_command() {
  return std::make_unique<OperatorRaftCommand>();
}

}  // namespace pc::cli
