// `proconsul kv delete [options] KEY_OR_PREFIX`, as Consul's command/kv/del.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/kv/kv_pair.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul kv delete [options] KEY_OR_PREFIX

  Removes the value from the key-value store at the given path. If no
  key exists at the path, no action is taken.

  To delete the value for the key named "foo" in the key-value store:

      $ proconsul kv delete foo

  To delete all keys which start with "foo", specify the -recurse option:

      $ proconsul kv delete -recurse foo

  This will delete the keys named "foo", "food", and "foo/bar/zip" if they
  existed.
)";

class KvDeleteCommand final : public Command {
 public:
  KvDeleteCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
    flags_.add_bool("cas", &cas_,
                    "Perform a Check-And-Set operation. Specifying this value also requires "
                    "the -modify-index flag to be set. The default value is false.");
    flags_.add_uint("modify-index", &modify_index_,
                    "Unsigned integer representing the ModifyIndex of the key. This is used "
                    "in combination with the -cas flag.");
    flags_.add_bool("recurse", &recurse_,
                    "Recursively delete all keys with the path. The default value is false.");
  }

  std::string synopsis() const override { return "Removes data from the KV store"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    auto key_argument = kv_key_argument(positional, *ctx.err);
    if (!key_argument) return 1;
    std::string key = std::move(*key_argument);
    if (key.empty() && !recurse_) {
      *ctx.err << "Error! Missing KEY argument\n";
      return 1;
    }
    if (cas_ && modify_index_ == 0) {
      *ctx.err << "Cannot delete a key that does not exist. Provide a -modify-index greater "
                  "than than 0.\n";
      return 1;
    }
    if (modify_index_ != 0 && !cas_) {
      *ctx.err << "Cannot specify -modify-index without -cas!\n";
      return 1;
    }
    if (recurse_ && cas_) {
      *ctx.err << "Cannot specify both -cas and -recurse!\n";
      return 1;
    }

    QueryParams params;
    std::string failed;
    if (recurse_) {
      params.emplace_back("recurse", "");
      failed = "Error! Did not delete prefix " + key + ": ";
    } else if (cas_) {
      params.emplace_back("cas", std::to_string(modify_index_));
      failed = "Error! Did not delete key " + key + ": ";
    } else {
      failed = "Error deleting key " + key + ": ";
    }
    core::Result<HttpResponse> res =
        call_agent(ctx, http_, CallKind::kWrite, "DELETE", kv_path(key), std::move(params));
    if (!res) {
      *ctx.err << res.error().message << "\n";
      return 1;
    }
    if (res->status != 200) {
      *ctx.err << failed << unexpected_status(*res) << "\n";
      return 1;
    }
    if (recurse_) {
      *ctx.out << "Success! Deleted keys with prefix: " << key << "\n";
      return 0;
    }
    if (cas_) {
      std::string body = res->body;
      while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
      if (body != "true") {
        *ctx.err << failed << "CAS failed\n";
        return 1;
      }
    }
    *ctx.out << "Success! Deleted key: " << key << "\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  HttpFlags http_;
  bool cas_ = false;
  bool recurse_ = false;
  std::uint64_t modify_index_ = 0;
};

}  // namespace

std::unique_ptr<Command> make_kv_delete_command() {
  return std::make_unique<KvDeleteCommand>();
}

}  // namespace pc::cli
