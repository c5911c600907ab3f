#include "cli/commands/acl/format.h"

#include <ostream>

#include "cli/commands/json_fields.h"

namespace pc::cli::acl_cli {
namespace {

std::string str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->as_string());
}

// Go's %v of a time.Time, from the RFC 3339 text the API gives ("...T10:00:00.5Z" ->
// "... 10:00:00.5 +0000 UTC").
std::string go_time(std::string t) {
  if (t.empty()) return "0001-01-01 00:00:00 +0000 UTC";
  if (auto p = t.find('T'); p != std::string::npos) t[p] = ' ';
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  return t + " +0000 UTC";
}

void write_links(std::string& out, const boost::json::object& o, std::string_view key,
                 std::string_view title) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_array() || v->as_array().empty()) return;
  out += std::string(title) + ":\n";
  for (const auto& l : v->as_array()) {
    if (!l.is_object()) continue;
    out += "   " + str(l.as_object(), "ID") + " - " + str(l.as_object(), "Name") + "\n";
  }
}

void write_identities(std::string& out, const boost::json::object& o) {
  if (const auto* v = o.if_contains("ServiceIdentities");
      v && v->is_array() && !v->as_array().empty()) {
    out += "Service Identities:\n";
    for (const auto& s : v->as_array()) {
      if (!s.is_object()) continue;
      std::string dcs;
      if (const auto* d = s.as_object().if_contains("Datacenters"); d && d->is_array()) {
        for (const auto& dc : d->as_array()) {
          if (!dcs.empty()) dcs += ", ";
          if (dc.is_string()) dcs += std::string(dc.as_string());
        }
      }
      out += "   " + str(s.as_object(), "ServiceName") +
             " (Datacenters: " + (dcs.empty() ? "all" : dcs) + ")\n";
    }
  }
  if (const auto* v = o.if_contains("NodeIdentities");
      v && v->is_array() && !v->as_array().empty()) {
    out += "Node Identities:\n";
    for (const auto& n : v->as_array()) {
      if (!n.is_object()) continue;
      out += "   " + str(n.as_object(), "NodeName") +
             " (Datacenter: " + str(n.as_object(), "Datacenter") + ")\n";
    }
  }
}

std::pair<std::string, std::string> split_once(const std::string& s, char sep) {
  auto p = s.find(sep);
  if (p == std::string::npos) return {s, ""};
  return {s.substr(0, p), s.substr(p + 1)};
}

}  // namespace

std::string format_token(const boost::json::object& t) {
  std::string out;
  out += "AccessorID:       " + str(t, "AccessorID") + "\n";
  out += "SecretID:         " + str(t, "SecretID") + "\n";
  out += "Description:      " + str(t, "Description") + "\n";
  const auto* local = t.if_contains("Local");
  out += std::string("Local:            ") +
         (local && local->is_bool() && local->as_bool() ? "true" : "false") + "\n";
  if (!str(t, "AuthMethod").empty()) out += "Auth Method:      " + str(t, "AuthMethod") + "\n";
  out += "Create Time:      " + go_time(str(t, "CreateTime")) + "\n";
  if (!str(t, "ExpirationTime").empty()) {
    out += "Expiration Time:  " + go_time(str(t, "ExpirationTime")) + "\n";
  }
  write_links(out, t, "Policies", "Policies");
  write_links(out, t, "Roles", "Roles");
  write_identities(out, t);
  return out;
}

std::string format_policy(const boost::json::object& p) {
  std::string out;
  out += "ID:           " + str(p, "ID") + "\n";
  out += "Name:         " + str(p, "Name") + "\n";
  out += "Description:  " + str(p, "Description") + "\n";
  std::string dcs;
  if (const auto* d = p.if_contains("Datacenters"); d && d->is_array()) {
    for (const auto& dc : d->as_array()) {
      if (!dcs.empty()) dcs += ", ";
      if (dc.is_string()) dcs += std::string(dc.as_string());
    }
  }
  out += "Datacenters:  " + dcs + "\n";
  if (p.contains("Rules")) out += "Rules:\n" + str(p, "Rules") + "\n";
  return out;
}

std::string format_role(const boost::json::object& r) {
  std::string out;
  out += "ID:           " + str(r, "ID") + "\n";
  out += "Name:         " + str(r, "Name") + "\n";
  out += "Description:  " + str(r, "Description") + "\n";
  write_links(out, r, "Policies", "Policies");
  write_identities(out, r);
  return out;
}

int print_response(Context& ctx, const std::string& body,
                   std::string (*format)(const boost::json::object&)) {
  auto v = parse_response_json(body);
  if (!v) {
    *ctx.err << v.error().message << "\n";
    return 1;
  }
  if (v->is_object()) {
    *ctx.out << format(v->as_object());
    return 0;
  }
  if (!v->is_array()) {
    *ctx.err << bad_response("expected an object or a list").message << "\n";
    return 1;
  }
  bool first = true;
  for (const auto& item : v->as_array()) {
    if (!item.is_object()) continue;
    if (!first) *ctx.out << "\n";
    first = false;
    *ctx.out << format(item.as_object());
  }
  return 0;
}

boost::json::array links(const std::vector<std::string>& ids,
                         const std::vector<std::string>& names) {
  boost::json::array out;
  for (const auto& id : ids) out.push_back(boost::json::object{{"ID", id}});
  for (const auto& name : names) out.push_back(boost::json::object{{"Name", name}});
  return out;
}

boost::json::array service_identities(const std::vector<std::string>& specs) {
  boost::json::array out;
  for (const auto& spec : specs) {
    auto [name, dcs] = split_once(spec, ':');
    boost::json::object o{{"ServiceName", name}};
    if (!dcs.empty()) {
      boost::json::array list;
      std::string rest = dcs;
      while (!rest.empty()) {
        auto [dc, tail] = split_once(rest, ',');
        if (!dc.empty()) list.push_back(boost::json::string(dc));
        rest = tail;
      }
      o["Datacenters"] = std::move(list);
    }
    out.push_back(std::move(o));
  }
  return out;
}

boost::json::array node_identities(const std::vector<std::string>& specs) {
  boost::json::array out;
  for (const auto& spec : specs) {
    auto [name, dc] = split_once(spec, ':');
    out.push_back(boost::json::object{{"NodeName", name}, {"Datacenter", dc}});
  }
  return out;
}

}  // namespace pc::cli::acl_cli
