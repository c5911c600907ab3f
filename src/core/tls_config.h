#pragma once
// The agent's `tls` stanza (Consul's agent configuration), as loaded:
//
//   "tls": {
//     "defaults":     { "ca_file": ..., "cert_file": ..., "key_file": ..., "verify_incoming": ...},
//     "internal_rpc": { ..., "verify_server_hostname": true },
//     "https":        { ... },
//     "grpc":         { ... }
//   }
//
// Every listener's settings start from `defaults`; a key set in the listener's own block wins
// (Consul's builder: `tls.https.verify_incoming` unset means `tls.defaults.verify_incoming`).
// verify_server_hostname exists only in internal_rpc. resolve_tls() does that inheritance;
// validate_tls() applies Consul's checks that need no file access (versions, a CA for the
// verify_* settings, a key with every certificate). Reading and checking the files themselves
// (present, parseable, key matching certificate) is the TLS runtime's job (rpc/tls.h), at
// start and on every reload, so a SIGHUP sees the files as they are then.
//
// Plain data; copy freely.
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace pc::core {

// One block as written: unset keys inherit.
struct TlsBlockSource {
  std::optional<std::string> ca_file, ca_path, cert_file, key_file, tls_min_version;
  // Consul's tls_cipher_suites: a comma-separated list of Go's suite names.
  std::optional<std::string> tls_cipher_suites;
  std::optional<bool> verify_incoming, verify_outgoing, verify_server_hostname;
};

struct TlsSource {
  TlsBlockSource defaults, internal_rpc, https, grpc;
};

// One listener's effective settings.
struct TlsListenerConfig {
  std::string ca_file;
  std::string ca_path;  // a directory of PEM CA files; ca_file wins when both are set
  std::string cert_file;
  std::string key_file;
  std::string tls_min_version = "TLSv1_2";     // TLSv1_0 .. TLSv1_3
  std::vector<std::string> tls_cipher_suites;  // Go names; empty: OpenSSL's defaults
  bool verify_incoming = false;
  bool verify_outgoing = false;
  bool verify_server_hostname = false;  // internal_rpc only

  bool has_cert() const { return !cert_file.empty() && !key_file.empty(); }
  bool has_ca() const { return !ca_file.empty() || !ca_path.empty(); }
  bool operator==(const TlsListenerConfig&) const = default;
};

struct TlsConfig {
  TlsListenerConfig internal_rpc, https, grpc;

  bool operator==(const TlsConfig&) const = default;
};

// Inheritance from defaults, as described above.
TlsConfig resolve_tls(const TlsSource& source);

// Consul's checks on the resolved settings; InvalidArgument naming the block, e.g.
// "tls.internal_rpc: VerifyOutgoing set, and no CA certificate provided!".
Status validate_tls(const TlsConfig& tls);

// The Go cipher suite names Consul accepts in tls_cipher_suites (TLS 1.2 suites; TLS 1.3's
// are not configurable, as in Go), mapped to OpenSSL's names; empty when unknown.
std::string openssl_cipher_name(const std::string& go_name);

}  // namespace pc::core
