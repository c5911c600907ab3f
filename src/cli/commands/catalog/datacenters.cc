// `proconsul catalog datacenters`, as Consul's command/catalog/list/dc.
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
Usage: proconsul catalog datacenters [options]

  Retrieves the list of all known datacenters. This datacenters are sorted in
  ascending order based on the estimated median round trip time from the servers
  in this datacenter to the servers in the other datacenters.

  To retrieve the list of datacenters:

      $ proconsul catalog datacenters

  For a full list of options and examples, please see the documentation.
)";

constexpr std::string_view kErrorPrefix = "Error listing datacenters: ";

class CatalogDatacentersCommand final : public Command {
 public:
  CatalogDatacentersCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
  }

  std::string synopsis() const override { return "Lists all known datacenters"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (!expect_no_arguments(positional, ctx)) return 1;
    std::optional<HttpResponse> res = call_agent_ok(ctx, http_, CallKind::kRead, "GET",
                                                    "/v1/catalog/datacenters", {}, kErrorPrefix);
    if (!res) return 1;
    core::Result<std::vector<std::string>> dcs = parse(res->body);
    if (!dcs) {
      *ctx.err << kErrorPrefix << dcs.error().message << "\n";
      return 1;
    }
    for (const std::string& dc : *dcs) *ctx.out << dc << "\n";
    return 0;
  }

 private:
  static core::Result<std::vector<std::string>> parse(std::string_view body) {
    core::Result<json::value> root = parse_response_json(body);
    if (!root) return root.error();
    std::vector<std::string> dcs;
    if (root->is_null()) return dcs;
    if (!root->is_array()) return bad_response("expected a JSON array");
    for (const json::value& dc : root->get_array()) {
      if (!dc.is_string()) return bad_response("expected an array of strings");
      dcs.emplace_back(dc.get_string());
    }
    return dcs;
  }

  core::FlagSet flags_;
  HttpFlags http_;
};

}  // namespace

std::unique_ptr<Command> make_catalog_datacenters_command() {
  return std::make_unique<CatalogDatacentersCommand>();
}

}  // namespace pc::cli
