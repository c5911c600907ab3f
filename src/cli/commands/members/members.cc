// `proconsul members [options]`, as Consul's command/members (Community Edition columns).
#include <arpa/inet.h>

#include <algorithm>
#include <ostream>
#include <regex>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "cli/commands/json_fields.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kHelp = R"(
Usage: proconsul members [options]

  Outputs the members of a running Proconsul agent.
)";

// api.AgentMember, with the serf tags the listing reads.
struct Member {
  std::string name;
  std::string addr;
  std::int64_t port = 0;
  std::map<std::string, std::string> tags;
  std::int64_t status = 0;
};

// serf.MemberStatus.String().
std::string status_text(std::int64_t status) {
  switch (status) {
    case 0: return "none";
    case 1: return "alive";
    case 2: return "leaving";
    case 3: return "left";
    case 4: return "failed";
  }
  return "unknown MemberStatus " + std::to_string(status);
}

// Go's net.TCPAddr{IP: net.ParseIP(addr), Port: port}.String(): "[::1]:8301" for IPv6, the
// IPv4 form of an IPv4-mapped address, ":8301" when the address does not parse.
std::string tcp_addr(const std::string& addr, std::int64_t port) {
  std::string p = ":" + std::to_string(port);
  in_addr v4{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) return addr + p;
  in6_addr v6{};
  if (inet_pton(AF_INET6, addr.c_str(), &v6) != 1) return p;
  char text[INET6_ADDRSTRLEN] = {};
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    inet_ntop(AF_INET, &v6.s6_addr[12], text, sizeof(text));
    return std::string(text) + p;
  }
  inet_ntop(AF_INET6, &v6, text, sizeof(text));
  return "[" + std::string(text) + "]" + p;
}

std::string tag(const Member& m, const std::string& key) {
  auto it = m.tags.find(key);
  return it == m.tags.end() ? "" : it->second;
}

core::Result<std::vector<Member>> parse_members(std::string_view body) {
  core::Result<json::value> root = parse_response_json(body);
  if (!root) return root.error();
  std::vector<Member> members;
  if (root->is_null()) return members;
  if (!root->is_array()) return bad_response("expected a JSON array");
  for (const json::value& item : root->get_array()) {
    if (!item.is_object()) return bad_response("expected an array of objects");
    const json::object& obj = item.get_object();
    Member m;
    for (core::Status s :
         {read_string_field(obj, "Name", m.name), read_string_field(obj, "Addr", m.addr),
          read_int_field(obj, "Port", m.port), read_string_map_field(obj, "Tags", m.tags),
          read_int_field(obj, "Status", m.status)}) {
      if (!s) return s.error();
    }
    members.push_back(std::move(m));
  }
  return members;
}

bool is_default_partition(const std::string& p) {
  return p.empty() || p == "default";
}

// Consul's ByMemberNamePartitionAndSegment: servers first, then the default partition, then
// by segment, partition and name.
bool member_less(const Member& a, const Member& b) {
  bool server_a = tag(a, "role") == "consul";
  bool server_b = tag(b, "role") == "consul";
  if (server_a != server_b) return server_a;
  std::string part_a = tag(a, "partition");
  std::string part_b = tag(b, "partition");
  bool def_a = is_default_partition(part_a);
  bool def_b = is_default_partition(part_b);
  if (def_a != def_b) return def_a;
  std::string seg_a = tag(a, "segment");
  std::string seg_b = tag(b, "segment");
  if (seg_a != seg_b) return seg_a < seg_b;
  if (part_a != part_b) return part_a < part_b;
  return a.name < b.name;
}

std::vector<std::string> standard_row(const Member& m) {
  std::string addr = tcp_addr(m.addr, m.port);
  std::string status = status_text(m.status);
  std::string role = tag(m, "role");
  std::string type = role == "node" ? "client" : role == "consul" ? "server" : "";
  if (type.empty()) return {m.name, addr, status, "unknown", "", "", "", "", ""};
  std::string build = tag(m, "build");
  if (build.empty()) {
    build = "< 0.3";
  } else if (std::size_t colon = build.find(':'); colon != std::string::npos) {
    build.resize(colon);
  }
  return {
      m.name,           addr, status, type, build, tag(m, "vsn"), tag(m, "dc"), tag(m, "partition"),
      tag(m, "segment")};
}

std::vector<std::string> detailed_row(const Member& m) {
  std::string tags;
  for (const auto& [k, v] : m.tags) tags += (tags.empty() ? "" : ",") + k + "=" + v;
  return {m.name, tcp_addr(m.addr, m.port), status_text(m.status), tags};
}

class MembersCommand final : public Command {
 public:
  // Consul's members takes the client flags only (no -datacenter, no -stale).
  MembersCommand() {
    http_.add_client_flags(flags_);
    flags_.add_bool("detailed", &detailed_, "Provides detailed information about nodes.");
    flags_.add_string("filter", &filter_, "Filter to use with the request");
    flags_.add_string("status", &status_,
                      "If provided, output is filtered to only nodes matching the regular "
                      "expression for status.");
    flags_.add_bool("wan", &wan_,
                    "If the agent is in server mode, this can be used to return the other peers "
                    "in the WAN pool.");
  }

  std::string synopsis() const override { return "Lists the members of a Proconsul cluster"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    std::optional<std::regex> status_re = compile_status(ctx);
    if (!status_re) return 1;
    QueryParams params{{"segment", "_all"}};
    if (wan_) params.emplace_back("wan", "1");
    if (!filter_.empty()) params.emplace_back("filter", filter_);
    constexpr std::string_view kPrefix = "Error retrieving members: ";
    std::optional<HttpResponse> res = call_agent_ok(
        ctx, http_, CallKind::kRead, "GET", "/v1/agent/members", std::move(params), kPrefix);
    if (!res) return 1;
    core::Result<std::vector<Member>> members = parse_members(res->body);
    if (!members) {
      *ctx.err << kPrefix << members.error().message << "\n";
      return 1;
    }
    std::vector<Member> shown;
    for (Member& m : *members) {
      fill_community_tags(m);
      if (std::regex_search(status_text(m.status), *status_re)) shown.push_back(std::move(m));
    }
    // Consul prints nothing and exits 2 when no member matches.
    if (shown.empty()) return 2;
    std::stable_sort(shown.begin(), shown.end(), member_less);
    std::vector<std::vector<std::string>> rows;
    if (detailed_) {
      rows.push_back({"Node", "Address", "Status", "Tags"});
    } else {
      rows.push_back(
          {"Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition", "Segment"});
    }
    for (const Member& m : shown) rows.push_back(detailed_ ? detailed_row(m) : standard_row(m));
    *ctx.out << columnize(rows) << "\n";
    return 0;
  }

 private:
  std::optional<std::regex> compile_status(Context& ctx) const {
    try {
      return std::regex(status_, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      *ctx.err << "Failed to compile status regexp: " << e.what() << "\n";
      return std::nullopt;
    }
  }

  // What Consul's Community Edition fills in before printing (and so also shows with
  // -detailed): the default partition, and the segment: "<all>" for servers, "<default>" for
  // the others.
  static void fill_community_tags(Member& m) {
    std::string& partition = m.tags["partition"];
    if (partition.empty()) partition = "default";
    if (partition != "default") {
      m.tags["segment"] = "";
    } else if (tag(m, "role") == "consul") {
      m.tags["segment"] = "<all>";
    } else if (tag(m, "segment").empty()) {
      m.tags["segment"] = "<default>";
    }
  }

  core::FlagSet flags_;
  HttpFlags http_;
  bool detailed_ = false;
  std::string filter_;
  std::string status_ = ".*";
  bool wan_ = false;
};

}  // namespace

std::unique_ptr<Command> make_members_command() {
  return std::make_unique<MembersCommand>();
}

}  // namespace pc::cli
