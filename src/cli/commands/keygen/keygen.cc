// `proconsul keygen`: a new gossip encryption key, as Consul's command/keygen prints one: 32
// bytes from the operating system's CSPRNG (OpenSSL's RAND_bytes, seeded by getrandom), in
// standard base64 on one line. That is the `encrypt` value and what `keyring -install` takes
// (AES-256; the keyring also accepts 16 and 24 bytes).
#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <ostream>

#include "cli/commands/commands.h"
#include "core/flags.h"
#include "core/strings.h"

namespace pc::cli {
namespace {

constexpr std::size_t kKeySizeBytes = 32;

constexpr std::string_view kHelp = R"(
Usage: proconsul keygen

  Generates a new encryption key that agents can use to encrypt their gossip
  traffic (the "encrypt" setting, or "proconsul keyring -install"). The output
  is a base64-encoded 32-byte key, ready to be used as it is.
)";

class KeygenCommand final : public Command {
 public:
  std::string synopsis() const override { return "Generates a new encryption key"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    // Consul's keygen ignores positional arguments; flags other than help are errors.
    std::vector<std::string> positional;
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    std::array<unsigned char, kKeySizeBytes> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
      const unsigned long err = ERR_get_error();
      std::array<char, 256> text{};
      ERR_error_string_n(err, text.data(), text.size());
      *ctx.err << "Error reading random data: " << text.data() << "\n";
      return 1;
    }
    *ctx.out << core::base64_encode(
                    std::string_view(reinterpret_cast<const char*>(key.data()), key.size()))
             << "\n";
    OPENSSL_cleanse(key.data(), key.size());
    return 0;
  }

 private:
  core::FlagSet flags_;
};

}  // namespace

std::unique_ptr<Command> make_keygen_command() {
  return std::make_unique<KeygenCommand>();
}

}  // namespace pc::cli
