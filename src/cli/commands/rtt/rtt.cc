// `proconsul rtt [options] node1 [node2]`, as Consul's command/rtt: the round-trip time
// between two nodes estimated from their LAN network coordinates (/v1/coordinate/nodes).
#include <fmt/format.h>

#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "cli/commands/json_fields.h"
#include "core/flags.h"
#include "gossip/core/coordinate.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kHelp = R"(
Usage: proconsul rtt [options] node1 [node2]

  Estimates the round trip time between two nodes using their network
  coordinates, which the agents learn from LAN gossip and send to the servers.

  If two node names are given, the estimate is between them. If only one is
  given, the other is the node of the agent this command talks to.

  To get the estimated round trip time between nodes "foo" and "bar":

      $ proconsul rtt foo bar

  The -wan mode (servers of other datacenters) is not supported yet.
)";

// One node's coordinate in the default segment from /v1/coordinate/nodes, or nullopt.
core::Result<std::optional<gossip::Coordinate>> find_coordinate(const json::value& root,
                                                                std::string_view node) {
  if (!root.is_array()) return bad_response("expected a JSON array");
  for (const json::value& item : root.get_array()) {
    const json::object* obj = item.if_object();
    if (obj == nullptr) return bad_response("expected an array of objects");
    const json::value* name = obj->if_contains("Node");
    if (name == nullptr || !name->is_string() || name->get_string() != node) continue;
    const json::value* coord = obj->if_contains("Coord");
    if (coord == nullptr || !coord->is_object()) return bad_response("missing Coord");
    gossip::Coordinate c;
    const json::object& co = coord->get_object();
    const json::value* vec = co.if_contains("Vec");
    if (vec == nullptr || !vec->is_array()) return bad_response("missing Coord.Vec");
    for (const json::value& x : vec->get_array()) {
      if (!x.is_number()) return bad_response("Coord.Vec holds a non-number");
      c.vec.push_back(x.to_number<double>());
    }
    for (auto [key, out] : {std::pair<std::string_view, double*>{"Error", &c.error},
                            {"Adjustment", &c.adjustment},
                            {"Height", &c.height}}) {
      const json::value* v = co.if_contains(key);
      if (v != nullptr && v->is_number()) *out = v->to_number<double>();
    }
    return std::optional<gossip::Coordinate>(std::move(c));
  }
  return std::optional<gossip::Coordinate>();
}

class RttCommand final : public Command {
 public:
  RttCommand() {
    http_.add_client_flags(flags_);
    flags_.add_bool("wan", &wan_,
                    "Use WAN coordinates instead of LAN coordinates. Not supported yet.");
  }

  std::string synopsis() const override {
    return "Estimates network round trip time between nodes";
  }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> nodes;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, nodes)) return *code;
    if (nodes.empty() || nodes.size() > 2) {
      *ctx.err << "One or two node names must be specified\n\n" << help();
      return 1;
    }
    if (wan_) {
      *ctx.err << "Error: -wan is not supported yet: there is no WAN gossip pool\n";
      return 1;
    }
    if (nodes.size() == 1) {
      std::optional<HttpResponse> self =
          call_agent_ok(ctx, http_, CallKind::kRead, "GET", "/v1/agent/self", {},
                        "Unable to look up agent info: ");
      if (!self) return 1;
      core::Result<json::value> root = parse_response_json(self->body);
      const json::value* name = nullptr;
      if (root && root->is_object()) {
        if (const json::value* config = root->get_object().if_contains("Config");
            config != nullptr && config->is_object()) {
          name = config->get_object().if_contains("NodeName");
        }
      }
      if (name == nullptr || !name->is_string()) {
        *ctx.err << "Unable to look up agent info: missing Config.NodeName\n";
        return 1;
      }
      nodes.emplace_back(name->get_string());
    }
    std::optional<HttpResponse> res =
        call_agent_ok(ctx, http_, CallKind::kRead, "GET", "/v1/coordinate/nodes", {},
                      "Error getting coordinates: ");
    if (!res) return 1;
    core::Result<json::value> root = parse_response_json(res->body);
    if (!root) {
      *ctx.err << "Error getting coordinates: " << root.error().message << "\n";
      return 1;
    }
    std::vector<gossip::Coordinate> coords;
    for (const std::string& node : nodes) {
      auto found = find_coordinate(*root, node);
      if (!found) {
        *ctx.err << "Error getting coordinates: " << found.error().message << "\n";
        return 1;
      }
      if (!*found) {
        *ctx.err << "Could not find a coordinate for node \"" << node << "\"\n";
        return 1;
      }
      coords.push_back(std::move(**found));
    }
    const auto ms = gossip::estimate_rtt_ms(coords[0], coords[1]);
    if (!ms) {
      *ctx.err << "Error: the coordinates of \"" << nodes[0] << "\" and \"" << nodes[1]
               << "\" cannot be compared\n";
      return 1;
    }
    *ctx.out << fmt::format("Estimated {} <-> {} rtt: {:.3f} ms (using LAN coordinates)\n",
                            nodes[0], nodes[1], *ms);
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  bool wan_ = false;
};

}  // namespace

std::unique_ptr<Command> make_rtt_command() {
  return std::make_unique<RttCommand>();
}

}  // namespace pc::cli
