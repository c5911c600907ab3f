#pragma once
// The HTTP/1.1 server of the API edge (Consul's agent/http.go listener on port 8500).
//
// server.cc is the only Boost.Beast translation unit of the module; this header carries no
// Boost, so the daemon and tests include it cheaply. One io_context runs on `threads` threads;
// every connection is a coroutine on its own strand, and a parked blocking query is a
// suspended coroutine waiting on its WatchSet, never a thread, so 10,000s of them cost memory.
//
// Per request the server parses the target (percent-decoded path and query), reads the body
// (up to core::limits::http_body_size_max, answering 413 beyond it without buffering it, and
// "100 Continue" first when the client asks), calls router.dispatch and writes the Outcome.
// For a BlockingRead it runs the read, parks until its watches fire or the wait passes, and
// re-runs, as handler.h describes, then sets X-Consul-Index, X-Consul-KnownLeader and
// X-Consul-LastContact. default_headers go on every response.
//
// Lifecycle: construct, start() once, stop() once (the destructor stops too). The Router must
// outlive the Server and stay unchanged while it runs.
// Thread-safety: start() and stop() are called from one owning thread that is not an I/O
// thread of this server; the handlers run on the I/O threads and may reply from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "http/router.h"
#include "rpc/tls_context.h"

namespace pc::http {

// What the blocking-query headers report about the Raft leader.
struct LeaderInfo {
  bool known_leader = true;
  std::uint64_t last_contact_ms = 0;
};

struct ServerOptions {
  std::string address = "127.0.0.1";  // an IP literal or a name to resolve
  std::uint16_t port = 8500;          // 0 = ephemeral, start() returns the bound port
  int threads = 2;
  // Consul's http_config.response_headers: set on every response.
  std::vector<std::pair<std::string, std::string>> default_headers;
  // Called on an I/O thread for each blocking-read response; must be cheap and thread-safe.
  // Unset means a known leader with last contact 0 (a single server).
  std::function<LeaderInfo()> leader_info;
  // HTTPS: every connection starts with a TLS handshake using the holder's current context
  // (client certificates are demanded when its config says verify_incoming). Null: HTTP.
  std::shared_ptr<rpc::TlsContextHolder> tls;
  // Called on an I/O thread with each request just before dispatch; the handler gets the Reply
  // it returns, which must pass the outcome on to the one it was given (the audit log wraps
  // it: http/audit_hook.h). Unset: the server's own Reply.
  std::function<Reply(const Request&, Reply)> wrap_reply;

  // Limits (shared/STYLE.md rule 5). Open connections beyond connections_max are closed at
  // accept. A connection idle between requests longer than idle_timeout is closed, as is one
  // that takes longer than request_read_timeout to send a request's header and body, or
  // write_timeout to take a response. stop() waits stop_grace for in-flight replies.
  std::size_t connections_max = 65536;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds request_read_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds stop_grace{std::chrono::seconds(3)};
};

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads; returns the bound port. IoError (with Go's
  // "listen tcp 127.0.0.1:8500: bind: address already in use" shape) if it cannot listen.
  core::Result<std::uint16_t> start();

  // Graceful stop: stops accepting, answers parked blocking queries with their latest outcome,
  // waits up to stop_grace for replies still in flight, closes every connection and joins the
  // threads. Idempotent; a no-op before start().
  void stop();

  // Open connections right now (for metrics and tests).
  std::size_t connection_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::http
