// `proconsul kv get [options] [KEY_OR_PREFIX]`, as Consul's command/kv/get.
#include <ostream>

#include "cli/api.h"
#include "cli/commands/commands.h"
#include "cli/commands/kv/kv_pair.h"
#include "core/flags.h"
#include "core/strings.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul kv get [options] [KEY_OR_PREFIX]

  Retrieves the value from the key-value store at the given key name. If no
  key exists with that name, an error is returned. If a key exists with that
  name but has no data, nothing is returned. If the name or prefix is omitted,
  it defaults to "" which is the root of the key-value store.

  To retrieve the value for the key named "foo" in the key-value store:

      $ proconsul kv get foo

  This will return the original, raw value stored. To view detailed
  information about the key, specify the "-detailed" flag. This will output all
  known metadata about the key including ModifyIndex and any user-supplied
  flags:

      $ proconsul kv get -detailed foo

  To treat the path as a prefix and list all keys which start with the given
  prefix, specify the "-recurse" flag:

      $ proconsul kv get -recurse foo

  This will return all key-value pairs. To just list the keys which start with
  the specified prefix, use the "-keys" option instead:

      $ proconsul kv get -keys foo

  For a full list of options and examples, please see the documentation.
)";

class KvGetCommand final : public Command {
 public:
  KvGetCommand() {
    http_.add_client_flags(flags_);
    http_.add_server_flags(flags_);
    flags_.add_bool("base64", &base64_, "Base64 encode the value. The default value is false.");
    flags_.add_bool("detailed", &detailed_,
                    "Provide additional metadata about the key in addition to the value such "
                    "as the ModifyIndex and any flags that may have been set on the key. The "
                    "default value is false.");
    flags_.add_bool("keys", &keys_,
                    "List keys which start with the given prefix, but not their values. This "
                    "is especially useful if you only need the key names themselves. This "
                    "option is commonly combined with the -separator option. The default "
                    "value is false.");
    flags_.add_bool("recurse", &recurse_,
                    "Recursively look at all keys prefixed with the given path. The default "
                    "value is false.");
    flags_.add_string("separator", &separator_,
                      "String to use as a separator between keys. The default value is \"/\", "
                      "but this option is only taken into account when paired with the -keys "
                      "flag.");
  }

  std::string synopsis() const override { return "Retrieves or lists data from the KV store"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    auto key_argument = kv_key_argument(positional, *ctx.err);
    if (!key_argument) return 1;
    std::string key = std::move(*key_argument);
    if (key.empty() && !(recurse_ || keys_)) {
      *ctx.err << "Error! Missing KEY argument\n";
      return 1;
    }
    if (recurse_) return list_pairs(ctx, key);
    if (keys_) return list_keys(ctx, key);
    return get_one(ctx, key);
  }

 private:
  // Fetches `params` under `key`; nullopt with `code` set when the command is done.
  std::optional<HttpResponse> fetch(Context& ctx, const std::string& key, QueryParams params,
                                    int& code) {
    core::Result<HttpResponse> res =
        call_agent(ctx, http_, CallKind::kRead, "GET", kv_path(key), std::move(params));
    if (!res) {
      *ctx.err << res.error().message << "\n";
      code = 1;
      return std::nullopt;
    }
    if (res->status != 200 && res->status != 404) {
      *ctx.err << "Error querying agent: " << unexpected_status(*res) << "\n";
      code = 1;
      return std::nullopt;
    }
    return std::move(*res);
  }

  int list_keys(Context& ctx, const std::string& key) {
    QueryParams params{{"keys", ""}};
    if (!separator_.empty()) params.emplace_back("separator", separator_);
    int code = 0;
    std::optional<HttpResponse> res = fetch(ctx, key, std::move(params), code);
    if (!res) return code;
    if (res->status == 404) return 0;  // Consul's client: no keys, nothing printed
    core::Result<std::vector<std::string>> keys = parse_kv_keys(res->body);
    if (!keys) {
      *ctx.err << "Error querying agent: " << keys.error().message << "\n";
      return 1;
    }
    for (const std::string& k : *keys) *ctx.out << k << "\n";
    return 0;
  }

  int list_pairs(Context& ctx, const std::string& key) {
    int code = 0;
    std::optional<HttpResponse> res = fetch(ctx, key, {{"recurse", ""}}, code);
    if (!res) return code;
    if (res->status == 404) return 0;
    core::Result<std::vector<KvPair>> pairs = parse_kv_pairs(res->body);
    if (!pairs) {
      *ctx.err << "Error querying agent: " << pairs.error().message << "\n";
      return 1;
    }
    // With -keys too, Consul lists every key under the prefix (no -separator folding).
    for (std::size_t i = 0; i < pairs->size(); ++i) {
      const KvPair& p = (*pairs)[i];
      if (detailed_) {
        *ctx.out << format_kv_detailed(p, base64_, keys_) << "\n";
        if (i + 1 < pairs->size()) *ctx.out << "\n";
      } else if (keys_) {
        *ctx.out << p.key << "\n";
      } else {
        *ctx.out << p.key << ":" << (base64_ ? core::base64_encode(p.value) : p.value) << "\n";
      }
    }
    return 0;
  }

  int get_one(Context& ctx, const std::string& key) {
    int code = 0;
    std::optional<HttpResponse> res = fetch(ctx, key, {}, code);
    if (!res) return code;
    core::Result<std::vector<KvPair>> pairs =
        res->status == 404 ? std::vector<KvPair>{} : parse_kv_pairs(res->body);
    if (!pairs) {
      *ctx.err << "Error querying agent: " << pairs.error().message << "\n";
      return 1;
    }
    if (pairs->empty()) {
      *ctx.err << "Error! No key exists at: " << key << "\n";
      return 1;
    }
    const KvPair& p = pairs->front();
    if (detailed_) {
      *ctx.out << format_kv_detailed(p, base64_) << "\n";
    } else {
      *ctx.out << (base64_ ? core::base64_encode(p.value) : p.value) << "\n";
    }
    return 0;
  }

  core::FlagSet flags_;
  HttpFlags http_;
  bool base64_ = false;
  bool detailed_ = false;
  bool keys_ = false;
  bool recurse_ = false;
  std::string separator_ = "/";
};

}  // namespace

std::unique_ptr<Command> make_kv_get_command() {
  return std::make_unique<KvGetCommand>();
}

}  // namespace pc::cli
