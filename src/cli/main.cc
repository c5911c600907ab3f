// The `proconsul` binary: the real context plus the daemon; everything else is in
// pc::cli_commands so tests can run the commands without a process.
#include <string>
#include <vector>

#include "cli/cli.h"
#include "daemon/agent.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  pc::cli::Context ctx = pc::cli::default_context();
  ctx.run_agent = [](const pc::core::AgentConfig& config) { return pc::daemon::run_agent(config); };
  return pc::cli::run(args, ctx);
}
