#include "core/tls_config.h"

#include <array>
#include <string_view>
#include <utility>

#include "core/strings.h"

namespace pc::core {
namespace {

// Consul's accepted TLS versions (types.TLSVersions), in its sorted order for the message.
constexpr std::array<std::string_view, 4> kTlsVersions = {"TLSv1_0", "TLSv1_1", "TLSv1_2",
                                                          "TLSv1_3"};

// The suites Consul's agent accepts (types.TLSCipherSuite), Go name to OpenSSL name.
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kCipherSuites = {{
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
}};

template <typename T>
void inherit(T& out, const std::optional<T>& own, const std::optional<T>& fallback) {
  if (own) {
    out = *own;
  } else if (fallback) {
    out = *fallback;
  }
}

TlsListenerConfig resolve_block(const TlsBlockSource& d, const TlsBlockSource& own) {
  TlsListenerConfig out;
  inherit(out.ca_file, own.ca_file, d.ca_file);
  inherit(out.ca_path, own.ca_path, d.ca_path);
  inherit(out.cert_file, own.cert_file, d.cert_file);
  inherit(out.key_file, own.key_file, d.key_file);
  inherit(out.tls_min_version, own.tls_min_version, d.tls_min_version);
  std::string suites;
  inherit(suites, own.tls_cipher_suites, d.tls_cipher_suites);
  for (std::string& s : split(suites, ',')) {
    std::string name = s;
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) out.tls_cipher_suites.push_back(std::move(name));
  }
  inherit(out.verify_incoming, own.verify_incoming, d.verify_incoming);
  inherit(out.verify_outgoing, own.verify_outgoing, d.verify_outgoing);
  // Only internal_rpc carries it (Consul rejects it elsewhere at parse time).
  if (own.verify_server_hostname) out.verify_server_hostname = *own.verify_server_hostname;
  return out;
}

Status validate_block(std::string_view name, const TlsListenerConfig& b) {
  auto fail = [&](const std::string& why) {
    return make_error(Code::kInvalidArgument, "tls." + std::string(name) + ": " + why);
  };
  bool version_ok = false;
  for (std::string_view v : kTlsVersions) version_ok = version_ok || v == b.tls_min_version;
  if (!version_ok) {
    std::string list;
    for (std::string_view v : kTlsVersions) list += (list.empty() ? "" : ", ") + std::string(v);
    return fail("TLSMinVersion: value " + b.tls_min_version +
                " not supported, please specify one of [" + list + "]");
  }
  for (const std::string& suite : b.tls_cipher_suites) {
    if (openssl_cipher_name(suite).empty()) return fail("unsupported TLS cipher suite " + suite);
  }
  if (!b.tls_cipher_suites.empty() && b.tls_min_version == "TLSv1_3") {
    // TLS 1.3's suites are fixed (as in Go); a list here would silently do nothing.
    return fail("tls_cipher_suites cannot be set when tls_min_version is TLSv1_3");
  }
  if (b.cert_file.empty() != b.key_file.empty()) {
    return fail(b.cert_file.empty() ? "key_file set without cert_file"
                                    : "cert_file set without key_file");
  }
  if (b.verify_outgoing && !b.has_ca()) {
    return fail("VerifyOutgoing set, and no CA certificate provided!");
  }
  if (b.verify_incoming && !b.has_ca()) {
    return fail("VerifyIncoming set but no CA certificates were provided");
  }
  if (b.verify_incoming && !b.has_cert()) {
    return fail(
        "VerifyIncoming requires either a Cert and Key pair in the configuration file, or "
        "auto_encrypt/auto_config be enabled");
  }
  return ok();
}

}  // namespace

TlsConfig resolve_tls(const TlsSource& source) {
  TlsConfig out;
  out.internal_rpc = resolve_block(source.defaults, source.internal_rpc);
  out.https = resolve_block(source.defaults, source.https);
  out.grpc = resolve_block(source.defaults, source.grpc);
  return out;
}

Status validate_tls(const TlsConfig& tls) {
  Status s = validate_block("internal_rpc", tls.internal_rpc);
  if (s) s = validate_block("https", tls.https);
  if (s) s = validate_block("grpc", tls.grpc);
  return s;
}

std::string openssl_cipher_name(const std::string& go_name) {
  for (const auto& [go, ossl] : kCipherSuites) {
    if (go == go_name) return std::string(ossl);
  }
  return "";
}

}  // namespace pc::core
