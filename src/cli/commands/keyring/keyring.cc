// `proconsul keyring -list|-install KEY|-use KEY|-remove KEY`, as Consul's command/keyring:
// the gossip encryption keys of every member, through /v1/operator/keyring.
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
Usage: proconsul keyring [options]

  Manages encryption keys used for gossip messages. Gossip encryption is
  optional. When enabled, this command may be used to examine active encryption
  keys in the cluster, add new keys, and remove old ones. When combined, this
  functionality provides the ability to perform key rotation cluster-wide,
  without disrupting the cluster.

  All operations performed by this command can only be run against server nodes
  or client agents, and affect every member of the agent's gossip pools.

  All variations of the keyring command return 0 if all nodes reply and there
  are no errors. If any node fails to reply or reports failure, the exit code
  will be 1.
)";

// Consul's pool heading, then one line per message and per key.
void print_pool(std::ostream& out, const json::object& pool, bool primary) {
  const json::value* dc = pool.if_contains("Datacenter");
  const json::value* wan = pool.if_contains("WAN");
  const json::value* segment = pool.if_contains("Segment");
  std::string name =
      wan != nullptr && wan->is_bool() && wan->get_bool()
          ? "WAN"
          : std::string(dc != nullptr && dc->is_string() ? dc->get_string() : "") + " (LAN)";
  if (segment != nullptr && segment->is_string() && !segment->get_string().empty()) {
    name += " [" + std::string(segment->get_string()) + "]";
  }
  out << "\n" << name << ":\n";
  if (const json::value* m = pool.if_contains("Messages"); m != nullptr && m->is_object()) {
    for (const auto& [from, msg] : m->get_object()) {
      out << "  ===> " << std::string(from) << ": "
          << (msg.is_string() ? std::string(msg.get_string()) : "") << "\n";
    }
  }
  std::int64_t total = 0;
  if (const json::value* n = pool.if_contains("NumNodes"); n != nullptr && n->is_int64()) {
    total = n->get_int64();
  }
  const json::value* keys = pool.if_contains(primary ? "PrimaryKeys" : "Keys");
  if (keys == nullptr || !keys->is_object()) return;
  for (const auto& [key, count] : keys->get_object()) {
    out << "  " << std::string(key) << " [" << (count.is_int64() ? count.get_int64() : 0) << "/"
        << total << "]\n";
  }
}

class KeyringCommand final : public Command {
 public:
  KeyringCommand() {
    flags_.add_string("install", &install_,
                      "Install a new encryption key. This will broadcast the new key to all "
                      "members in the cluster.");
    flags_.add_string("use", &use_,
                      "Change the primary encryption key, which is used to encrypt messages. "
                      "The key must already be installed before this operation can succeed.");
    flags_.add_string("remove", &remove_,
                      "Remove the given key from the cluster. This operation may only be "
                      "performed on keys which are not currently the primary key.");
    flags_.add_bool("list", &list_, "List all keys currently in use within the cluster.");
    flags_.add_bool("list-primary", &list_primary_,
                    "List all primary keys currently in use within the cluster.");
    flags_.add_int("relay-factor", &relay_factor_,
                   "Setting this to a non-zero value will cause nodes to relay their response "
                   "to the operation through this many randomly-chosen other nodes in the "
                   "cluster. The maximum allowed value is 5.");
    flags_.add_bool("local-only", &local_only_,
                    "Setting this to true will force the keyring query to only hit local "
                    "servers (no WAN traffic). This flag can only be set for list queries.");
    http_.add_client_flags(flags_);
  }

  std::string synopsis() const override { return "Manages gossip layer encryption keys"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    bool found = list_ || list_primary_;
    for (const std::string* arg : {&install_, &use_, &remove_}) {
      if (found && !arg->empty()) {
        *ctx.err << "Only a single action is allowed\n";
        return 1;
      }
      found = found || !arg->empty();
    }
    if (!found) {
      *ctx.err << help() << "\n";
      return 1;
    }
    if (relay_factor_ < 0 || relay_factor_ > 5) {
      *ctx.err << "Error parsing relay factor: Relay factor must be in range: [0, 5]\n";
      return 1;
    }
    if (local_only_ && !(list_ || list_primary_)) {
      *ctx.err << "Error validating local-only: local-only can only be set for list requests\n";
      return 1;
    }
    QueryParams params;
    if (relay_factor_ > 0) params.emplace_back("relay-factor", std::to_string(relay_factor_));
    if (list_ || list_primary_) {
      if (local_only_) params.emplace_back("local-only", "true");
      *ctx.out << (list_ ? "==> Gathering installed encryption keys...\n"
                         : "==> Gathering installed primary encryption keys...\n");
      auto res = call_agent(ctx, http_, CallKind::kRead, "GET", "/v1/operator/keyring", params);
      if (!res) return fail(ctx, res.error().message);
      if (res->status != 200) return fail(ctx, unexpected_status(*res));
      auto root = parse_response_json(res->body);
      if (!root) return fail(ctx, root.error().message);
      if (!root->is_array()) return fail(ctx, "unexpected response: not a JSON array");
      for (const json::value& pool : root->get_array()) {
        if (pool.is_object()) print_pool(*ctx.out, pool.get_object(), !list_);
      }
      return 0;
    }
    std::string_view method = "POST";
    std::string key = install_;
    if (!install_.empty()) {
      *ctx.out << "==> Installing new gossip encryption key...\n";
    } else if (!use_.empty()) {
      method = "PUT";
      key = use_;
      *ctx.out << "==> Changing primary gossip encryption key...\n";
    } else {
      method = "DELETE";
      key = remove_;
      *ctx.out << "==> Removing gossip encryption key...\n";
    }
    json::object body;
    body["Key"] = key;
    auto res = call_agent(ctx, http_, CallKind::kWrite, method, "/v1/operator/keyring", params,
                          json::serialize(body));
    if (!res) return fail(ctx, res.error().message);
    if (res->status != 200) return fail(ctx, unexpected_status(*res));
    return 0;
  }

 private:
  static int fail(Context& ctx, const std::string& why) {
    *ctx.err << "error: " << why << "\n";
    return 1;
  }

  core::FlagSet flags_;
  HttpFlags http_;
  std::string install_, use_, remove_;
  bool list_ = false;
  bool list_primary_ = false;
  bool local_only_ = false;
  int relay_factor_ = 0;
};

}  // namespace

std::unique_ptr<Command> make_keyring_command() {
  return std::make_unique<KeyringCommand>();
}

}  // namespace pc::cli
