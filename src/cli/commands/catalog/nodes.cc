// `proconsul catalog nodes [options]`, as Consul's command/catalog/list/nodes.
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
Usage: proconsul catalog nodes [options]

  Retrieves the list nodes registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of nodes:

      $ proconsul catalog nodes

  To print detailed information including full node IDs, tagged addresses, and
  metadata information:

      $ proconsul catalog nodes -detailed

  To list nodes which are running a particular service:

      $ proconsul catalog nodes -service=web

  To filter by node metadata:

      $ proconsul catalog nodes -node-meta="foo=bar"

  To sort by estimated round-trip time from a node (_agent: the agent's own):

      $ proconsul catalog nodes -near=_agent

  For a full list of options and examples, please see the documentation.
)";

// api.Node's fields that the listing shows.
struct NodeRow {
  std::string id;
  std::string node;
  std::string address;
  std::string datacenter;
  std::map<std::string, std::string> tagged_addresses;
  std::map<std::string, std::string> meta;
};

// Consul's mapToKV: "k1=v1, k2=v2", sorted by key (std::map already is).
std::string map_to_kv(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return out;
}

// Reads /v1/catalog/nodes (meta in "Meta") or /v1/catalog/service/:name ("NodeMeta").
core::Result<std::vector<NodeRow>> parse_nodes(std::string_view body, std::string_view meta_key) {
  core::Result<json::value> root = parse_response_json(body);
  if (!root) return root.error();
  std::vector<NodeRow> nodes;
  if (root->is_null()) return nodes;
  if (!root->is_array()) return bad_response("expected a JSON array");
  for (const json::value& item : root->get_array()) {
    if (!item.is_object()) return bad_response("expected an array of objects");
    const json::object& obj = item.get_object();
    NodeRow n;
    for (core::Status s :
         {read_string_field(obj, "ID", n.id), read_string_field(obj, "Node", n.node),
          read_string_field(obj, "Address", n.address),
          read_string_field(obj, "Datacenter", n.datacenter),
          read_string_map_field(obj, "TaggedAddresses", n.tagged_addresses),
          read_string_map_field(obj, meta_key, n.meta)}) {
      if (!s) return s.error();
    }
    nodes.push_back(std::move(n));
  }
  return nodes;
}

class CatalogNodesCommand final : public Command {
 public:
  CatalogNodesCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
    flags_.add_bool("detailed", &detailed_,
                    "Output detailed information about the nodes including their addresses "
                    "and metadata.");
    flags_.add_string("filter", &filter_, "Filter to use with the request");
    flags_.add_string("near", &near_,
                      "Node name to sort the node list in ascending order based on estimated "
                      "round-trip time from that node. Passing \"_agent\" will use this "
                      "agent's node for sorting.");
    add_map_flag(flags_, "node-meta", &node_meta_,
                 "Metadata to filter nodes with the given `key=value` pairs. This flag may be "
                 "specified multiple times to filter on multiple sources of metadata.");
    flags_.add_string("service", &service_,
                      "Service `id or name` to filter nodes. Only nodes which are providing the "
                      "given service will be returned.");
  }

  std::string synopsis() const override { return "Lists all nodes in the given datacenter"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (!expect_no_arguments(positional, ctx)) return 1;
    QueryParams params;
    if (!near_.empty()) params.emplace_back("near", near_);
    for (const auto& [key, value] : node_meta_) params.emplace_back("node-meta", key + ":" + value);
    if (!filter_.empty()) {
      core::Result<std::string> filter = load_data_source(filter_, ctx);
      if (!filter) {
        *ctx.err << "Could not process filter argument: " << filter.error().message << "\n";
        return 1;
      }
      if (!filter->empty()) params.emplace_back("filter", *filter);
    }
    std::string prefix =
        service_.empty() ? "Error listing nodes: " : "Error listing nodes for service: ";
    std::string path =
        service_.empty() ? "/v1/catalog/nodes" : "/v1/catalog/service/" + encode_path(service_);
    std::optional<HttpResponse> res =
        call_agent_ok(ctx, http_, CallKind::kRead, "GET", path, std::move(params), prefix);
    if (!res) return 1;
    core::Result<std::vector<NodeRow>> nodes =
        parse_nodes(res->body, service_.empty() ? "Meta" : "NodeMeta");
    if (!nodes) {
      *ctx.err << prefix << nodes.error().message << "\n";
      return 1;
    }
    if (nodes->empty()) {
      *ctx.err << "No nodes match the given query - try expanding your search.\n";
      return 0;
    }
    *ctx.out << format(*nodes) << "\n";
    return 0;
  }

 private:
  std::string format(const std::vector<NodeRow>& nodes) const {
    std::vector<std::vector<std::string>> rows;
    if (detailed_) {
      rows.push_back({"Node", "ID", "Address", "DC", "TaggedAddresses", "Meta"});
    } else {
      rows.push_back({"Node", "ID", "Address", "DC"});
    }
    for (const NodeRow& n : nodes) {
      if (detailed_) {
        rows.push_back({n.node, n.id, n.address, n.datacenter, map_to_kv(n.tagged_addresses),
                        map_to_kv(n.meta)});
        continue;
      }
      // Only the first group of the UUID, as Consul shortens it.
      std::size_t dash = n.id.find('-');
      std::string id = dash != std::string::npos && dash > 0 ? n.id.substr(0, dash) : n.id;
      rows.push_back({n.node, id, n.address, n.datacenter});
    }
    return columnize(rows);
  }

  core::FlagSet flags_;
  HttpFlags http_;
  bool detailed_ = false;
  std::string filter_;
  std::string near_;
  std::map<std::string, std::string> node_meta_;
  std::string service_;
};

}  // namespace

std::unique_ptr<Command> make_catalog_nodes_command() {
  return std::make_unique<CatalogNodesCommand>();
}

}  // namespace pc::cli
