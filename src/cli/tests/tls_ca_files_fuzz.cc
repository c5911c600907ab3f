// Fuzz target for the CA files that `proconsul tls cert create` reads from disk (-ca and
// -key): PEM certificate and private key text parsed by OpenSSL behind our own PEM block
// checks. The input is the certificate, a NUL byte, then the key. Whatever the files hold,
// the outcome is an error with a message or a certificate that verifies against the CA.
#include <cstdint>
#include <string_view>

#include "cli/tls/agent_certs.h"
#include "core/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t split = input.find('\0');
  std::string_view ca = input.substr(0, split);
  std::string_view key =
      split == std::string_view::npos ? std::string_view{} : input.substr(split + 1);
  pc::core::Status checked = pc::cli::tls::check_ca_files(ca, key);
  if (!checked) {
    PC_ASSERT(!checked.error().message.empty(), "an error without a message");
    return 0;
  }
  pc::cli::tls::CertOptions options;
  options.common_name = "server.dc1.consul";
  options.dns_names = {"server.dc1.consul", "localhost"};
  options.ip_addresses = {"127.0.0.1"};
  options.ext_key_usages = {pc::cli::tls::ExtKeyUsage::kServerAuth};
  auto cert = pc::cli::tls::generate_cert(options, ca, key);
  if (!cert) {
    PC_ASSERT(!cert.error().message.empty(), "an error without a message");
    return 0;
  }
  // A CA whose own constraints forbid the name (expired, not a CA, name constraints) fails
  // here with a message; a crash never.
  pc::core::Status verified = pc::cli::tls::verify_cert(ca, cert->certificate, "server.dc1.consul");
  PC_ASSERT(verified || !verified.error().message.empty(), "an error without a message");
  return 0;
}
