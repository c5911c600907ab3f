// `proconsul services register [options] [FILE...]`, as Consul's command/services/register.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "cli/commands/services/service_file.h"
#include "core/flags.h"
#include "core/strings.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kHelp = R"(
Usage: proconsul services register [options] [FILE...]

  Register one or more services using the local agent API. Services can
  be registered from JSON service definition files (the "service" or
  "services" key of an agent configuration file) or using flags. The service
  is registered and the command returns. The caller must remember to call
  "proconsul services deregister" or a similar API to deregister the service
  when complete.

      $ proconsul services register web.json

      $ proconsul services register -name=web -port=8080 -tag=v1

  HCL service definitions are not supported yet.

  Additional flags and more advanced use cases are detailed below.
)";

class ServicesRegisterCommand final : public Command {
 public:
  ServicesRegisterCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
    flags_.add_string("address", &address_,
                      "Address of the service to register for arg-based registration.");
    flags_.add_string("id", &id_,
                      "ID of the service to register for arg-based registration. If this isn't "
                      "set, it will default to the -name value.");
    add_map_flag(flags_, "meta", &meta_,
                 "Metadata to set on the service, formatted as key=value. This flag may be "
                 "specified multiple times to set multiple meta fields.");
    flags_.add_string("name", &name_,
                      "Name of the service to register for arg-based registration.");
    flags_.add_int("port", &port_, "Port of the service to register for arg-based registration.");
    flags_.add_strings("tag", &tags_,
                       "Tag to add to the service. This flag can be specified multiple times to "
                       "set multiple tags.");
  }

  std::string synopsis() const override { return "Register services with the local agent"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> files;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, files)) return *code;
    if (files.empty() && name_.empty()) {
      *ctx.err << "Service registration requires at least one argument or flags.\n";
      return 1;
    }
    if (!files.empty() && !name_.empty()) {
      *ctx.err << "Service registration requires arguments or -id, not both.\n";
      return 1;
    }
    std::vector<ServiceDefinition> services;
    if (files.empty()) {
      services.push_back(from_flags());
    } else {
      core::Result<std::vector<ServiceDefinition>> loaded = services_from_files(files, *ctx.err);
      if (!loaded) {
        *ctx.err << "Error: " << loaded.error().message << "\n";
        return 1;
      }
      services = std::move(*loaded);
    }
    for (const ServiceDefinition& svc : services) {
      std::string prefix = "Error registering service " + core::go_quote(svc.name) + ": ";
      if (!call_agent_ok(ctx, http_, CallKind::kWrite, "PUT", "/v1/agent/service/register", {},
                         prefix, json::serialize(svc.body))) {
        return 1;
      }
      *ctx.out << "Registered service: " << svc.name << "\n";
    }
    return 0;
  }

 private:
  // The body api.AgentServiceRegistration marshals to: empty fields left out, but "Check"
  // and "Checks" always present.
  ServiceDefinition from_flags() const {
    ServiceDefinition svc;
    svc.id = id_;
    svc.name = name_;
    if (!id_.empty()) svc.body["ID"] = id_;
    svc.body["Name"] = name_;
    if (!tags_.empty()) {
      json::array tags;
      for (const std::string& t : tags_) tags.emplace_back(t);
      svc.body["Tags"] = std::move(tags);
    }
    if (port_ != 0) svc.body["Port"] = port_;
    if (!address_.empty()) svc.body["Address"] = address_;
    if (!meta_.empty()) {
      json::object meta;
      for (const auto& [k, v] : meta_) meta[k] = v;
      svc.body["Meta"] = std::move(meta);
    }
    svc.body["Check"] = nullptr;
    svc.body["Checks"] = nullptr;
    return svc;
  }

  core::FlagSet flags_;
  HttpFlags http_;
  std::string address_;
  std::string id_;
  std::map<std::string, std::string> meta_;
  std::string name_;
  int port_ = 0;
  std::vector<std::string> tags_;
};

}  // namespace

std::unique_ptr<Command> make_services_register_command() {
  return std::make_unique<ServicesRegisterCommand>();
}

}  // namespace pc::cli
