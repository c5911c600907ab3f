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
// Recursors (Consul's `recursors`): when the callback's Resolution says `forward`, the query
// is sent as it came to each recursor in turn (UDP for a UDP client, TCP for a TCP one), each
// given `timeout`; the first answer that decodes, matches the query's id and has rcode
// NOERROR or NXDOMAIN is relayed, otherwise the next recursor is tried, and when none
// answers the client gets SERVFAIL with RA set. When the Resolution names external host
// names, each is asked of the recursors (type A) the same way and the callback runs again
// with what they returned. These exchanges wait on timers and sockets, never block a thread.
//
// UDP is read in batches (recvmmsg until the socket is empty, answers sent with one
// sendmmsg), so a busy server makes about one system call per query each way and waits in
// epoll only when idle. Answers are cached per question (answer_cache.h) while
// Options::cache_generation stays the same.
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
#include "dns/resolver.h"
#include "dns/wire/message.h"

namespace pc::dns {

// The largest response to `query` its transport carries: 65535 bytes over TCP; over UDP 512,
// or the query's EDNS0 payload size clamped to 512..4096.
std::size_t response_size_max(const wire::Message& query, bool tcp);

class DnsServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";  // an IP literal
    std::uint16_t port = 8600;          // 0 = ephemeral, start() returns the bound port
    int threads = 1;
    std::size_t connections_max = 256;  // open TCP connections
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(10)};
    // The generation answers are cached under (answer_cache.h): while it returns the same
    // value, an answer built for a question may be sent again for the same question. 0 means
    // "do not serve from the cache now"; a null function turns the cache off.
    std::function<std::uint64_t()> cache_generation;
    // Answers a query whose Resolution says `remote`: gets the query's bytes and whether it
    // came over TCP, and calls `done` once, from any thread, with the encoded response (sized
    // for that transport) or nullopt for SERVFAIL. Must not block. An empty response means
    // the other process found the name to be the recursors' (a `forward` Resolution there):
    // the query goes to this server's recursors (SERVFAIL without any).
    using RemoteDone = std::function<void(std::optional<std::vector<std::uint8_t>>)>;
    using Remote = std::function<void(std::vector<std::uint8_t> query, bool tcp, RemoteDone done)>;
    Remote remote;
    // Answers a query whose Resolution says `remote` and names `other_datacenter` (a server
    // asks a server of that datacenter), as `remote` does; unset: `remote` answers it.
    using RemoteDc = std::function<void(
        const std::string& datacenter, std::vector<std::uint8_t> query, bool tcp, RemoteDone done)>;
    RemoteDc remote_dc;
  };
  struct Recursors {
    std::vector<std::pair<std::string, std::uint16_t>> servers;  // IP literal, port
    std::chrono::milliseconds timeout{std::chrono::seconds(2)};
    bool random_order = false;  // Consul's recursor_strategy "random"
  };
  // The answer to one decoded query; `tcp` tells whether it came over TCP or UDP; `external`
  // holds what the recursors said about the host names a previous call asked for (null on
  // the first call).
  using Answer =
      std::function<Resolution(const wire::Message&, bool tcp, const ExternalRecords* external)>;

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

  // Replaces the recursors (SIGHUP reload); safe from any thread, applies to later queries.
  void set_recursors(Recursors recursors);
  // Forgets every cached answer (after the resolver's settings changed).
  void clear_cache();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::dns
