// `proconsul info`: the "Stats" of /v1/agent/self, as Consul's command/info prints them.
#include <algorithm>
#include <boost/json.hpp>
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kHelp = R"(
Usage: proconsul info [options]

  Provides debugging information for operators.
)";

class InfoCommand final : public Command {
 public:
  // Consul's info takes the client flags only (no -datacenter, no -stale).
  InfoCommand() { http_.add_client_flags(flags_); }

  std::string synopsis() const override { return "Provides debugging information for operators."; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    core::Result<HttpResponse> res =
        call_agent(ctx, http_, CallKind::kRead, "GET", "/v1/agent/self", {});
    if (!res) {
      *ctx.err << res.error().message << "\n";
      return 1;
    }
    if (res->status != 200) {
      *ctx.err << "Error querying agent: " << unexpected_status(*res) << "\n";
      return 1;
    }
    boost::system::error_code ec;
    json::value self = json::parse(res->body, ec);
    if (ec || !self.is_object()) {
      *ctx.err << "Error querying agent: cannot decode the response: "
               << (ec ? ec.message() : "expected a JSON object") << "\n";
      return 1;
    }
    const json::value* stats = self.get_object().if_contains("Stats");
    if (stats == nullptr || !stats->is_object()) {
      *ctx.err << "Agent response did not contain 'Stats' key: " << res->body << "\n";
      return 1;
    }
    std::vector<std::string> sections;
    for (const auto& [name, value] : stats->get_object()) sections.emplace_back(name);
    std::sort(sections.begin(), sections.end());
    for (const std::string& section : sections) {
      *ctx.out << section << ":\n";
      const json::value& sub = stats->get_object().at(section);
      if (!sub.is_object()) {
        *ctx.err << "Got invalid subkey in stats: " << json::serialize(sub) << "\n";
        return 1;
      }
      std::vector<std::string> keys;
      for (const auto& [key, value] : sub.get_object()) keys.emplace_back(key);
      std::sort(keys.begin(), keys.end());
      for (const std::string& key : keys) {
        const json::value& v = sub.get_object().at(key);
        // Consul's stats are strings; anything else is shown as its JSON text.
        *ctx.out << "\t" << key << " = "
                 << (v.is_string() ? std::string(v.get_string()) : json::serialize(v)) << "\n";
      }
    }
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
};

}  // namespace

std::unique_ptr<Command> make_info_command() {
  return std::make_unique<InfoCommand>();
}

}  // namespace pc::cli
