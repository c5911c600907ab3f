#pragma once
// TLS material for one listener (internal RPC or HTTPS), loaded from the files a
// core::TlsListenerConfig names, and the holder that swaps it on SIGHUP.
//
// A TlsContext is immutable once loaded: an OpenSSL SSL_CTX for the accepting side (our
// certificate; client certificates demanded when verify_incoming) and one for the dialing
// side (our certificate if any; the peer's chain checked against the CAs when
// verify_outgoing). Connections take a reference when they start, so a reload never touches
// a connection already open: it keeps the context it began with until it closes.
//
// No OpenSSL or Asio here: the SSL_CTX is handed out as OpenSSL's opaque struct pointer, for
// the few translation units that speak TLS (rpc/tls_stream.cc, http/server.cc, the CLI's
// client).
//
// Thread-safety: TlsContext is immutable and shared freely. TlsContextHolder's current() and
// set() may be called from any thread.
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"
#include "core/tls_config.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace pc::rpc {

class TlsContext {
 public:
  // Reads the CA, certificate and key files and builds both SSL_CTXs. Errors carry Consul's
  // texts: "Failed to load cert/key pair: open /x.pem: No such file or directory",
  // "Failed to load cert/key pair: tls: private key does not match public key",
  // "Error loading from /ca.pem: open /ca.pem: No such file or directory".
  // `server_name` is what a server certificate must name when verify_server_hostname is on
  // ("server.dc1.consul"); empty otherwise.
  static core::Result<std::shared_ptr<const TlsContext>> load(const core::TlsListenerConfig& config,
                                                              std::string server_name);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  const core::TlsListenerConfig& config() const { return config_; }
  const std::string& server_name() const { return server_name_; }
  // Whether this side can accept TLS (it has a certificate and key).
  bool can_serve() const { return config_.has_cert(); }
  // The serial number of our certificate in hex ("" without one), for log lines.
  const std::string& cert_serial() const { return cert_serial_; }

  ssl_ctx_st* server_ctx() const { return server_ctx_; }  // null when !can_serve()
  ssl_ctx_st* client_ctx() const { return client_ctx_; }

 private:
  TlsContext() = default;

  core::TlsListenerConfig config_;
  std::string server_name_;
  std::string cert_serial_;
  ssl_ctx_st* server_ctx_ = nullptr;
  ssl_ctx_st* client_ctx_ = nullptr;
};

// The current context of a listener; null until set (TLS off).
class TlsContextHolder {
 public:
  std::shared_ptr<const TlsContext> current() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void set(std::shared_ptr<const TlsContext> next) {
    std::lock_guard lock(mu_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const TlsContext> current_;
};

// Why the last handshake on an SSL object failed, in words for a log line: the certificate
// check's result when it failed ("certificate verify failed: hostname mismatch (want
// server.dc1.consul)"), else OpenSSL's queued error (which it clears).
std::string tls_failure_reason(ssl_st* ssl);

}  // namespace pc::rpc
