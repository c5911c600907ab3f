// `proconsul catalog services [options]`, as Consul's command/catalog/list/services.
#include <algorithm>
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
Usage: proconsul catalog services [options]

  Retrieves the list services registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of services:

      $ proconsul catalog services

  To include the services' tags in the output:

      $ proconsul catalog services -tags

  To list services which run on a particular node:

      $ proconsul catalog services -node=web

  To filter services on node metadata:

      $ proconsul catalog services -node-meta="foo=bar"

  For a full list of options and examples, please see the documentation.
)";

// Service name -> tags, sorted by name.
using ServiceTags = std::map<std::string, std::vector<std::string>>;

// /v1/catalog/services: {"name": ["tag", ...], ...}.
core::Result<ServiceTags> parse_services(std::string_view body) {
  core::Result<json::value> root = parse_response_json(body);
  if (!root) return root.error();
  ServiceTags services;
  if (root->is_null()) return services;
  if (!root->is_object()) return bad_response("expected a JSON object");
  for (const auto& [name, tags] : root->get_object()) {
    std::vector<std::string>& out = services[std::string(name)];
    if (tags.is_null()) continue;
    if (!tags.is_array()) return bad_response("expected arrays of tags");
    for (const json::value& tag : tags.get_array()) {
      if (!tag.is_string()) return bad_response("expected arrays of tags");
      out.emplace_back(tag.get_string());
    }
  }
  return services;
}

// /v1/catalog/node/:node: {"Node": {...}, "Services": {"id": {"Service": ..., "Tags": [...]}}}
// or null for an unknown node. Each instance adds its tags to its service's, as Consul does.
core::Result<ServiceTags> parse_node_services(std::string_view body) {
  core::Result<json::value> root = parse_response_json(body);
  if (!root) return root.error();
  ServiceTags services;
  if (root->is_null()) return services;
  if (!root->is_object()) return bad_response("expected a JSON object");
  const json::value* list = root->get_object().if_contains("Services");
  if (list == nullptr || list->is_null()) return services;
  if (!list->is_object()) return bad_response("field Services: expected an object");
  for (const auto& [id, service] : list->get_object()) {
    if (!service.is_object()) return bad_response("field Services: expected objects");
    std::string name;
    std::vector<std::string> tags;
    if (core::Status s = read_string_field(service.get_object(), "Service", name); !s) {
      return s.error();
    }
    if (core::Status s = read_string_list_field(service.get_object(), "Tags", tags); !s) {
      return s.error();
    }
    std::vector<std::string>& out = services[name];
    out.insert(out.end(), tags.begin(), tags.end());
  }
  return services;
}

class CatalogServicesCommand final : public Command {
 public:
  CatalogServicesCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
    flags_.add_string("node", &node_, "Node `id or name` for which to list services.");
    add_map_flag(flags_, "node-meta", &node_meta_,
                 "Metadata to filter nodes with the given `key=value` pairs. If specified, only "
                 "services running on nodes matching the given metadata will be returned. This "
                 "flag may be specified multiple times to filter on multiple sources of "
                 "metadata.");
    flags_.add_bool("tags", &tags_,
                    "Display each service's tags as a comma-separated list beside each service "
                    "entry.");
  }

  std::string synopsis() const override { return "Lists all registered services in a datacenter"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (!expect_no_arguments(positional, ctx)) return 1;
    QueryParams params;
    for (const auto& [key, value] : node_meta_) params.emplace_back("node-meta", key + ":" + value);
    std::string prefix =
        node_.empty() ? "Error listing services: " : "Error listing services for node: ";
    std::string path =
        node_.empty() ? "/v1/catalog/services" : "/v1/catalog/node/" + encode_path(node_);
    std::optional<HttpResponse> res =
        call_agent_ok(ctx, http_, CallKind::kRead, "GET", path, std::move(params), prefix);
    if (!res) return 1;
    core::Result<ServiceTags> services =
        node_.empty() ? parse_services(res->body) : parse_node_services(res->body);
    if (!services) {
      *ctx.err << prefix << services.error().message << "\n";
      return 1;
    }
    if (services->empty()) {
      *ctx.err << "No services match the given query - try expanding your search.\n";
      return 0;
    }
    if (!tags_) {
      for (const auto& [name, tags] : *services) *ctx.out << name << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (auto& [name, tags] : *services) {
      std::sort(tags.begin(), tags.end());
      std::string joined;
      for (const std::string& t : tags) joined += (joined.empty() ? "" : ",") + t;
      rows.push_back({name, joined});
    }
    // Consul trims the whole table, which drops the last row's padding when it has no tags.
    std::string table = tabwrite(rows, 6);
    while (!table.empty() && (table.back() == '\n' || table.back() == ' ')) table.pop_back();
    *ctx.out << table << "\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  std::string node_;
  std::map<std::string, std::string> node_meta_;
  bool tags_ = false;
};

}  // namespace

std::unique_ptr<Command> make_catalog_services_command() {
  return std::make_unique<CatalogServicesCommand>();
}

}  // namespace pc::cli
