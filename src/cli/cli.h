#pragma once
// The `proconsul` command line: a table of commands ("kv put" is a nested command of "kv")
// and a dispatcher that behaves like Consul's (mitchellh/cli):
//
//   proconsul                     lists the commands on stderr, exit 127
//   proconsul -h | --help         the same, exit 0
//   proconsul -v | --version      runs `version`
//   proconsul nope                lists the commands on stderr, exit 127
//   proconsul kv put -h           that command's help on stderr, exit 0 (a help flag anywhere
//                                 before "--" asks for help, as mitchellh/cli reads it)
//   proconsul kv                  the kv help with its subcommands on stderr, exit 1
//   command errors                message on stderr, exit 1
//
// Everything a command touches outside itself comes through Context, so tests run commands
// with string streams, a fake environment and a fake HTTP function.
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/http_client.h"

namespace pc::core {
struct AgentConfig;
class FlagSet;
}  // namespace pc::core

namespace pc::cli {

// mitchellh/cli's RunResultHelp: a command returns it to have its help printed on stderr and
// the process exit with 1.
inline constexpr int kRunResultHelp = -18511;
// mitchellh/cli's exit code for a missing or unknown command.
inline constexpr int kExitUnknownCommand = 127;

// What a command may use of the world. Not thread-safe; one command runs at a time.
struct Context {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  std::istream* in = nullptr;
  // Environment lookup; nullopt when unset.
  std::function<std::optional<std::string>(std::string_view name)> getenv;
  HttpFunction http;
  // Runs the agent until it stops; returns the exit code. Empty in builds without a daemon.
  std::function<int(const core::AgentConfig&)> run_agent;
};

// The real streams, environment and HTTP client; run_agent is left empty for main() to set.
Context default_context();

class Command {
 public:
  virtual ~Command() = default;
  // One line for the command list.
  virtual std::string synopsis() const = 0;
  // Full help: usage line, description, flags.
  virtual std::string help() const = 0;
  // `args` are the arguments after the command's name. Returns the exit code, or
  // kRunResultHelp.
  virtual int run(const std::vector<std::string>& args, Context& ctx) = 0;
};

struct CommandEntry {
  std::string_view name;  // words separated by one space: "kv put"
  std::unique_ptr<Command> (*make)();
};

// The one registration table (cli.cc), sorted by name.
std::span<const CommandEntry> command_table();

// Runs the command line `args` (without the program name); returns the exit code.
int run(const std::vector<std::string>& args, Context& ctx);

// "Usage: proconsul [--version] [--help] <command> [<args>]" and the top-level commands.
std::string main_help();

// For commands: parses `args` with `flags`. On help prints `help` to stderr and returns 0;
// on a flag error prints the error and `help` to stderr and returns 1; otherwise returns
// nullopt and fills `positional`.
std::optional<int> parse_command_flags(core::FlagSet& flags, const std::vector<std::string>& args,
                                       const std::string& help, Context& ctx,
                                       std::vector<std::string>& positional);

}  // namespace pc::cli
