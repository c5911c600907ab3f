// `proconsul operator raft transfer-leader [-id=ID]`, as Consul's
// command/operator/raft/transferleader.
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
Usage: proconsul operator raft transfer-leader [options]

  Transfer raft leadership to another node: the server with the given -id (a
  node ID as "operator raft list-peers" shows it), or else the most up-to-date
  other voter.
)";

// Consul's texts, spelling and the missing ": " included.
constexpr std::string_view kErrorPrefix = "Error transfering leadership: ";
constexpr std::string_view kFailed = "Failed to transfer leadership";

class OperatorRaftTransferLeaderCommand final : public Command {
 public:
  OperatorRaftTransferLeaderCommand() {
    flags_.add_string("id", &id_, "The ID of the node to transfer leadership to.");
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
  }

  std::string synopsis() const override { return "Transfer raft leadership to another node"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    QueryParams params;
    if (!id_.empty()) params.emplace_back("id", id_);
    core::Result<HttpResponse> res = call_agent(ctx, http_, CallKind::kRead, "POST",
                                                "/v1/operator/raft/transfer-leader", params);
    if (!res) {
      *ctx.err << kErrorPrefix << kFailed << " " << res.error().message << "\n";
      return 1;
    }
    if (res->status != 200) {
      *ctx.err << kErrorPrefix << kFailed << " " << unexpected_status(*res) << "\n";
      return 1;
    }
    core::Result<json::value> root = parse_response_json(res->body);
    if (!root) {
      *ctx.err << kErrorPrefix << kFailed << " " << root.error().message << "\n";
      return 1;
    }
    const json::value* success =
        root->is_object() ? root->get_object().if_contains("Success") : nullptr;
    if (success == nullptr || !success->is_bool() || !success->get_bool()) {
      *ctx.err << kErrorPrefix << kFailed << "\n";
      return 1;
    }
    *ctx.out << "Success\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  std::string id_;
};

}  // namespace

std::unique_ptr<Command> make_operator_raft_transfer_leader_command() {
  return std::make_unique<OperatorRaftTransferLeaderCommand>();
}

}  // namespace pc::cli
