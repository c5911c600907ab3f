// `proconsul kv put [options] KEY [DATA]`, as Consul's command/kv/put.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/helpers.h"
#include "core/flags.h"
#include "core/strings.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul kv put [options] KEY [DATA]

  Writes the data to the given path in the key-value store. The data can be of
  any type.

      $ proconsul kv put config/redis/maxconns 5

  The data can also be consumed from a file on disk by prefixing with the "@"
  symbol. For example:

      $ proconsul kv put config/program/license @license.lic

  Or it can be read from stdin using the "-" symbol:

      $ echo "abcd1234" | proconsul kv put config/program/license -

  The DATA argument itself is optional. If omitted, this will create an empty
  key-value pair at the specified path:

      $ proconsul kv put webapp/beta/active

  If the -base64 flag is specified, the data will be treated as base 64
  encoded.

  To perform a Check-And-Set operation, specify the -cas flag with the
  appropriate -modify-index flag corresponding to the key you want to perform
  the CAS operation on:

      $ proconsul kv put -cas -modify-index=844 config/redis/maxconns 5

  Additional flags and more advanced use cases are detailed below.
)";

class KvPutCommand final : public Command {
 public:
  KvPutCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
    flags_.add_bool("acquire", &acquire_,
                    "Obtain a lock on the key. If the key does not exist, this operation will "
                    "create the key and obtain the lock. The session must already exist and be "
                    "specified via the -session flag. The default value is false.");
    flags_.add_bool("base64", &base64_,
                    "Treat the data as base 64 encoded. The default value is false.");
    flags_.add_bool("cas", &cas_,
                    "Perform a Check-And-Set operation. With -modify-index=0 the key is "
                    "written only if it does not exist yet. The default value is false.");
    flags_.add_uint("flags", &kv_flags_,
                    "Unsigned integer value to assign to this key-value pair. This value is "
                    "not read by the server, so clients can use this value however makes "
                    "sense for their use case. The default value is 0 (no flags).");
    flags_.add_uint("modify-index", &modify_index_,
                    "Unsigned integer representing the ModifyIndex of the key. This is used "
                    "in combination with the -cas flag.");
    flags_.add_bool("release", &release_,
                    "Forfeit the lock on the key at the given path. This requires the -session "
                    "flag to be set. The key must be held by the session in order to be "
                    "unlocked. The default value is false.");
    flags_.add_string("session", &session_,
                      "User-defined identifier for this session as a string. This is commonly "
                      "used with the -acquire and -release operations to build robust "
                      "locking, but it can be set on any key. The default value is empty (no "
                      "session).");
  }

  std::string synopsis() const override { return "Sets or updates data in the KV store"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (positional.empty()) {
      *ctx.err << "Error! Missing KEY argument\n";
      return 1;
    }
    if (positional.size() > 2) {
      *ctx.err << "Error! Too many arguments (expected 1 or 2, got " << positional.size() << ")\n";
      return 1;
    }
    const std::string& key = positional[0];
    std::string value;
    if (std::optional<int> code = read_value(positional, ctx, value)) return *code;
    if ((release_ || acquire_) && session_.empty()) {
      *ctx.err << "Error! Missing -session (required with -acquire and -release)\n";
      return 1;
    }
    return write(ctx, key, value);
  }

 private:
  // DATA (if any) decoded into `value`; an exit code when the command is done.
  std::optional<int> read_value(const std::vector<std::string>& positional, Context& ctx,
                                std::string& value) {
    if (positional.size() == 2) {
      core::Result<std::string> data = load_data_source(positional[1], ctx);
      if (!data) {
        *ctx.err << "Error! " << data.error().message << "\n";
        return 1;
      }
      value = std::move(*data);
    }
    if (base64_) {
      std::string decoded;
      // Consul prints this error and carries on with empty data; we stop instead.
      if (!core::base64_decode(value, decoded)) {
        *ctx.err << "Error! Cannot base 64 decode data: illegal base64 data\n";
        return 1;
      }
      value = std::move(decoded);
    }
    return std::nullopt;
  }

  int write(Context& ctx, const std::string& key, const std::string& value) {
    QueryParams params;
    if (kv_flags_ != 0) params.emplace_back("flags", std::to_string(kv_flags_));
    std::string failed = "Error! Failed writing data: ";
    if (cas_) {
      params.emplace_back("cas", std::to_string(modify_index_));
      failed = "Error! Did not write to " + key + ": ";
    } else if (acquire_) {
      params.emplace_back("acquire", session_);
    } else if (release_) {
      params.emplace_back("release", session_);
    }
    // Consul's api client refuses such keys before sending anything.
    if (!key.empty() && key[0] == '/') {
      *ctx.err << failed << "Invalid key. Key must not begin with a '/': " << key << "\n";
      return 1;
    }
    core::Result<HttpResponse> res =
        call_agent(ctx, http_, CallKind::kWrite, "PUT", kv_path(key), std::move(params), value,
                   {{"Content-Type", "application/octet-stream"}});
    if (!res) {
      *ctx.err << res.error().message << "\n";
      return 1;
    }
    if (res->status != 200) {
      *ctx.err << failed << unexpected_status(*res) << "\n";
      return 1;
    }
    std::string body = res->body;
    while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
    bool ok = body == "true";
    if (cas_) {
      if (!ok && modify_index_ == 0) {
        *ctx.err << failed << "CAS performed with index=0 and key already exists.\n";
        return 1;
      }
      if (!ok) {
        *ctx.err << failed << "CAS failed\n";
        return 1;
      }
    } else if (acquire_) {
      if (!ok) {
        *ctx.err << "Error! Did not acquire lock\n";
        return 1;
      }
      *ctx.out << "Success! Lock acquired on: " << key << "\n";
      return 0;
    } else if (release_) {
      if (!ok) {
        *ctx.err << "Error! Did not release lock\n";
        return 1;
      }
      *ctx.out << "Success! Lock released on: " << key << "\n";
      return 0;
    }
    // A plain put's true/false is not checked, as in Consul.
    *ctx.out << "Success! Data written to: " << key << "\n";
    return 0;
  }

  core::FlagSet flags_;
  HttpFlags http_;
  bool acquire_ = false;
  bool base64_ = false;
  bool cas_ = false;
  bool release_ = false;
  std::uint64_t kv_flags_ = 0;
  std::uint64_t modify_index_ = 0;
  std::string session_;
};

}  // namespace

std::unique_ptr<Command> make_kv_put_command() {
  return std::make_unique<KvPutCommand>();
}

}  // namespace pc::cli
