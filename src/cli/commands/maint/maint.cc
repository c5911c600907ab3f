// `proconsul maint [options]`, as Consul's command/maint.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "cli/commands/json_fields.h"
#include "core/flags.h"
#include "core/strings.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kHelp = R"(
Usage: proconsul maint [options]

  Places a node or service into maintenance mode. During maintenance mode,
  the node or service will be excluded from all queries through the DNS
  or API interfaces, effectively taking it out of the pool of available
  nodes. This is done by registering an additional critical health check.

  When enabling maintenance mode for a node or service, you may optionally
  specify a reason string. This string will appear in the "Notes" field
  of the critical health check which is registered against the node or
  service. If no reason is provided, a default value will be used.

  Maintenance mode is persistent, and will be restored in the event of an
  agent restart. It is therefore required to disable maintenance mode on
  a given node or service before it will be placed back into the pool.

  By default, we operate on the node as a whole. By specifying the
  "-service" argument, this behavior can be changed to enable or disable
  only a specific service.

  If no arguments are given, the agent's maintenance status will be shown.
  This will return blank if nothing is currently under maintenance.
)";

constexpr std::string_view kNodeMaintenance = "_node_maintenance";
constexpr std::string_view kServiceMaintenancePrefix = "_service_maintenance:";

// The fields of api.AgentCheck the listing shows.
struct Check {
  std::string check_id;
  std::string notes;
  std::string service_id;
};

// /v1/agent/checks: {"<CheckID>": {"CheckID": ..., "Notes": ..., "ServiceID": ...}}, in
// CheckID order (Consul walks a Go map, so its order varies from run to run).
core::Result<std::map<std::string, Check>> parse_checks(std::string_view body) {
  core::Result<json::value> root = parse_response_json(body);
  if (!root) return root.error();
  std::map<std::string, Check> checks;
  if (root->is_null()) return checks;
  if (!root->is_object()) return bad_response("expected a JSON object");
  for (const auto& [key, value] : root->get_object()) {
    if (!value.is_object()) return bad_response("expected an object of checks");
    const json::object& obj = value.get_object();
    Check c;
    for (core::Status s :
         {read_string_field(obj, "CheckID", c.check_id), read_string_field(obj, "Notes", c.notes),
          read_string_field(obj, "ServiceID", c.service_id)}) {
      if (!s) return s.error();
    }
    checks[std::string(key)] = std::move(c);
  }
  return checks;
}

class MaintCommand final : public Command {
 public:
  // Consul's maint takes the client flags only.
  MaintCommand() {
    http_.add_client_flags(flags_);
    flags_.add_bool("disable", &disable_, "Disable maintenance mode.");
    flags_.add_bool("enable", &enable_, "Enable maintenance mode.");
    flags_.add_string("reason", &reason_, "Text describing the maintenance reason.");
    flags_.add_string("service", &service_, "Control maintenance mode for a specific service ID.");
  }

  std::string synopsis() const override { return "Controls node or service maintenance mode"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;  // ignored, as Consul ignores them
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (enable_ && disable_) {
      *ctx.err << "Only one of -enable or -disable may be provided\n";
      return 1;
    }
    if (!enable_ && !reason_.empty()) {
      *ctx.err << "Reason may only be provided with -enable\n";
      return 1;
    }
    if (!enable_ && !disable_ && !service_.empty()) {
      *ctx.err << "Service requires either -enable or -disable\n";
      return 1;
    }
    if (!enable_ && !disable_) return list(ctx);
    return toggle(ctx);
  }

 private:
  int list(Context& ctx) {
    std::optional<HttpResponse> self = call_agent_ok(
        ctx, http_, CallKind::kRead, "GET", "/v1/agent/self", {}, "Error querying agent: ");
    if (!self) return 1;
    std::string node_name;
    if (core::Status s = read_node_name(self->body, node_name); !s) {
      *ctx.err << "Error querying agent: " << s.error().message << "\n";
      return 1;
    }
    std::optional<HttpResponse> res = call_agent_ok(
        ctx, http_, CallKind::kRead, "GET", "/v1/agent/checks", {}, "Error getting checks: ");
    if (!res) return 1;
    core::Result<std::map<std::string, Check>> checks = parse_checks(res->body);
    if (!checks) {
      *ctx.err << "Error getting checks: " << checks.error().message << "\n";
      return 1;
    }
    for (const auto& [key, check] : *checks) {
      if (check.check_id == kNodeMaintenance) {
        *ctx.out << "Node:\n  Name:   " << node_name << "\n  Reason: " << check.notes << "\n\n";
      } else if (check.check_id.starts_with(kServiceMaintenancePrefix)) {
        *ctx.out << "Service:\n  ID:     " << check.service_id << "\n  Reason: " << check.notes
                 << "\n\n";
      }
    }
    return 0;
  }

  // Config.NodeName of /v1/agent/self.
  static core::Status read_node_name(std::string_view body, std::string& out) {
    core::Result<json::value> root = parse_response_json(body);
    if (!root) return root.error();
    const json::value* config =
        root->is_object() ? root->get_object().if_contains("Config") : nullptr;
    if (config == nullptr || !config->is_object()) return bad_response("missing Config");
    const json::value* name = config->get_object().if_contains("NodeName");
    if (name == nullptr || !name->is_string()) return bad_response("missing Config.NodeName");
    out = std::string(name->get_string());
    return core::ok();
  }

  int toggle(Context& ctx) {
    const bool node = service_.empty();
    const std::string action = enable_ ? "enabl" : "disabl";
    QueryParams params{{"enable", enable_ ? "true" : "false"}};
    // Consul's api client always sends reason= when enabling, even empty.
    if (enable_) params.emplace_back("reason", reason_);
    std::string path =
        node ? "/v1/agent/maintenance" : "/v1/agent/service/maintenance/" + encode_path(service_);
    std::string prefix =
        "Error " + action + "ing " + (node ? "node" : "service") + " maintenance: ";
    if (!call_agent_ok(ctx, http_, CallKind::kWrite, "PUT", path, std::move(params), prefix)) {
      return 1;
    }
    if (node) {
      *ctx.out << "Node maintenance is now " << action << "ed\n";
    } else {
      *ctx.out << "Service maintenance is now " << action << "ed for " << core::go_quote(service_)
               << "\n";
    }
    return 0;
  }

  core::FlagSet flags_;
  HttpFlags http_;
  bool disable_ = false;
  bool enable_ = false;
  std::string reason_;
  std::string service_;
};

}  // namespace

std::unique_ptr<Command> make_maint_command() {
  return std::make_unique<MaintCommand>();
}

}  // namespace pc::cli
