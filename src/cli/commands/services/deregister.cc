// `proconsul services deregister [options] [FILE...]`, as Consul's
// command/services/deregister.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "cli/commands/services/service_file.h"
#include "core/flags.h"
#include "core/strings.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul services deregister [options] [FILE...]

  Deregister one or more services that were previously registered with
  the local agent.

      $ proconsul services deregister web.json db.json

  The -id flag may be used to deregister a single service by ID:

      $ proconsul services deregister -id=web

  Services are deregistered from the local agent catalog. This command must
  be run against the same agent where the service was registered.
)";

class ServicesDeregisterCommand final : public Command {
 public:
  ServicesDeregisterCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
    flags_.add_string("id", &id_, "ID to delete. This must not be set if arguments are given.");
  }

  std::string synopsis() const override { return "Deregister services with the local agent"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> files;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, files)) return *code;
    if (files.empty() && id_.empty()) {
      *ctx.err << "Service deregistration requires at least one argument or -id.\n";
      return 1;
    }
    if (!files.empty() && !id_.empty()) {
      *ctx.err << "Service deregistration requires arguments or -id, not both.\n";
      return 1;
    }
    std::vector<ServiceDefinition> services(1);
    services[0].id = id_;
    if (!files.empty()) {
      core::Result<std::vector<ServiceDefinition>> loaded = services_from_files(files, *ctx.err);
      if (!loaded) {
        *ctx.err << "Error: " << loaded.error().message << "\n";
        return 1;
      }
      services = std::move(*loaded);
    }
    for (const ServiceDefinition& svc : services) {
      // A definition without an ID is known by its name; one with neither is skipped.
      const std::string& id = svc.id.empty() ? svc.name : svc.id;
      if (id.empty()) continue;
      // Consul names the service by the definition's name here, "" with -id.
      std::string prefix = "Error deregistering service " + core::go_quote(svc.name) + ": ";
      if (!call_agent_ok(ctx, http_, CallKind::kWrite, "PUT",
                         "/v1/agent/service/deregister/" + encode_path(id), {}, prefix)) {
        return 1;
      }
      *ctx.out << "Deregistered service: " << id << "\n";
    }
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  std::string id_;
};

}  // namespace

std::unique_ptr<Command> make_services_deregister_command() {
  return std::make_unique<ServicesDeregisterCommand>();
}

}  // namespace pc::cli
