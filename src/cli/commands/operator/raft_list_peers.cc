// `proconsul operator raft list-peers`, as Consul's command/operator/raft/listpeers: the Raft
// configuration joined with autopilot's health for the Commit Index and Trails Leader By
// columns.
#include <map>
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
Usage: proconsul operator raft list-peers [options]

  Displays the current Raft peer configuration.
)";

constexpr std::string_view kErrorPrefix = "Error getting peers: ";

// api.RaftServer, the fields the table shows.
struct Peer {
  std::string id;
  std::string node;
  std::string address;
  bool leader = false;
  bool voter = false;
  std::string protocol_version;
};

core::Status read_bool_field(const json::object& obj, std::string_view name, bool& out) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) return core::ok();
  if (!v->is_bool()) return bad_response("field " + std::string(name) + " is not a boolean");
  out = v->get_bool();
  return core::ok();
}

core::Result<std::vector<Peer>> parse_configuration(std::string_view body) {
  core::Result<json::value> root = parse_response_json(body);
  if (!root) return root.error();
  if (!root->is_object()) return bad_response("expected a JSON object");
  std::vector<Peer> peers;
  const json::value* servers = root->get_object().if_contains("Servers");
  if (servers == nullptr || servers->is_null()) return peers;
  if (!servers->is_array()) return bad_response("expected Servers to be an array");
  for (const json::value& item : servers->get_array()) {
    if (!item.is_object()) return bad_response("expected Servers to hold objects");
    const json::object& obj = item.get_object();
    Peer p;
    for (core::Status s :
         {read_string_field(obj, "ID", p.id), read_string_field(obj, "Node", p.node),
          read_string_field(obj, "Address", p.address), read_bool_field(obj, "Leader", p.leader),
          read_bool_field(obj, "Voter", p.voter),
          read_string_field(obj, "ProtocolVersion", p.protocol_version)}) {
      if (!s) return s.error();
    }
    peers.push_back(std::move(p));
  }
  return peers;
}

// ID -> LastIndex from api.OperatorHealthReply.
core::Result<std::map<std::string, std::uint64_t>> parse_health(std::string_view body) {
  core::Result<json::value> root = parse_response_json(body);
  if (!root) return root.error();
  if (!root->is_object()) return bad_response("expected a JSON object");
  std::map<std::string, std::uint64_t> out;
  const json::value* servers = root->get_object().if_contains("Servers");
  if (servers == nullptr || servers->is_null()) return out;
  if (!servers->is_array()) return bad_response("expected Servers to be an array");
  for (const json::value& item : servers->get_array()) {
    if (!item.is_object()) return bad_response("expected Servers to hold objects");
    std::string id;
    std::int64_t last_index = 0;
    for (core::Status s : {read_string_field(item.get_object(), "ID", id),
                           read_int_field(item.get_object(), "LastIndex", last_index)}) {
      if (!s) return s.error();
    }
    out[id] = static_cast<std::uint64_t>(last_index);
  }
  return out;
}

class OperatorRaftListPeersCommand final : public Command {
 public:
  OperatorRaftListPeersCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
  }

  std::string synopsis() const override { return "Display the current Raft peer configuration"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;

    std::optional<HttpResponse> config =
        get(ctx, "/v1/operator/raft/configuration", "Failed to retrieve raft configuration: ");
    if (!config) return 1;
    core::Result<std::vector<Peer>> peers = parse_configuration(config->body);
    if (!peers) return fail(ctx, "Failed to retrieve raft configuration: ", peers.error());

    std::optional<HttpResponse> health =
        get(ctx, "/v1/operator/autopilot/health", "Failed to retrieve autopilot health: ");
    if (!health) return 1;
    core::Result<std::map<std::string, std::uint64_t>> last_index = parse_health(health->body);
    if (!last_index) return fail(ctx, "Failed to retrieve autopilot health: ", last_index.error());

    *ctx.out << table(*peers, *last_index) << "\n";
    return 0;
  }

 private:
  // A read through the agent. The health endpoint answers 429 with the same body while a
  // server is unhealthy, which is exactly when the table matters, so 429 counts as an answer.
  std::optional<HttpResponse> get(Context& ctx, std::string_view path,
                                  std::string_view what) const {
    core::Result<HttpResponse> res = call_agent(ctx, http_, CallKind::kRead, "GET", path, {});
    if (!res) {
      *ctx.err << kErrorPrefix << what << res.error().message << "\n";
      return std::nullopt;
    }
    if (res->status != 200 && !(res->status == 429 && path.ends_with("/health"))) {
      *ctx.err << kErrorPrefix << what << unexpected_status(*res) << "\n";
      return std::nullopt;
    }
    return std::move(*res);
  }

  static int fail(Context& ctx, std::string_view what, const core::Error& error) {
    *ctx.err << kErrorPrefix << what << error.message << "\n";
    return 1;
  }

  // Consul's table: the leader's LastIndex from autopilot is what the others trail. A server
  // autopilot does not report gets "_" for its commit index and no last column.
  static std::string table(const std::vector<Peer>& peers,
                           const std::map<std::string, std::uint64_t>& last_index) {
    std::uint64_t leader_index = 0;
    for (const Peer& p : peers) {
      auto it = last_index.find(p.id);
      if (p.leader && it != last_index.end()) leader_index = it->second;
    }
    std::vector<std::vector<std::string>> rows{{"Node", "ID", "Address", "State", "Voter",
                                                "RaftProtocol", "Commit Index",
                                                "Trails Leader By"}};
    for (const Peer& p : peers) {
      std::string protocol = p.protocol_version.empty() ? "<=1" : p.protocol_version;
      std::vector<std::string> row{
          p.node,  p.id, p.address, p.leader ? "leader" : "follower", p.voter ? "true" : "false",
          protocol};
      auto it = last_index.find(p.id);
      if (it == last_index.end()) {
        row.emplace_back("_");
      } else {
        // Consul subtracts unsigned and can wrap when a follower reports more than the
        // leader; a server ahead of the leader's figure trails it by nothing.
        std::uint64_t trails = leader_index > it->second ? leader_index - it->second : 0;
        row.push_back(std::to_string(it->second));
        if (p.leader) {
          row.emplace_back("_");
        } else {
          row.push_back(std::to_string(trails) + (trails <= 1 ? " Commit" : " Commits"));
        }
      }
      rows.push_back(std::move(row));
    }
    return columnize(rows);
  }

  core::FlagSet flags_;
  HttpFlags http_;
};

}  // namespace

std::unique_ptr<Command> make_operator_raft_list_peers_command() {
  return std::make_unique<OperatorRaftListPeersCommand>();
}

}  // namespace pc::cli
