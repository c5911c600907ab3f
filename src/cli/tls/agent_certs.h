#pragma once
// X.509 material for agent TLS (HTTPS on 8501, server RPC with verify_server_hostname), as
// Consul's tlsutil/generate.go makes it for `consul tls ca create` and `consul tls cert
// create`: ECDSA P-256 keys in SEC1 PEM ("EC PRIVATE KEY"), random 128-bit serial numbers,
// ECDSA-with-SHA256 signatures (SHA-256 with an RSA CA key), subject and authority key ids
// that are the SHA-256 of the public key's DER, and validity from now for a number of days.
//
// No files, flags or printing here: the `tls` commands (cli/commands/tls/) own those, and
// the agent's TLS may reuse this later. Stateless functions over OpenSSL 3 (libcrypto only);
// thread-safe as OpenSSL is.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::cli::tls {

// A certificate and its private key, both PEM text.
struct PemPair {
  std::string certificate;
  std::string private_key;
};

struct CaOptions {
  // The subject's common name; empty means Consul's "Consul Agent CA <serial in decimal>".
  std::string common_name;
  // Validity from now; 0 means 365, as in Consul's tlsutil.GenerateCA.
  int days = 1825;
  // When not empty, a critical name constraints extension permits only these DNS names and
  // their subdomains.
  std::vector<std::string> permitted_dns_domains;
  // When not empty, the CA's URI SAN (Consul's spiffe://<cluster-id>.<domain>).
  std::string uri;
};

// A self-signed CA: basic constraints CA:TRUE (critical), key usage certSign, cRLSign and
// digitalSignature (critical), subject key id equal to the authority key id.
core::Result<PemPair> generate_ca(const CaOptions& options);

enum class ExtKeyUsage { kServerAuth, kClientAuth };

struct CertOptions {
  std::string common_name;
  int days = 365;
  std::vector<std::string> dns_names;
  // Textual IPv4 or IPv6 addresses; one that does not parse is an error.
  std::vector<std::string> ip_addresses;
  // In this order; empty means no extended key usage extension (any usage, as Consul's cli
  // certificates have).
  std::vector<ExtKeyUsage> ext_key_usages;
};

// A leaf certificate for a new key, signed by the CA whose certificate and key are given as
// PEM text (the key as "EC PRIVATE KEY", "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY"): basic
// constraints CA:FALSE (critical), key usage digitalSignature and keyEncipherment
// (critical), the CA's subject key id as authority key id. Errors read as Consul's:
// "no PEM-encoded data found", "failed to parse CA: ...".
core::Result<PemPair> generate_cert(const CertOptions& options, std::string_view ca_pem,
                                    std::string_view ca_key_pem);

// Whether `cert_pem` chains to `ca_pem` and names `dns_name` (an IP address is matched
// against the IP SANs), for a TLS server (what Go's
// Certificate.Verify checks by default, which Consul runs on every certificate it makes).
core::Status verify_cert(std::string_view ca_pem, std::string_view cert_pem,
                         std::string_view dns_name);

// The checks generate_cert() makes of the CA files before signing: a CERTIFICATE block and
// a private key that matches it. For the fuzz target and for early errors.
core::Status check_ca_files(std::string_view ca_pem, std::string_view ca_key_pem);

}  // namespace pc::cli::tls
