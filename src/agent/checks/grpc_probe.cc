// The gRPC probe: Consul's CheckGRPC for one run (agent/checks/grpc.go). The HTTP/2 and gRPC
// part is detail::GrpcHealthCall; this file moves its bytes over a socket from
// detail::dial_tcp, in the clear (h2c with prior knowledge, as grpc-go's insecure dial) or
// through OpenSSL with ALPN "h2", everything bounded by one deadline.
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <memory>

#include "agent/checks/detail/grpc_health.h"
#include "agent/checks/detail/net.h"
#include "agent/checks/detail/output.h"
#include "agent/checks/probe.h"

namespace pc::agent {
namespace {

using detail::GrpcHealthCall;

constexpr std::string_view kDeadlineText =
    "rpc error: code = DeadlineExceeded desc = context deadline exceeded";

// grpc-go's wording for a connection that could not be made or secured.
std::string transport_error(std::string_view what) {
  return "rpc error: code = Unavailable desc = connection error: desc = \"transport: " +
         std::string(what) + "\"";
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string openssl_error_text() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "EOF";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

struct SslDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// One connection, cleartext or TLS, over a non-blocking socket.
class Conn {
 public:
  Conn(detail::UniqueFd fd, core::MonoTime deadline) : fd_(std::move(fd)), deadline_(deadline) {}

  // Sets up TLS and runs the handshake; the error is the probe's output.
  core::Result<bool> start_tls(const GrpcProbeSpec& spec, const std::string& host) {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) return fail(transport_error("cannot create a TLS context"));
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    static const unsigned char kAlpn[] = {2, 'h', '2'};
    SSL_CTX_set_alpn_protos(ctx_.get(), kAlpn, sizeof(kAlpn));
    bool verify = !spec.tls_skip_verify;
    SSL_CTX_set_verify(ctx_.get(), verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    if (verify) {
      if (spec.ca_file.empty() && spec.ca_path.empty())
        SSL_CTX_set_default_verify_paths(ctx_.get());
      if ((!spec.ca_file.empty() || !spec.ca_path.empty()) &&
          SSL_CTX_load_verify_locations(
              ctx_.get(), spec.ca_file.empty() ? nullptr : spec.ca_file.c_str(),
              spec.ca_path.empty() ? nullptr : spec.ca_path.c_str()) != 1) {
        return fail(transport_error("loading CA: " + openssl_error_text()));
      }
    }
    if (!spec.cert_file.empty() &&
        SSL_CTX_use_certificate_chain_file(ctx_.get(), spec.cert_file.c_str()) != 1) {
      return fail(transport_error("loading certificate: " + openssl_error_text()));
    }
    if (!spec.key_file.empty() &&
        SSL_CTX_use_PrivateKey_file(ctx_.get(), spec.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail(transport_error("loading key: " + openssl_error_text()));
    }
    ssl_.reset(SSL_new(ctx_.get()));
    if (!ssl_) return fail(transport_error("cannot create a TLS session"));
    SSL_set_fd(ssl_.get(), fd_.get());
    std::string name = spec.tls_server_name.empty() ? host : spec.tls_server_name;
    bool ip = is_ip_literal(name);
    if (!ip && !name.empty()) SSL_set_tlsext_host_name(ssl_.get(), name.c_str());
    if (verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
      int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                   : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      if (set != 1) return fail(transport_error("invalid server name \"" + name + "\""));
    }
    while (true) {
      ERR_clear_error();
      int rv = SSL_connect(ssl_.get());
      if (rv == 1) return true;
      int err = SSL_get_error(ssl_.get(), rv);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        auto ready = wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
        if (!ready) return ready.error();
        continue;
      }
      long result = SSL_get_verify_result(ssl_.get());
      std::string why = result != X509_V_OK
                            ? std::string("x509: ") + X509_verify_cert_error_string(result)
                            : openssl_error_text();
      return fail(transport_error("authentication handshake failed: " + why));
    }
  }

  // Writes all of `bytes` before the deadline.
  core::Status write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n;
      if (ssl_) {
        ERR_clear_error();
        int rv = SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size()));
        if (rv <= 0) {
          int err = SSL_get_error(ssl_.get(), rv);
          if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            auto ready = wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
            if (!ready) return ready.error();
            continue;
          }
          return fail(closed_text("write: " + openssl_error_text())).error();
        }
        n = rv;
      } else {
        n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) {
            auto ready = wait(POLLOUT);
            if (!ready) return ready.error();
            continue;
          }
          return fail(closed_text("write: " + detail::errno_text(errno))).error();
        }
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return core::ok();
  }

  // Reads what is there (waiting for at least one byte until the deadline). An empty string
  // means the peer closed the connection; `closed_why` then says how.
  core::Result<std::string> read_some(std::string& closed_why) {
    char buf[16 * 1024];
    while (true) {
      if (ssl_) {
        ERR_clear_error();
        int rv = SSL_read(ssl_.get(), buf, sizeof(buf));
        if (rv > 0) return std::string(buf, static_cast<std::size_t>(rv));
        int err = SSL_get_error(ssl_.get(), rv);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          auto ready = wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
          if (!ready) return ready.error();
          continue;
        }
        closed_why = err == SSL_ERROR_ZERO_RETURN ? "EOF" : openssl_error_text();
        return std::string();
      }
      ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
      if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
      if (n == 0) {
        closed_why = "EOF";
        return std::string();
      }
      if (errno == EAGAIN || errno == EINTR) {
        auto ready = wait(POLLIN);
        if (!ready) return ready.error();
        continue;
      }
      closed_why = detail::errno_text(errno);
      return std::string();
    }
  }

 private:
  static std::string closed_text(const std::string& what) {
    return "rpc error: code = Unavailable desc = connection error: desc = \"transport: " + what +
           "\"";
  }
  static core::Error fail_error(std::string text) {
    return core::make_error(core::Code::kUnavailable, std::move(text));
  }
  static core::Result<bool> fail(std::string text) { return fail_error(std::move(text)); }

  // Waits for `events` on the socket until the deadline.
  core::Result<bool> wait(short events) {
    while (true) {
      int ms = detail::poll_timeout_ms(deadline_);
      if (ms == 0) return core::make_error(core::Code::kTimeout, std::string(kDeadlineText));
      pollfd p{fd_.get(), events, 0};
      int rv = ::poll(&p, 1, ms);
      if (rv > 0) return true;
      if (rv < 0 && errno != EINTR) return fail(closed_text("poll: " + detail::errno_text(errno)));
    }
  }

  detail::UniqueFd fd_;
  core::MonoTime deadline_;
  std::unique_ptr<SSL_CTX, SslDeleter> ctx_;
  std::unique_ptr<SSL, SslDeleter> ssl_;
};

ProbeResult run(const GrpcProbeSpec& spec) {
  auto deadline = std::chrono::steady_clock::now() +
                  detail::effective_timeout(spec.timeout, probe_grpc_timeout_default);
  std::string_view target = spec.target;
  std::string_view server = target.substr(0, target.find('/'));
  std::string service;
  if (auto slash = target.find('/'); slash != std::string_view::npos) {
    service = std::string(target.substr(slash + 1));
  }
  auto hp = detail::split_host_port(server);
  if (!hp) {
    return detail::probe_result(
        kProbeCritical, transport_error("Error while dialing: dial tcp " + hp.error().message));
  }
  auto fd = detail::dial_tcp(server, deadline);
  if (!fd) {
    if (fd.error().code == core::Code::kTimeout) {
      return detail::probe_result(kProbeCritical, std::string(kDeadlineText));
    }
    return detail::probe_result(kProbeCritical,
                                transport_error("Error while dialing: " + fd.error().message));
  }
  Conn conn(std::move(*fd), deadline);
  if (spec.use_tls) {
    auto started = conn.start_tls(spec, hp->host);
    if (!started) return detail::probe_result(kProbeCritical, started.error().message);
  }
  GrpcHealthCall call(std::string(server), spec.use_tls ? "https" : "http", service);
  while (!call.done()) {
    std::string out = call.take_output();
    if (call.done()) break;
    if (!out.empty()) {
      if (auto st = conn.write_all(out); !st) {
        return detail::probe_result(kProbeCritical, st.error().message);
      }
      continue;  // nghttp2 may have more once this is out
    }
    std::string closed_why;
    auto in = conn.read_some(closed_why);
    if (!in) return detail::probe_result(kProbeCritical, in.error().message);
    if (in->empty()) {
      call.connection_closed(closed_why);
      break;
    }
    call.feed(*in);
  }
  const auto& outcome = call.outcome();
  if (!outcome.serving_status) return detail::probe_result(kProbeCritical, outcome.error);
  if (*outcome.serving_status != 1) {
    return detail::probe_result(kProbeCritical,
                                "gRPC " + spec.target + " serving status: " +
                                    detail::serving_status_name(*outcome.serving_status));
  }
  return detail::probe_result(kProbePassing, "gRPC check " + spec.target + ": success");
}

}  // namespace

ProbeResult probe_grpc(const GrpcProbeSpec& spec) {
  try {
    return run(spec);
  } catch (const std::exception& e) {
    return detail::probe_result(kProbeCritical, std::string("gRPC check failed: ") + e.what());
  } catch (...) {
    return detail::probe_result(kProbeCritical, "gRPC check failed: unknown error");
  }
}

}  // namespace pc::agent
