// `proconsul operator raft remove-peer -address=IP:port | -id=ID`, as Consul's
// command/operator/raft/removepeer.
#include <cstdio>
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul operator raft remove-peer [options]

  Remove the Proconsul server with given -address (or -id) from the Raft
  configuration.

  There are rare cases where a peer may be left behind in the Raft quorum even
  though the server is no longer present and known to the cluster. This command
  can be used to remove the failed server so that it no longer affects the Raft
  quorum.
)";

constexpr std::string_view kErrorPrefix = "Error removing peer: ";

// Go's %q for the texts printed here: double quotes, with backslash escapes for quotes,
// backslashes and control characters.
std::string go_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

class OperatorRaftRemovePeerCommand final : public Command {
 public:
  OperatorRaftRemovePeerCommand() {
    flags_.add_string("address", &address_, "The address to remove from the Raft configuration.");
    flags_.add_string("id", &id_, "The ID to remove from the Raft configuration.");
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
  }

  std::string synopsis() const override {
    return "Remove a Proconsul server from the Raft configuration";
  }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (address_.empty() && id_.empty()) {
      *ctx.err << kErrorPrefix << "an address or id is required for the peer to remove\n";
      return 1;
    }
    if (!address_.empty() && !id_.empty()) {
      *ctx.err << kErrorPrefix << "cannot give both an address and id\n";
      return 1;
    }
    QueryParams params;
    if (!address_.empty()) {
      params.emplace_back("address", address_);
    } else {
      params.emplace_back("id", id_);
    }
    core::Result<HttpResponse> res =
        call_agent(ctx, http_, CallKind::kWrite, "DELETE", "/v1/operator/raft/peer", params);
    if (!res) {
      *ctx.err << kErrorPrefix << res.error().message << "\n";
      return 1;
    }
    if (res->status != 200) {
      *ctx.err << kErrorPrefix << unexpected_status(*res) << "\n";
      return 1;
    }
    if (!address_.empty()) {
      *ctx.out << "Removed peer with address " << go_quote(address_) << "\n";
    } else {
      *ctx.out << "Removed peer with id " << go_quote(id_) << "\n";
    }
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  std::string address_;
  std::string id_;
};

}  // namespace

std::unique_ptr<Command> make_operator_raft_remove_peer_command() {
  return std::make_unique<OperatorRaftRemovePeerCommand>();
}

}  // namespace pc::cli
