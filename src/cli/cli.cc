#include "cli/cli.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cli/commands/commands.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

// The one registration table: one line per command, sorted by name (checked below).
constexpr CommandEntry kCommands[] = {
    {"acl", make_acl_command},
    {"acl bootstrap", make_acl_bootstrap_command},
    {"acl policy", make_acl_policy_command},
    {"acl policy create", make_acl_policy_create_command},
    {"acl policy delete", make_acl_policy_delete_command},
    {"acl policy list", make_acl_policy_list_command},
    {"acl policy read", make_acl_policy_read_command},
    {"acl policy update", make_acl_policy_update_command},
    {"acl role", make_acl_role_command},
    {"acl role create", make_acl_role_create_command},
    {"acl role delete", make_acl_role_delete_command},
    {"acl role list", make_acl_role_list_command},
    {"acl role read", make_acl_role_read_command},
    {"acl role update", make_acl_role_update_command},
    {"acl set-agent-token", make_acl_set_agent_token_command},
    {"acl token", make_acl_token_command},
    {"acl token create", make_acl_token_create_command},
    {"acl token delete", make_acl_token_delete_command},
    {"acl token list", make_acl_token_list_command},
    {"acl token read", make_acl_token_read_command},
    {"acl token update", make_acl_token_update_command},
    {"agent", make_agent_command},
    {"catalog", make_catalog_command},
    {"catalog datacenters", make_catalog_datacenters_command},
    {"catalog nodes", make_catalog_nodes_command},
    {"catalog services", make_catalog_services_command},
    {"event", make_event_command},
    {"force-leave", make_force_leave_command},
    {"info", make_info_command},
    {"join", make_join_command},
    {"keygen", make_keygen_command},
    {"keyring", make_keyring_command},
    {"kv", make_kv_command},
    {"kv delete", make_kv_delete_command},
    {"kv get", make_kv_get_command},
    {"kv put", make_kv_put_command},
    {"leave", make_leave_command},
    {"maint", make_maint_command},
    {"members", make_members_command},
    {"operator", make_operator_command},
    {"operator autopilot", make_operator_autopilot_command},
    {"operator autopilot get-config", make_operator_autopilot_get_config_command},
    {"operator autopilot set-config", make_operator_autopilot_set_config_command},
    {"operator raft", make_operator_raft_command},
    {"operator raft list-peers", make_operator_raft_list_peers_command},
    {"operator raft remove-peer", make_operator_raft_remove_peer_command},
    {"operator raft transfer-leader", make_operator_raft_transfer_leader_command},
    {"reload", make_reload_command},
    {"rtt", make_rtt_command},
    {"services", make_services_command},
    {"services deregister", make_services_deregister_command},
    {"services register", make_services_register_command},
    {"tls", make_tls_command},
    {"tls ca", make_tls_ca_command},
    {"tls ca create", make_tls_ca_create_command},
    {"tls cert", make_tls_cert_command},
    {"tls cert create", make_tls_cert_create_command},
    {"version", make_version_command},
};

constexpr bool table_sorted() {
  for (std::size_t i = 1; i < std::size(kCommands); ++i) {
    if (!(kCommands[i - 1].name < kCommands[i].name)) return false;
  }
  return true;
}
static_assert(table_sorted(), "keep kCommands sorted by name");

bool is_help_flag(std::string_view arg) {
  return arg == "-h" || arg == "-help" || arg == "--help";
}

bool is_version_flag(std::string_view arg) {
  return arg == "-v" || arg == "-version" || arg == "--version";
}

const CommandEntry* find_command(std::string_view name) {
  for (const CommandEntry& e : kCommands) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

// mitchellh/cli's help for one command: its help, then its direct subcommands if any.
std::string command_help(const CommandEntry& entry, const Command& command) {
  std::string out = command.help();
  std::string prefix = std::string(entry.name) + " ";
  std::vector<std::pair<std::string, std::string>> subs;
  std::size_t width = 0;
  for (const CommandEntry& e : kCommands) {
    if (!e.name.starts_with(prefix)) continue;
    std::string_view rest = e.name.substr(prefix.size());
    if (rest.find(' ') != std::string_view::npos) continue;
    subs.emplace_back(std::string(rest), e.make()->synopsis());
    width = std::max(width, rest.size());
  }
  if (!subs.empty()) {
    out += "\n\nSubcommands:";
    for (const auto& [name, synopsis] : subs) {
      out += "\n    " + name + std::string(width - name.size(), ' ') + "    " + synopsis;
    }
  }
  return out + "\n";
}

}  // namespace

std::span<const CommandEntry> command_table() {
  return kCommands;
}

Context default_context() {
  Context ctx;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  ctx.in = &std::cin;
  ctx.getenv = [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  ctx.http = http_request;
  return ctx;
}

std::string main_help() {
  std::string out = "Usage: proconsul [--version] [--help] <command> [<args>]\n\n";
  out += "Available commands are:\n";
  std::size_t width = 0;
  for (const CommandEntry& e : kCommands) {
    if (e.name.find(' ') == std::string_view::npos) width = std::max(width, e.name.size());
  }
  for (const CommandEntry& e : kCommands) {
    if (e.name.find(' ') != std::string_view::npos) continue;
    out += "    " + std::string(e.name) + std::string(width - e.name.size(), ' ') + "    " +
           e.make()->synopsis() + "\n";
  }
  return out;
}

int run(const std::vector<std::string>& args, Context& ctx) {
  // mitchellh/cli's processArgs: a help flag anywhere before "--" asks for help; version
  // flags and other flags count only before the command's name.
  bool help = false;
  bool version = false;
  std::size_t start = args.size();
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (is_help_flag(arg)) {
      help = true;
      continue;
    }
    if (start != args.size()) continue;
    if (is_version_flag(arg)) {
      version = true;
      continue;
    }
    if (!arg.empty() && arg[0] != '-') start = i;
  }
  if (start == args.size() && version && !help) {
    std::unique_ptr<Command> cmd = find_command("version")->make();
    return cmd->run({}, ctx);
  }
  if (start == args.size()) {
    *ctx.err << main_help() << "\n";
    return help ? 0 : kExitUnknownCommand;
  }
  // The longest run of words from `start` that names a command: "kv put key" -> "kv put".
  const CommandEntry* entry = nullptr;
  std::size_t end = start;
  std::string name;
  for (std::size_t i = start; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word.empty() || word[0] == '-' || word.find(' ') != std::string::npos) break;
    name += (i == start ? "" : " ") + word;
    if (const CommandEntry* e = find_command(name)) {
      entry = e;
      end = i + 1;
    }
  }
  if (entry == nullptr) {
    *ctx.err << main_help() << "\n";
    return kExitUnknownCommand;
  }
  std::unique_ptr<Command> command = entry->make();
  if (help) {
    *ctx.err << command_help(*entry, *command);
    return 0;
  }
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(end), args.end());
  int code = command->run(rest, ctx);
  if (code == kRunResultHelp) {
    *ctx.err << command_help(*entry, *command);
    return 1;
  }
  return code;
}

std::optional<int> parse_command_flags(core::FlagSet& flags, const std::vector<std::string>& args,
                                       const std::string& help, Context& ctx,
                                       std::vector<std::string>& positional) {
  core::Result<core::FlagParse> parsed = flags.parse(args);
  if (!parsed) {
    *ctx.err << parsed.error().message << "\n\n" << help << "\n";
    return 1;
  }
  if (parsed->help) {
    *ctx.err << help << "\n";
    return 0;
  }
  positional = std::move(parsed->positional);
  return std::nullopt;
}

}  // namespace pc::cli
