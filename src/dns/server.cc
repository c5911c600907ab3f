// The DNS server's sockets: see server.h.
#include "dns/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <optional>
#include <thread>
#include <utility>

#include "core/assert.h"
#include "core/io_loop.h"
#include "core/log.h"
#include "core/strings.h"

namespace pc::dns {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using boost::system::error_code;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kLogModule = "dns";
// Ephemeral ports tried when TCP's twin of the UDP port is taken.
constexpr int kBindAttempts = 8;
constexpr std::size_t kMaxEdnsUdpSize = 4096;
constexpr auto kAcceptErrorBackoff = std::chrono::milliseconds(50);

void log_exception(std::string_view what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    core::log::error(kLogModule, "{} ended by exception: {}", what, ex.what());
  } catch (...) {
    core::log::error(kLogModule, "{} ended by an unknown exception", what);
  }
}

// A header-only response: the query's id and opcode, and `rcode`.
wire::Message bare_response(std::uint16_t id, std::uint8_t opcode, bool rd, std::uint8_t rcode) {
  wire::Message m;
  m.header.id = id;
  m.header.qr = true;
  m.header.opcode = opcode;
  m.header.rd = rd;
  m.header.rcode = rcode;
  return m;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> DnsServer::handle(std::span<const std::uint8_t> query,
                                                           bool tcp, const Answer& answer) {
  if (query.size() < wire::kHeaderSize) return std::nullopt;
  if ((query[2] & 0x80) != 0) return std::nullopt;  // a response: never answer one
  const auto id = static_cast<std::uint16_t>((query[0] << 8) | query[1]);
  const auto opcode = static_cast<std::uint8_t>((query[2] >> 3) & 0x0f);
  const bool rd = (query[2] & 0x01) != 0;
  std::size_t max_size = tcp ? wire::kMaxMessageSize : wire::kMaxUdpSize;
  wire::Message response;
  auto decoded = wire::decode(query);
  if (!decoded) {
    core::log::debug(kLogModule, "malformed query {}: {}", id, decoded.error().message);
    response = bare_response(id, opcode, rd, wire::rcode::kFormErr);
  } else {
    if (!tcp && decoded->edns) {
      max_size = std::clamp<std::size_t>(decoded->edns->udp_payload_size, wire::kMaxUdpSize,
                                         kMaxEdnsUdpSize);
    }
    try {
      response = answer(*decoded, tcp);
    } catch (const std::exception& e) {
      core::log::error(kLogModule, "answering query {}: {}", id, e.what());
      response = bare_response(id, opcode, rd, wire::rcode::kServFail);
    } catch (...) {
      core::log::error(kLogModule, "answering query {}: unknown exception", id);
      response = bare_response(id, opcode, rd, wire::rcode::kServFail);
    }
  }
  auto encoded = wire::encode(response, max_size);
  if (!encoded) {
    core::log::error(kLogModule, "cannot encode the answer to query {}: {}", id,
                     encoded.error().message);
    encoded = wire::encode(bare_response(id, opcode, rd, wire::rcode::kServFail), max_size);
    if (!encoded) return std::nullopt;
  }
  return std::move(encoded->bytes);
}

namespace {

// The state the I/O coroutines share. Declaration order matters: the io_context is destroyed
// after the sockets and before the counters its pending coroutines still touch.
struct Core {
  Core(DnsServer::Options o, DnsServer::Answer a) : options(std::move(o)), answer(std::move(a)) {}

  DnsServer::Options options;
  DnsServer::Answer answer;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connections{0};
  asio::io_context ioc;
  udp::socket udp_socket{ioc};
  tcp::acceptor acceptor{ioc};
};

using Impl = Core;

asio::awaitable<void> udp_loop(Impl* s) {
  std::vector<std::uint8_t> buffer(wire::kMaxMessageSize);
  udp::endpoint from;
  for (;;) {
    auto [ec, n] = co_await s->udp_socket.async_receive_from(asio::buffer(buffer), from, kUseTuple);
    if (s->stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      core::log::debug(kLogModule, "udp receive: {}", ec.message());
      continue;
    }
    auto out = DnsServer::handle(std::span<const std::uint8_t>(buffer.data(), n), false, s->answer);
    if (!out) continue;
    auto [send_ec, sent] =
        co_await s->udp_socket.async_send_to(asio::buffer(*out), from, kUseTuple);
    (void)sent;
    if (send_ec && send_ec != asio::error::operation_aborted) {
      core::log::debug(kLogModule, "udp send: {}", send_ec.message());
    }
  }
}

// One TCP connection; the watchdog closes the socket once `deadline` passes.
struct Connection {
  Connection(tcp::socket sock, Impl& server)
      : socket(std::move(sock)), timer(socket.get_executor()), s(server) {
    ++s.connections;
  }
  ~Connection() { --s.connections; }

  tcp::socket socket;
  asio::steady_timer timer;
  std::chrono::steady_clock::time_point deadline;
  Impl& s;
};

asio::awaitable<void> watchdog(std::shared_ptr<Connection> c) {
  while (c->socket.is_open()) {
    c->timer.expires_at(c->deadline);
    co_await c->timer.async_wait(kUseTuple);
    if (std::chrono::steady_clock::now() >= c->deadline || c->s.stopping) {
      error_code ignored;
      c->socket.shutdown(tcp::socket::shutdown_both, ignored);
      c->socket.close(ignored);
      co_return;
    }
  }
}

asio::awaitable<void> serve(std::shared_ptr<Connection> c) {
  std::array<std::uint8_t, 2> length{};
  std::vector<std::uint8_t> query;
  for (;;) {
    c->deadline = std::chrono::steady_clock::now() + c->s.options.idle_timeout;
    auto [ec, n] = co_await asio::async_read(c->socket, asio::buffer(length), kUseTuple);
    if (ec || c->s.stopping) break;
    const std::size_t size = (std::size_t{length[0]} << 8) | length[1];
    if (size == 0) break;
    query.resize(size);
    auto [body_ec, body_n] = co_await asio::async_read(c->socket, asio::buffer(query), kUseTuple);
    if (body_ec || c->s.stopping) break;
    auto out = DnsServer::handle(query, true, c->s.answer);
    if (!out) continue;
    std::array<std::uint8_t, 2> out_length{static_cast<std::uint8_t>(out->size() >> 8),
                                           static_cast<std::uint8_t>(out->size() & 0xff)};
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_length), asio::buffer(*out)};
    auto [write_ec, written] = co_await asio::async_write(c->socket, buffers, kUseTuple);
    if (write_ec) break;
  }
  error_code ignored;
  c->socket.shutdown(tcp::socket::shutdown_both, ignored);
  c->socket.close(ignored);
  c->timer.cancel();
}

asio::awaitable<void> accept_loop(Impl* s) {
  for (;;) {
    auto [ec, socket] = co_await s->acceptor.async_accept(asio::make_strand(s->ioc), kUseTuple);
    if (s->stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      core::log::debug(kLogModule, "accept: {}", ec.message());
      asio::steady_timer backoff(co_await asio::this_coro::executor, kAcceptErrorBackoff);
      co_await backoff.async_wait(kUseTuple);
      continue;
    }
    if (s->connections.load() >= s->options.connections_max) {
      core::log::debug(kLogModule, "refusing a TCP connection: {} open", s->connections.load());
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket), *s);
    conn->deadline = std::chrono::steady_clock::now() + s->options.idle_timeout;
    auto executor = conn->socket.get_executor();
    asio::co_spawn(executor, watchdog(conn),
                   [](std::exception_ptr e) { log_exception("tcp watchdog", e); });
    asio::co_spawn(executor, serve(conn),
                   [](std::exception_ptr e) { log_exception("tcp connection", e); });
  }
}

}  // namespace

struct DnsServer::Impl : Core {
  using Core::Core;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  bool started = false;
  bool stopped = false;
};

DnsServer::DnsServer(Options options, Answer answer)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(answer))) {}

DnsServer::~DnsServer() {
  stop();
}

core::Result<std::uint16_t> DnsServer::start() {
  Impl& s = *impl_;
  PC_ASSERT(!s.started, "DnsServer::start called twice");
  const std::string requested = s.options.address + ":" + std::to_string(s.options.port);
  error_code ec;
  const auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) {
    return core::make_error(core::Code::kIoError,
                            "listen udp " + requested + ": invalid address: " + ec.message());
  }
  auto fail = [&](std::string_view proto, std::uint16_t port, std::string_view op) {
    const std::string message = "listen " + std::string(proto) + " " + s.options.address + ":" +
                                std::to_string(port) + ": " + std::string(op) + ": " + ec.message();
    error_code ignored;
    s.udp_socket.close(ignored);
    s.acceptor.close(ignored);
    return core::make_error(core::Code::kIoError, message);
  };
  std::uint16_t port = 0;
  const int attempts = s.options.port == 0 ? kBindAttempts : 1;
  for (int attempt = 1;; ++attempt) {
    const udp::endpoint udp_endpoint(address, s.options.port);
    if (s.udp_socket.open(udp_endpoint.protocol(), ec); ec) {
      return fail("udp", s.options.port, "socket");
    }
    if (s.udp_socket.bind(udp_endpoint, ec); ec) return fail("udp", s.options.port, "bind");
    port = s.udp_socket.local_endpoint(ec).port();
    if (ec) return fail("udp", s.options.port, "getsockname");
    const tcp::endpoint tcp_endpoint(address, port);
    if (s.acceptor.open(tcp_endpoint.protocol(), ec); ec) return fail("tcp", port, "socket");
    if (s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) {
      return fail("tcp", port, "setsockopt");
    }
    if (s.acceptor.bind(tcp_endpoint, ec); ec) {
      if (attempt < attempts) {
        error_code ignored;
        s.udp_socket.close(ignored);
        s.acceptor.close(ignored);
        continue;
      }
      return fail("tcp", port, "bind");
    }
    if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
      return fail("tcp", port, "listen");
    }
    break;
  }

  s.started = true;
  s.work.emplace(s.ioc.get_executor());
  asio::co_spawn(s.ioc, udp_loop(&s), [](std::exception_ptr e) { log_exception("udp loop", e); });
  asio::co_spawn(s.ioc, accept_loop(&s),
                 [](std::exception_ptr e) { log_exception("accept loop", e); });
  const int threads = std::max(1, s.options.threads);
  for (int i = 0; i < threads; ++i) {
    s.threads.emplace_back([&s, i] {
      core::set_thread_name("pc-dns-" + std::to_string(i));
      core::run_io_loop(s.ioc, kLogModule);
    });
  }
  core::log::debug(kLogModule, "listening on {}:{} (udp, tcp)", address.to_string(), port);
  return port;
}

void DnsServer::stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  for (const auto& t : s.threads) {
    PC_ASSERT(t.get_id() != std::this_thread::get_id(), "DnsServer::stop on its own I/O thread");
  }
  s.stopped = true;
  s.stopping = true;
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  error_code ignored;
  s.udp_socket.close(ignored);
  s.acceptor.close(ignored);
}

}  // namespace pc::dns
