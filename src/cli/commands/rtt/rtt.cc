// `proconsul rtt [options] node1 [node2]`, as Consul's command/rtt: the round-trip time
// between two nodes estimated from their network coordinates: LAN coordinates
// (/v1/coordinate/nodes) by default, the servers' WAN coordinates
// (/v1/coordinate/datacenters) with -wan, where nodes are named "<node>.<datacenter>".
#include <fmt/format.h>

#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "cli/commands/json_fields.h"
#include "core/flags.h"
#include "core/strings.h"
#include "gossip/core/coordinate.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kHelp = R"(
Usage: proconsul rtt [options] node1 [node2]

  Estimates the round trip time between two nodes using their network
  coordinates, which the agents learn from gossip.

  If two node names are given, the estimate is between them. If only one is
  given, the other is the node of the agent this command talks to. Node names
  are the ones "proconsul members" shows, not IP addresses.

  By default both nodes are in the local datacenter and their LAN coordinates
  are used. With -wan, the WAN coordinates of servers are used and each name
  is a server's node name, a period and its datacenter (e.g. "server1.dc1").
  LAN and WAN coordinates come from different gossip pools and cannot be
  compared with each other.

  To get the estimated round trip time between nodes "foo" and "bar":

      $ proconsul rtt foo bar
)";

// A "Coord" object ({Vec, Error, Adjustment, Height}) of the coordinate endpoints.
core::Result<gossip::Coordinate> parse_coord(const json::object& entry) {
  const json::value* coord = entry.if_contains("Coord");
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
  return c;
}

// Whether `entry` (an object with "Node") names `node`, case-insensitively as Consul's
// strings.EqualFold.
core::Result<bool> names_node(const json::value& entry, std::string_view node) {
  const json::object* obj = entry.if_object();
  if (obj == nullptr) return bad_response("expected an array of objects");
  const json::value* name = obj->if_contains("Node");
  return name != nullptr && name->is_string() && core::iequals(name->get_string(), node);
}

// One node's coordinate from /v1/coordinate/nodes (the first row naming it), or nullopt.
core::Result<std::optional<gossip::Coordinate>> find_lan_coordinate(const json::value& root,
                                                                    std::string_view node) {
  if (!root.is_array()) return bad_response("expected a JSON array");
  for (const json::value& item : root.get_array()) {
    auto named = names_node(item, node);
    if (!named) return named.error();
    if (!*named) continue;
    auto c = parse_coord(item.get_object());
    if (!c) return c.error();
    return std::optional<gossip::Coordinate>(std::move(*c));
  }
  return std::optional<gossip::Coordinate>();
}

// A server's WAN coordinate from /v1/coordinate/datacenters ([{Datacenter, AreaID,
// Coordinates: [{Node, Coord}]}]) and the area it was found in, or nullopt.
struct WanCoordinate {
  std::string area;
  gossip::Coordinate coordinate;
};
core::Result<std::optional<WanCoordinate>> find_wan_coordinate(const json::value& root,
                                                               std::string_view node,
                                                               std::string_view dc) {
  if (!root.is_array()) return bad_response("expected a JSON array");
  for (const json::value& item : root.get_array()) {
    const json::object* map = item.if_object();
    if (map == nullptr) return bad_response("expected an array of objects");
    const json::value* name = map->if_contains("Datacenter");
    if (name == nullptr || !name->is_string() || name->get_string() != dc) continue;
    const json::value* coords = map->if_contains("Coordinates");
    if (coords == nullptr || !coords->is_array()) continue;
    for (const json::value& entry : coords->get_array()) {
      auto named = names_node(entry, node);
      if (!named) return named.error();
      if (!*named) continue;
      auto c = parse_coord(entry.get_object());
      if (!c) return c.error();
      const json::value* area = map->if_contains("AreaID");
      return std::optional<WanCoordinate>(
          WanCoordinate{area != nullptr && area->is_string() ? std::string(area->get_string()) : "",
                        std::move(*c)});
    }
  }
  return std::optional<WanCoordinate>();
}

// "<node>.<datacenter>": exactly one period, as Consul's strings.Split(name, ".") of 2.
std::optional<std::pair<std::string, std::string>> split_wan_name(const std::string& name) {
  const std::vector<std::string> parts = core::split(name, '.');
  if (parts.size() != 2) return std::nullopt;
  return std::make_pair(parts[0], parts[1]);
}

// Config.<field> of /v1/agent/self, or nullopt (the error printed).
std::optional<std::string> self_config(const HttpResponse& self, std::string_view field,
                                       Context& ctx) {
  core::Result<json::value> root = parse_response_json(self.body);
  if (root && root->is_object()) {
    if (const json::value* config = root->get_object().if_contains("Config");
        config != nullptr && config->is_object()) {
      const json::value* v = config->get_object().if_contains(field);
      if (v != nullptr && v->is_string()) return std::string(v->get_string());
    }
  }
  *ctx.err << "Unable to look up agent info: missing Config." << field << "\n";
  return std::nullopt;
}

class RttCommand final : public Command {
 public:
  RttCommand() {
    http_.add_client_flags(flags_);
    flags_.add_bool("wan", &wan_, "Use WAN coordinates instead of LAN coordinates.");
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
    if (nodes.size() == 1) {
      std::optional<HttpResponse> self =
          call_agent_ok(ctx, http_, CallKind::kRead, "GET", "/v1/agent/self", {},
                        "Unable to look up agent info: ");
      if (!self) return 1;
      std::optional<std::string> name = self_config(*self, "NodeName", ctx);
      if (!name) return 1;
      if (wan_) {
        std::optional<std::string> dc = self_config(*self, "Datacenter", ctx);
        if (!dc) return 1;
        *name += "." + *dc;
      }
      nodes.push_back(std::move(*name));
    }
    std::optional<std::pair<gossip::Coordinate, gossip::Coordinate>> coords =
        wan_ ? wan_coordinates(nodes, ctx) : lan_coordinates(nodes, ctx);
    if (!coords) return 1;
    const auto ms = gossip::estimate_rtt_ms(coords->first, coords->second);
    if (!ms) {
      *ctx.err << "Error: the coordinates of " << core::go_quote(nodes[0]) << " and "
               << core::go_quote(nodes[1]) << " cannot be compared\n";
      return 1;
    }
    *ctx.out << fmt::format("Estimated {} <-> {} rtt: {:.3f} ms (using {} coordinates)\n", nodes[0],
                            nodes[1], *ms, wan_ ? "WAN" : "LAN");
    return 0;
  }

 private:
  // The body of a GET as JSON, or nullopt (the error printed).
  std::optional<json::value> get_json(Context& ctx, std::string_view path) {
    std::optional<HttpResponse> res =
        call_agent_ok(ctx, http_, CallKind::kRead, "GET", path, {}, "Error getting coordinates: ");
    if (!res) return std::nullopt;
    core::Result<json::value> root = parse_response_json(res->body);
    if (!root) {
      *ctx.err << "Error getting coordinates: " << root.error().message << "\n";
      return std::nullopt;
    }
    return std::move(*root);
  }

  static void not_found(Context& ctx, const std::string& node) {
    *ctx.err << "Could not find a coordinate for node " << core::go_quote(node) << "\n";
  }

  std::optional<std::pair<gossip::Coordinate, gossip::Coordinate>> lan_coordinates(
      const std::vector<std::string>& nodes, Context& ctx) {
    std::optional<json::value> root = get_json(ctx, "/v1/coordinate/nodes");
    if (!root) return std::nullopt;
    std::vector<gossip::Coordinate> found;
    for (const std::string& node : nodes) {
      auto c = find_lan_coordinate(*root, node);
      if (!c) {
        *ctx.err << "Error getting coordinates: " << c.error().message << "\n";
        return std::nullopt;
      }
      if (!*c) {
        not_found(ctx, node);
        return std::nullopt;
      }
      found.push_back(std::move(**c));
    }
    return std::make_pair(std::move(found[0]), std::move(found[1]));
  }

  // As Consul: both names must be "<node>.<dc>", and both servers must be found in the same
  // network area (ours has one, "wan"); otherwise neither counts as found.
  std::optional<std::pair<gossip::Coordinate, gossip::Coordinate>> wan_coordinates(
      const std::vector<std::string>& nodes, Context& ctx) {
    const auto first = split_wan_name(nodes[0]);
    const auto second = split_wan_name(nodes[1]);
    if (!first || !second) {
      *ctx.err << "Node names must be specified as <node name>.<datacenter> with -wan\n";
      return std::nullopt;
    }
    std::optional<json::value> root = get_json(ctx, "/v1/coordinate/datacenters");
    if (!root) return std::nullopt;
    std::vector<std::optional<WanCoordinate>> found;
    for (const auto& [node, dc] : {*first, *second}) {
      auto c = find_wan_coordinate(*root, node, dc);
      if (!c) {
        *ctx.err << "Error getting coordinates: " << c.error().message << "\n";
        return std::nullopt;
      }
      found.push_back(std::move(*c));
    }
    if (!found[0] || !found[1] || found[0]->area != found[1]->area) {
      not_found(ctx, nodes[found[0] && found[1] ? 0 : (found[0] ? 1 : 0)]);
      return std::nullopt;
    }
    return std::make_pair(std::move(found[0]->coordinate), std::move(found[1]->coordinate));
  }

  core::FlagSet flags_;
  HttpFlags http_;
  bool wan_ = false;
};

}  // namespace

std::unique_ptr<Command> make_rtt_command() {
  return std::make_unique<RttCommand>();
}

}  // namespace pc::cli
