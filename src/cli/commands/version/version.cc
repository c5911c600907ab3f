// `proconsul version`: the version, and the source revision when the build knows it.
#include <ostream>

#include "cli/build_info.h"
#include "cli/commands/commands.h"
#include "core/flags.h"

#if __has_include("core/version.h")
#include "core/version.h"
// The agent reports core::kVersion (/v1/agent/self); the CLI reports project(VERSION).
static_assert(pc::core::kVersion == std::string_view(pc::cli::kBuildVersion),
              "core/version.h and project(VERSION) in CMakeLists.txt disagree");
#endif

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul version [options]

  Prints the version of this binary.
)";

class VersionCommand final : public Command {
 public:
  std::string synopsis() const override { return "Prints the Proconsul version"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    *ctx.out << "Proconsul v" << kBuildVersion << "\n";
    // Consul prints "Revision <commit>"; we print it only when the build was given one.
    if (std::string_view(kBuildRevision).size() > 0) {
      *ctx.out << "Revision " << kBuildRevision << "\n";
    }
    return 0;
  }

 private:
  core::FlagSet flags_;
};

}  // namespace

std::unique_ptr<Command> make_version_command() {
  return std::make_unique<VersionCommand>();
}

}  // namespace pc::cli
