// `proconsul operator autopilot get-config`: the autopilot configuration the servers run
// with, one "Name = value" line per setting in the order and format of Consul's command.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "cli/commands/json_fields.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kHelp = R"(
Usage: proconsul operator autopilot get-config [options]

  Displays the current Autopilot configuration.
)";

constexpr std::string_view kErrorPrefix = "Error querying Autopilot configuration: ";

// Go's %q for the plain tag strings these fields hold.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string bool_text(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(name);
  return v != nullptr && v->is_bool() && v->get_bool() ? "true" : "false";
}

class OperatorAutopilotGetConfigCommand final : public Command {
 public:
  OperatorAutopilotGetConfigCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
  }

  std::string synopsis() const override { return "Display the current Autopilot configuration"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    core::Result<HttpResponse> res =
        call_agent(ctx, http_, CallKind::kRead, "GET", "/v1/operator/autopilot/configuration", {});
    if (!res) {
      *ctx.err << kErrorPrefix << res.error().message << "\n";
      return 1;
    }
    if (res->status != 200) {
      *ctx.err << kErrorPrefix << unexpected_status(*res) << "\n";
      return 1;
    }
    core::Result<json::value> root = parse_response_json(res->body);
    if (root && !root->is_object()) root = bad_response("expected an object");
    std::string last_contact, stabilization, zone_tag, version_tag;
    std::int64_t trailing = 0;
    std::int64_t min_quorum = 0;
    if (root) {
      const json::object& obj = root->get_object();
      for (core::Status s : {read_string_field(obj, "LastContactThreshold", last_contact),
                             read_string_field(obj, "ServerStabilizationTime", stabilization),
                             read_string_field(obj, "RedundancyZoneTag", zone_tag),
                             read_string_field(obj, "UpgradeVersionTag", version_tag),
                             read_int_field(obj, "MaxTrailingLogs", trailing),
                             read_int_field(obj, "MinQuorum", min_quorum)}) {
        if (!s) root = s.error();
      }
    }
    if (!root) {
      *ctx.err << kErrorPrefix << root.error().message << "\n";
      return 1;
    }
    const json::object& obj = root->get_object();
    *ctx.out << "CleanupDeadServers = " << bool_text(obj, "CleanupDeadServers") << "\n"
             << "LastContactThreshold = " << last_contact << "\n"
             << "MaxTrailingLogs = " << trailing << "\n"
             << "MinQuorum = " << min_quorum << "\n"
             << "ServerStabilizationTime = " << stabilization << "\n"
             << "RedundancyZoneTag = " << quoted(zone_tag) << "\n"
             << "DisableUpgradeMigration = " << bool_text(obj, "DisableUpgradeMigration") << "\n"
             << "UpgradeVersionTag = " << quoted(version_tag) << "\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
};

}  // namespace

std::unique_ptr<Command> make_operator_autopilot_get_config_command() {
  return std::make_unique<OperatorAutopilotGetConfigCommand>();
}

}  // namespace pc::cli
