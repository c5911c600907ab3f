#pragma once
// The DNS interface's sockets (Consul's agent/dns.go listeners on port 8600): UDP and TCP on
// one address and port, each query decoded, answered by a callback and encoded.
//
// server.cc is the module's only Boost.Asio translation unit; this header carries no Boost.
// One io_context runs on `threads` threads (named pc-dns-N).
//
// UDP: one datagram is one query. A packet that does not decode is answered FORMERR with its
// id when it holds at least the 12-byte header, else dropped; responses (QR set) are dropped.
// The answer is encoded in at most 512 bytes, or the query's EDNS0 payload size (clamped to
// 512..4096); records that do not fit are dropped and TC set, as wire::encode does.
// TCP (RFC 1035 4.2.2, RFC 7766): 2-byte length framing, several queries per connection,
// answers up to 65535 bytes; a connection idle longer than idle_timeout is closed, and at most
// connections_max are open at once (more are closed at accept).
//
// The callback runs on an I/O thread and must be thread-safe; an exception from it is
// answered SERVFAIL.
//
// Lifecycle: construct, start() once, stop() once (the destructor stops too), from one owning
// thread that is not an I/O thread of this server.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "dns/wire/message.h"

namespace pc::dns {

class DnsServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";  // an IP literal
    std::uint16_t port = 8600;          // 0 = ephemeral, start() returns the bound port
    int threads = 1;
    std::size_t connections_max = 256;  // open TCP connections
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(10)};
  };
  // The answer to one decoded query; `tcp` tells whether it came over TCP or UDP.
  using Answer = std::function<wire::Message(const wire::Message&, bool tcp)>;

  DnsServer(Options options, Answer answer);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Binds UDP on the port (an ephemeral one for 0), then TCP on the same port; with port 0 it
  // retries a few ephemeral ports when TCP's is taken. Starts the I/O threads and returns the
  // bound port. IoError ("listen udp 127.0.0.1:8600: bind: address already in use") if it
  // cannot listen.
  core::Result<std::uint16_t> start();

  // Closes the sockets and joins the threads; idempotent, a no-op before start().
  void stop();

  // The bytes to send back for one query received over UDP (tcp false) or TCP; nullopt
  // means drop it. Exposed for tests.
  static std::optional<std::vector<std::uint8_t>> handle(std::span<const std::uint8_t> query,
                                                         bool tcp, const Answer& answer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::dns
