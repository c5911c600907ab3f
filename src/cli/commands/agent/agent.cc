// `proconsul agent`: loads the configuration the Consul way (core/config.h) and hands it to
// the daemon, which runs until a terminating signal.
#include <ostream>

#include "cli/commands/commands.h"
#include "core/config.h"
#include "core/log.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul agent [options]

  Starts the Proconsul agent and runs until an interrupt is received. The
  agent represents a single node in a cluster.

  A development agent, a single in-memory server with everything on:

      $ proconsul agent -dev

  Configuration comes from defaults, then -config-file and -config-dir
  sources (JSON, in the order given), then the flags below.
)";

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return std::string(text);
}

class AgentCommand final : public Command {
 public:
  std::string synopsis() const override { return "Runs a Proconsul agent"; }
  std::string help() const override { return trimmed(kHelp) + "\n\n" + core::agent_flags_usage(); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    core::Result<core::AgentConfig> config = core::load_agent_config(args);
    if (!config) {
      if (config.error().message == "flag: help requested") {
        *ctx.err << help() << "\n";
        return 0;
      }
      *ctx.err << config.error().message << "\n";
      return 1;
    }
    if (!ctx.run_agent) {
      *ctx.err << "This build of proconsul has no agent.\n";
      return 1;
    }
    // Consul logs its builder's warnings once logging is set up; the level parsed, since
    // load_agent_config validated it.
    if (!config->warnings.empty()) {
      core::Result<core::log::Level> level = core::log::parse_level(config->log_level);
      core::log::configure(level ? *level : core::log::Level::kInfo, config->log_json);
      for (const std::string& warning : config->warnings) core::log::warn("agent", "{}", warning);
    }
    return ctx.run_agent(*config);
  }
};

}  // namespace

std::unique_ptr<Command> make_agent_command() {
  return std::make_unique<AgentCommand>();
}

}  // namespace pc::cli
