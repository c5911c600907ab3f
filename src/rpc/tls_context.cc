#include "rpc/tls_context.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

namespace pc::rpc {
namespace {

namespace fs = std::filesystem;

// Go's os.Open error text, which Consul's messages embed.
std::string open_error(const std::string& path, int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return "open " + path + ": " + text;
}

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  std::string out;
  char buf[256];
  while (code != 0) {
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
    code = ERR_get_error();
  }
  return out.empty() ? "unknown TLS error" : out;
}

core::Error invalid(std::string message) {
  return core::make_error(core::Code::kInvalidArgument, std::move(message));
}

// Adds every certificate of a PEM file to `store`; returns how many.
core::Result<int> add_ca_file(X509_STORE* store, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return invalid("Error loading from " + path + ": " + open_error(path, errno));
  int added = 0;
  while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    // A CA listed twice is not an error (X509_STORE_add_cert succeeds on duplicates in 3.x).
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++added;
  }
  std::fclose(f);
  ERR_clear_error();  // the read loop ends on "no start line"
  if (added == 0) return invalid("Error loading from " + path + ": no PEM certificates found");
  return added;
}

core::Status load_cas(SSL_CTX* ctx, const core::TlsListenerConfig& c) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (!c.ca_file.empty()) {
    auto n = add_ca_file(store, c.ca_file);
    if (!n) return n.error();
    return core::ok();
  }
  if (c.ca_path.empty()) return core::ok();
  // Consul reads every file under ca_path (not OpenSSL's hashed-directory lookup).
  std::error_code ec;
  int added = 0;
  for (fs::recursive_directory_iterator it(c.ca_path, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    auto n = add_ca_file(store, it->path().string());
    if (!n) return n.error();
    added += *n;
  }
  if (ec) return invalid("Error loading from " + c.ca_path + ": " + ec.message());
  if (added == 0) return invalid("Error loading from CAPath: no CAs found");
  return core::ok();
}

core::Status load_key_pair(SSL_CTX* ctx, const core::TlsListenerConfig& c) {
  if (!c.has_cert()) return core::ok();
  for (const std::string* path : {&c.cert_file, &c.key_file}) {
    if (FILE* f = std::fopen(path->c_str(), "rb"); f != nullptr) {
      std::fclose(f);
    } else {
      return invalid("Failed to load cert/key pair: " + open_error(*path, errno));
    }
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, c.cert_file.c_str()) != 1) {
    return invalid("Failed to load cert/key pair: " + c.cert_file + ": " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    ERR_clear_error();
    // Go's tls.X509KeyPair text for a key that does not match (or does not parse).
    return invalid("Failed to load cert/key pair: tls: private key does not match public key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return invalid("Failed to load cert/key pair: tls: private key does not match public key");
  }
  return core::ok();
}

int min_version(const std::string& name) {
  if (name == "TLSv1_0") return TLS1_VERSION;
  if (name == "TLSv1_1") return TLS1_1_VERSION;
  if (name == "TLSv1_3") return TLS1_3_VERSION;
  return TLS1_2_VERSION;
}

core::Result<SSL_CTX*> build(const core::TlsListenerConfig& c, bool server) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr) return core::make_error(core::Code::kInternal, openssl_error());
  auto fail = [ctx](core::Error e) {
    SSL_CTX_free(ctx);
    return e;
  };
  SSL_CTX_set_min_proto_version(ctx, min_version(c.tls_min_version));
  // Renegotiation is an attack surface nothing here needs.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!c.tls_cipher_suites.empty()) {
    std::string list;
    for (const std::string& s : c.tls_cipher_suites) {
      list += (list.empty() ? "" : ":") + core::openssl_cipher_name(s);
    }
    if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1) {
      return fail(invalid("tls_cipher_suites: " + openssl_error()));
    }
  }
  if (auto s = load_cas(ctx, c); !s) return fail(s.error());
  if (auto s = load_key_pair(ctx, c); !s) return fail(s.error());
  int mode = SSL_VERIFY_NONE;
  if (server && c.verify_incoming) mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  if (!server && c.verify_outgoing) mode = SSL_VERIFY_PEER;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  return ctx;
}

std::string serial_of(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return "";
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

// The DNS names a certificate carries, "a, b".
std::string dns_names(X509* cert) {
  std::string out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_DNS) continue;
    const auto* data = ASN1_STRING_get0_data(n->d.dNSName);
    if (!out.empty()) out += ", ";
    out.append(reinterpret_cast<const char*>(data), ASN1_STRING_length(n->d.dNSName));
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace

core::Result<std::shared_ptr<const TlsContext>> TlsContext::load(
    const core::TlsListenerConfig& config, std::string server_name) {
  std::shared_ptr<TlsContext> out(new TlsContext());
  out->config_ = config;
  out->server_name_ = std::move(server_name);
  auto client = build(config, /*server=*/false);
  if (!client) return client.error();
  out->client_ctx_ = *client;
  if (config.has_cert()) {
    auto server = build(config, /*server=*/true);
    if (!server) return server.error();
    out->server_ctx_ = *server;
    out->cert_serial_ = serial_of(out->server_ctx_);
  }
  return std::shared_ptr<const TlsContext>(std::move(out));
}

TlsContext::~TlsContext() {
  SSL_CTX_free(server_ctx_);
  SSL_CTX_free(client_ctx_);
}

std::string tls_failure_reason(ssl_st* ssl) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    std::string out =
        std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH) {
      const char* want = X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0);
      out += std::string(" (want ") + (want != nullptr ? want : "?");
      STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
      if (chain != nullptr && sk_X509_num(chain) > 0) {
        out += ", certificate names " + dns_names(sk_X509_value(chain, 0));
      }
      out += ")";
    }
    return out;
  }
  return openssl_error();
}

}  // namespace pc::rpc
