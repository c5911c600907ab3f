// `proconsul event [options] [payload]`, as Consul's command/event: fires a user event
// through the agent's /v1/event/fire/<name>.
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
Usage: proconsul event [options] [payload]

  Dispatches a custom user event across a datacenter. An event must provide
  a name, but a payload is optional. Events support filtering using
  regular expressions on node name, service, and tag definitions.
)";

class EventCommand final : public Command {
 public:
  EventCommand() {
    flags_.add_string("name", &name_, "Name of the event.");
    flags_.add_string("node", &node_, "Regular expression to filter on node names.");
    flags_.add_string("service", &service_, "Regular expression to filter on service instances.");
    flags_.add_string("tag", &tag_,
                      "Regular expression to filter on service tags. Must be used with "
                      "-service.");
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
  }

  std::string synopsis() const override { return "Fire a new event"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (name_.empty()) {
      *ctx.err << "Event name must be specified\n";
      return 1;
    }
    if (!tag_.empty() && service_.empty()) {
      *ctx.err << "Cannot provide tag filter with no service filter.\n";
      return 1;
    }
    if (positional.size() > 1) {
      *ctx.err << "Too many command line arguments.\n";
      return 1;
    }
    const std::string payload = positional.empty() ? "" : positional[0];
    // Consul checks the agent answers before it fires.
    auto self = call_agent(ctx, http_, CallKind::kRead, "GET", "/v1/agent/self", {});
    if (!self || self->status != 200) {
      *ctx.err << "Error querying Consul agent: "
               << (self ? unexpected_status(*self) : self.error().message) << "\n";
      return 1;
    }
    QueryParams params;
    if (!node_.empty()) params.emplace_back("node", node_);
    if (!service_.empty()) params.emplace_back("service", service_);
    if (!tag_.empty()) params.emplace_back("tag", tag_);
    auto res =
        call_agent(ctx, http_, CallKind::kWrite, "PUT", "/v1/event/fire/" + name_, params, payload);
    if (!res || res->status != 200) {
      *ctx.err << "Error firing event: " << (res ? unexpected_status(*res) : res.error().message)
               << "\n";
      return 1;
    }
    auto root = parse_response_json(res->body);
    const json::value* id =
        root && root->is_object() ? root->get_object().if_contains("ID") : nullptr;
    if (id == nullptr || !id->is_string()) {
      *ctx.err << "Error firing event: unexpected response\n";
      return 1;
    }
    *ctx.out << "Event ID: " << std::string(id->get_string()) << "\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  std::string name_, node_, service_, tag_;
};

}  // namespace

std::unique_ptr<Command> make_event_command() {
  return std::make_unique<EventCommand>();
}

}  // namespace pc::cli
