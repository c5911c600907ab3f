#include "cli/commands/acl/update.h"

#include <algorithm>
#include <ostream>

#include "cli/commands/json_fields.h"

namespace pc::cli::acl_cli {
namespace {

boost::json::array& array_at(boost::json::object& o, std::string_view key) {
  boost::json::value& v = o[key];
  if (!v.is_array()) v = boost::json::array{};  // null or absent: none yet
  return v.as_array();
}

bool has_field(const boost::json::value& link, std::string_view field, std::string_view want) {
  if (!link.is_object()) return false;
  const auto* v = link.as_object().if_contains(field);
  return v != nullptr && v->is_string() && v->as_string() == want;
}

bool same_field(const boost::json::value& a, const boost::json::value& b, std::string_view field) {
  const auto* va = a.is_object() ? a.as_object().if_contains(field) : nullptr;
  const auto* vb = b.is_object() ? b.as_object().if_contains(field) : nullptr;
  // An absent Datacenter and an empty one are the same identity.
  auto text = [](const boost::json::value* v) {
    return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
  };
  return text(va) == text(vb);
}

}  // namespace

std::optional<boost::json::object> read_object(Context& ctx, const HttpFlags& http,
                                               std::string_view path,
                                               std::string_view error_prefix) {
  auto res = call_agent_ok(ctx, http, CallKind::kRead, "GET", path, {}, error_prefix);
  if (!res) return std::nullopt;
  auto v = parse_response_json(res->body);
  if (!v || !v->is_object()) {
    *ctx.err << error_prefix << (v ? bad_response("expected an object").message : v.error().message)
             << "\n";
    return std::nullopt;
  }
  return std::move(v->as_object());
}

void append_links(boost::json::object& o, std::string_view key, const std::vector<std::string>& ids,
                  const std::vector<std::string>& names) {
  boost::json::array& links = array_at(o, key);
  auto add = [&links](std::string_view field, const std::string& want) {
    for (const auto& l : links) {
      if (has_field(l, field, want)) return;
    }
    links.push_back(boost::json::object{{field, want}});
  };
  for (const auto& name : names) add("Name", name);
  for (const auto& id : ids) add("ID", id);
}

void merge_service_identities(boost::json::object& o, const boost::json::array& given) {
  boost::json::array& have = array_at(o, "ServiceIdentities");
  for (const auto& g : given) {
    auto it = std::find_if(have.begin(), have.end(), [&g](const boost::json::value& h) {
      return same_field(h, g, "ServiceName");
    });
    if (it != have.end()) {
      *it = g;
    } else {
      have.push_back(g);
    }
  }
}

void merge_node_identities(boost::json::object& o, const boost::json::array& given) {
  boost::json::array& have = array_at(o, "NodeIdentities");
  for (const auto& g : given) {
    bool found = std::any_of(have.begin(), have.end(), [&g](const boost::json::value& h) {
      return same_field(h, g, "NodeName") && same_field(h, g, "Datacenter");
    });
    if (!found) have.push_back(g);
  }
}

}  // namespace pc::cli::acl_cli
