// `proconsul operator autopilot set-config [-flag=value ...]`: reads the current autopilot
// configuration, changes the settings whose flags were given, and writes it back with
// ?cas= set to the ModifyIndex it read, so a concurrent change is not overwritten (Consul's
// command does the same). Servers that cannot store the configuration yet answer the PUT
// with an error, which is printed.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "cli/commands/json_fields.h"
#include "core/duration.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kHelp = R"(
Usage: proconsul operator autopilot set-config [options]

  Modifies the current Autopilot configuration.
)";

constexpr std::string_view kQueryError = "Error querying Autopilot configuration: ";
constexpr std::string_view kSetError = "Error setting Autopilot configuration: ";

class OperatorAutopilotSetConfigCommand final : public Command {
 public:
  OperatorAutopilotSetConfigCommand() {
    flags_.add_bool("cleanup-dead-servers", &cleanup_dead_servers_,
                    "Whether the leader removes servers it has lost contact with from the "
                    "Raft configuration: `true|false`.");
    flags_.add_uint("max-trailing-logs", &max_trailing_logs_,
                    "How many log entries a server may lag behind the leader and still count "
                    "as healthy.");
    flags_.add_uint("min-quorum", &min_quorum_,
                    "The fewest voters dead-server cleanup may leave; 0 for no minimum.");
    flags_.add_duration("last-contact-threshold", &last_contact_threshold_,
                        "How long a server may go without hearing from the leader and still "
                        "count as healthy, as a `duration` such as 200ms.");
    flags_.add_duration("server-stabilization-time", &server_stabilization_time_,
                        "How long a new server must stay healthy before it would be made a "
                        "voter, as a `duration` such as 10s.");
    flags_.add_string("redundancy-zone-tag", &redundancy_zone_tag_,
                      "Consul Enterprise: the node meta key that names a server's redundancy "
                      "zone. No effect in Proconsul.");
    flags_.add_bool("disable-upgrade-migration", &disable_upgrade_migration_,
                    "Consul Enterprise: turns automated upgrade migrations off: `true|false`. "
                    "No effect in Proconsul.");
    flags_.add_string("upgrade-version-tag", &upgrade_version_tag_,
                      "Consul Enterprise: the node meta key holding a server's version for "
                      "upgrade migrations. No effect in Proconsul.");
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
  }

  std::string synopsis() const override { return "Modify the current Autopilot configuration"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    core::Result<json::object> config = current(ctx);
    if (!config) {
      *ctx.err << kQueryError << config.error().message << "\n";
      return 1;
    }
    std::int64_t modify_index = 0;
    (void)read_int_field(*config, "ModifyIndex", modify_index);
    apply_flags(*config);
    const QueryParams params{{"cas", std::to_string(modify_index)}};
    core::Result<HttpResponse> res =
        call_agent(ctx, http_, CallKind::kWrite, "PUT", "/v1/operator/autopilot/configuration",
                   params, json::serialize(*config));
    if (!res) {
      *ctx.err << kSetError << res.error().message << "\n";
      return 1;
    }
    if (res->status != 200) {
      *ctx.err << kSetError << unexpected_status(*res) << "\n";
      return 1;
    }
    core::Result<json::value> ok = parse_response_json(res->body);
    if (ok && ok->is_bool() && ok->get_bool()) {
      *ctx.out << "Configuration updated!\n";
      return 0;
    }
    *ctx.out << "Configuration could not be atomically updated, please try again\n";
    return 1;
  }

 private:
  core::Result<json::object> current(Context& ctx) {
    core::Result<HttpResponse> res =
        call_agent(ctx, http_, CallKind::kRead, "GET", "/v1/operator/autopilot/configuration", {});
    if (!res) return res.error();
    if (res->status != 200) return core::make_error(core::Code::kInternal, unexpected_status(*res));
    core::Result<json::value> root = parse_response_json(res->body);
    if (!root) return root.error();
    if (!root->is_object()) return bad_response("expected an object");
    return root->get_object();
  }

  // Only what was given on the command line changes.
  void apply_flags(json::object& config) const {
    if (flags_.is_set("cleanup-dead-servers")) config["CleanupDeadServers"] = cleanup_dead_servers_;
    if (flags_.is_set("max-trailing-logs")) config["MaxTrailingLogs"] = max_trailing_logs_;
    if (flags_.is_set("min-quorum")) config["MinQuorum"] = min_quorum_;
    if (flags_.is_set("last-contact-threshold")) {
      config["LastContactThreshold"] = core::format_go_duration(last_contact_threshold_);
    }
    if (flags_.is_set("server-stabilization-time")) {
      config["ServerStabilizationTime"] = core::format_go_duration(server_stabilization_time_);
    }
    if (flags_.is_set("redundancy-zone-tag")) config["RedundancyZoneTag"] = redundancy_zone_tag_;
    if (flags_.is_set("disable-upgrade-migration")) {
      config["DisableUpgradeMigration"] = disable_upgrade_migration_;
    }
    if (flags_.is_set("upgrade-version-tag")) config["UpgradeVersionTag"] = upgrade_version_tag_;
  }

  core::FlagSet flags_;
  HttpFlags http_;
  bool cleanup_dead_servers_ = false;
  std::uint64_t max_trailing_logs_ = 0;
  std::uint64_t min_quorum_ = 0;
  core::Duration last_contact_threshold_{0};
  core::Duration server_stabilization_time_{0};
  std::string redundancy_zone_tag_;
  bool disable_upgrade_migration_ = false;
  std::string upgrade_version_tag_;
};

}  // namespace

std::unique_ptr<Command> make_operator_autopilot_set_config_command() {
  return std::make_unique<OperatorAutopilotSetConfigCommand>();
}

}  // namespace pc::cli
