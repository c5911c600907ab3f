// The DNS server's sockets: see server.h.
#include "dns/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
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

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "core/assert.h"
#include "core/io_loop.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/strings.h"
#include "dns/answer_cache.h"
#include "dns/host_completion.h"

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

// Completion of a top-level coroutine (core::log::exception).
void log_exception(std::string_view what, std::exception_ptr e) {
  core::log::exception(kLogModule, what, std::move(e));
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

// Encodes `m` in max_size bytes; SERVFAIL when it cannot be written, nullopt when not even
// that can.
std::optional<std::vector<std::uint8_t>> encode_answer(const wire::Message& m,
                                                       std::size_t max_size) {
  auto encoded = wire::encode(m, max_size);
  if (!encoded) {
    core::log::error(kLogModule, "cannot encode the answer to query {}: {}", m.header.id,
                     encoded.error().message);
    encoded = wire::encode(
        bare_response(m.header.id, m.header.opcode, m.header.rd, wire::rcode::kServFail), max_size);
    if (!encoded) return std::nullopt;
  }
  return std::move(encoded->bytes);
}

Resolution call_answer(const DnsServer::Answer& answer, const wire::Message& query, bool tcp,
                       const ExternalRecords* external) {
  try {
    return answer(query, tcp, external);
  } catch (const std::exception& e) {
    core::log::error(kLogModule, "answering query {}: {}", query.header.id, e.what());
  } catch (...) {
    core::log::error(kLogModule, "answering query {}: unknown exception", query.header.id);
  }
  Resolution failed;
  failed.response =
      bare_response(query.header.id, query.header.opcode, query.header.rd, wire::rcode::kServFail);
  failed.response.questions = query.questions;
  return failed;
}

// One query after its synchronous part: the bytes to send (or nothing to send), or what the
// recursors must be asked before it can be answered.
struct Prepared {
  bool drop = false;
  bool cacheable = false;  // `done` may be served again for the same question
  std::optional<std::vector<std::uint8_t>> done;
  wire::Message query;
  Resolution resolution;
  std::size_t max_size = 0;
};

}  // namespace

std::size_t response_size_max(const wire::Message& query, bool tcp) {
  if (tcp) return wire::kMaxMessageSize;
  if (!query.edns) return wire::kMaxUdpSize;
  return std::clamp<std::size_t>(query.edns->udp_payload_size, wire::kMaxUdpSize, kMaxEdnsUdpSize);
}

namespace {

Prepared prepare(std::span<const std::uint8_t> bytes, bool tcp, const DnsServer::Answer& answer) {
  Prepared p;
  if (bytes.size() < wire::kHeaderSize || (bytes[2] & 0x80) != 0) {
    p.drop = true;  // too short for a header, or a response: never answer one
    return p;
  }
  p.max_size = tcp ? wire::kMaxMessageSize : wire::kMaxUdpSize;
  auto decoded = wire::decode(bytes);
  if (!decoded) {
    const auto id = static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
    core::log::debug(kLogModule, "malformed query {}: {}", id, decoded.error().message);
    p.done = encode_answer(bare_response(id, static_cast<std::uint8_t>((bytes[2] >> 3) & 0x0f),
                                         (bytes[2] & 0x01) != 0, wire::rcode::kFormErr),
                           p.max_size);
    p.drop = !p.done;
    return p;
  }
  p.max_size = response_size_max(*decoded, tcp);
  p.resolution = call_answer(answer, *decoded, tcp, nullptr);
  if (!p.resolution.forward && !p.resolution.remote && p.resolution.external_names.empty()) {
    p.done = encode_answer(p.resolution.response, p.max_size);
    p.drop = !p.done;
    const std::uint8_t rcode = p.resolution.response.header.rcode;
    p.cacheable = p.resolution.cacheable &&
                  (rcode == wire::rcode::kNoError || rcode == wire::rcode::kNxDomain ||
                   rcode == wire::rcode::kRefused);
    return p;
  }
  p.query = std::move(*decoded);
  return p;
}

// The state the I/O coroutines share. Declaration order matters: the io_context is destroyed
// after the sockets and before the counters its pending coroutines still touch.
struct Core {
  Core(DnsServer::Options o, DnsServer::Answer a) : options(std::move(o)), answer(std::move(a)) {}

  DnsServer::Options options;
  DnsServer::Answer answer;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> recursions{0};  // queries waiting on recursors
  AnswerCache cache;
  std::mutex recursors_mu;
  std::shared_ptr<const DnsServer::Recursors> recursors = std::make_shared<DnsServer::Recursors>();
  core::SystemRand rand;  // recursor order and the ids of our own questions

  std::shared_ptr<const DnsServer::Recursors> current_recursors() {
    std::lock_guard lock(recursors_mu);
    return recursors;
  }
  asio::io_context ioc;
  udp::socket udp_socket{ioc};
  tcp::acceptor acceptor{ioc};
};

using Impl = Core;

// One exchange with one recursor: `query` out, the first reply with the same id back, or
// nullopt on any failure or when `timeout` passes.
asio::awaitable<std::optional<std::vector<std::uint8_t>>> exchange(
    const std::pair<std::string, std::uint16_t>& server, const std::vector<std::uint8_t>& query,
    bool tcp, std::chrono::milliseconds timeout) {
  using asio::experimental::awaitable_operators::operator||;
  auto executor = co_await asio::this_coro::executor;
  error_code ec;
  const auto address = asio::ip::make_address(server.first, ec);
  if (ec || query.size() < 2) co_return std::nullopt;
  asio::steady_timer deadline(executor, timeout);
  auto same_id = [&](const std::vector<std::uint8_t>& reply) {
    return reply.size() >= wire::kHeaderSize && reply[0] == query[0] && reply[1] == query[1] &&
           (reply[2] & 0x80) != 0;
  };
  if (!tcp) {
    udp::socket socket(executor);
    socket.open(address.is_v4() ? udp::v4() : udp::v6(), ec);
    if (ec) co_return std::nullopt;
    socket.connect(udp::endpoint(address, server.second), ec);  // only its replies arrive
    if (ec) co_return std::nullopt;
    auto [send_ec, sent] = co_await socket.async_send(asio::buffer(query), kUseTuple);
    if (send_ec) co_return std::nullopt;
    std::vector<std::uint8_t> reply(wire::kMaxMessageSize);
    for (;;) {
      auto result = co_await (socket.async_receive(asio::buffer(reply), kUseTuple) ||
                              deadline.async_wait(kUseTuple));
      if (result.index() == 1) co_return std::nullopt;
      auto [recv_ec, n] = std::get<0>(result);
      if (recv_ec) co_return std::nullopt;
      std::vector<std::uint8_t> got(reply.begin(), reply.begin() + static_cast<std::ptrdiff_t>(n));
      if (same_id(got)) co_return got;
    }
  }
  tcp::socket socket(executor);
  auto connected =
      co_await (socket.async_connect(tcp::endpoint(address, server.second), kUseTuple) ||
                deadline.async_wait(kUseTuple));
  if (connected.index() == 1 || std::get<0>(std::get<0>(connected))) co_return std::nullopt;
  std::array<std::uint8_t, 2> length{static_cast<std::uint8_t>(query.size() >> 8),
                                     static_cast<std::uint8_t>(query.size() & 0xff)};
  std::array<asio::const_buffer, 2> out{asio::buffer(length), asio::buffer(query)};
  auto wrote =
      co_await (asio::async_write(socket, out, kUseTuple) || deadline.async_wait(kUseTuple));
  if (wrote.index() == 1 || std::get<0>(std::get<0>(wrote))) co_return std::nullopt;
  auto got_length = co_await (asio::async_read(socket, asio::buffer(length), kUseTuple) ||
                              deadline.async_wait(kUseTuple));
  if (got_length.index() == 1 || std::get<0>(std::get<0>(got_length))) co_return std::nullopt;
  std::vector<std::uint8_t> reply((std::size_t{length[0]} << 8) | length[1]);
  auto got = co_await (asio::async_read(socket, asio::buffer(reply), kUseTuple) ||
                       deadline.async_wait(kUseTuple));
  if (got.index() == 1 || std::get<0>(std::get<0>(got))) co_return std::nullopt;
  if (!same_id(reply)) co_return std::nullopt;
  co_return reply;
}

// The recursors in the order to try them.
std::vector<std::pair<std::string, std::uint16_t>> recursor_order(Impl* s,
                                                                  const DnsServer::Recursors& r) {
  auto order = r.servers;
  if (r.random_order) {
    for (std::size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[s->rand.next_u64() % i]);
    }
  }
  return order;
}

// The recursors' answer to the client's own query: relayed as it came when its rcode is
// NOERROR or NXDOMAIN, else the next recursor; SERVFAIL when none answers (Consul's
// handleRecurse).
asio::awaitable<std::optional<std::vector<std::uint8_t>>> forward(
    Impl* s, const Prepared& p, const std::vector<std::uint8_t>& raw, bool tcp) {
  auto recursors = s->current_recursors();
  for (const auto& server : recursor_order(s, *recursors)) {
    auto reply = co_await exchange(server, raw, tcp, recursors->timeout);
    if (!reply) {
      core::log::debug(kLogModule, "recursor {}:{} did not answer query {}", server.first,
                       server.second, p.query.header.id);
      continue;
    }
    const std::uint8_t rcode = (*reply)[3] & 0x0f;
    if (rcode == wire::rcode::kNoError || rcode == wire::rcode::kNxDomain) co_return reply;
    core::log::debug(kLogModule, "recursor {}:{} answered query {} with rcode {}", server.first,
                     server.second, p.query.header.id, rcode);
  }
  core::log::warn(kLogModule, "all recursors failed for query {} ({})", p.query.header.id,
                  p.query.questions.empty() ? std::string("?") : p.query.questions[0].name);
  wire::Message failed = bare_response(p.query.header.id, p.query.header.opcode, p.query.header.rd,
                                       wire::rcode::kServFail);
  failed.header.ra = true;
  failed.questions = p.query.questions;
  if (p.query.edns) {
    failed.edns = wire::Edns{};
    failed.edns->udp_payload_size = p.query.edns->udp_payload_size;
  }
  co_return encode_answer(failed, p.max_size);
}

// The A records of `names` (at most kMaxHosts of them) as the recursors give them, asked of
// each in turn until one answers (Consul's resolveCNAME asks for A records only).
asio::awaitable<ExternalRecords> lookup_hosts(Impl* s, const std::vector<std::string>& names) {
  constexpr std::size_t kMaxHosts = 8;  // names chased per query
  auto recursors = s->current_recursors();
  ExternalRecords found;
  for (std::size_t i = 0; i < names.size() && i < kMaxHosts; ++i) {
    wire::Message q;
    q.header.id = static_cast<std::uint16_t>(s->rand.next_u64());
    q.header.rd = true;
    q.questions.push_back(wire::Question{names[i], wire::type::kA, wire::kClassIn});
    auto bytes = wire::encode(q, wire::kMaxUdpSize);
    if (!bytes) continue;
    for (const auto& server : recursor_order(s, *recursors)) {
      auto reply = co_await exchange(server, bytes->bytes, false, recursors->timeout);
      if (!reply) continue;
      auto decoded = wire::decode(*reply);
      if (!decoded) continue;
      auto& records = found[names[i]];
      for (auto& r : decoded->answers) {
        if (r.type == wire::type::kA || r.type == wire::type::kAaaa ||
            r.type == wire::type::kCname) {
          records.push_back(std::move(r));
        }
      }
      break;
    }
  }
  co_return found;
}

// The host names the resolver asked about looked up, then the answer made with them.
asio::awaitable<std::optional<std::vector<std::uint8_t>>> chase_hosts(Impl* s, const Prepared& p,
                                                                      bool tcp) {
  ExternalRecords found = co_await lookup_hosts(s, p.resolution.external_names);
  Resolution again = call_answer(s->answer, p.query, tcp, &found);
  co_return encode_answer(again.response, p.max_size);
}

// `answer`, which another process built, completed with the records of its host names from
// this server's recursors (host_completion.h); as it came when it needs none, or does not
// decode (the client gets what it would have got before).
asio::awaitable<std::vector<std::uint8_t>> complete_remote(Impl* s, const Prepared& p,
                                                           std::vector<std::uint8_t> answer,
                                                           bool tcp) {
  const ResolverConfig& config = *p.resolution.complete_with;
  auto decoded = wire::decode(answer);
  if (!decoded || !decoded->header.qr || decoded->header.id != p.query.header.id) co_return answer;
  Resolution first = complete_hosts(p.query, *decoded, config, nullptr, !tcp);
  if (first.external_names.empty()) co_return answer;
  ExternalRecords found = co_await lookup_hosts(s, first.external_names);
  Resolution done = complete_hosts(p.query, std::move(*decoded), config, &found, !tcp);
  auto encoded = encode_answer(done.response, p.max_size);
  co_return encoded ? std::move(*encoded) : std::move(answer);
}

// The answer another process gives (Options::remote), back on this coroutine's executor;
// SERVFAIL when it has none. The callback posts the answer here and cancels a timer the
// coroutine waits on (the timer's expiry bounds the wait should the callback never come).
asio::awaitable<std::optional<std::vector<std::uint8_t>>> ask_remote(Impl* s, const Prepared& p,
                                                                     std::vector<std::uint8_t> raw,
                                                                     bool tcp) {
  using Answer = std::optional<std::vector<std::uint8_t>>;
  struct Wait {
    explicit Wait(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
    Answer answer;
    bool done = false;
  };
  constexpr auto kRemoteWaitMax = std::chrono::seconds(40);
  Answer answer;
  const bool by_dc = !p.resolution.other_datacenter.empty() && s->options.remote_dc;
  if (by_dc || s->options.remote) {
    auto wait = std::make_shared<Wait>(co_await asio::this_coro::executor);
    wait->timer.expires_after(kRemoteWaitMax);
    auto on_reply = [wait](Answer reply) {
      asio::post(wait->timer.get_executor(), [wait, reply = std::move(reply)]() mutable {
        wait->answer = std::move(reply);
        wait->done = true;
        wait->timer.cancel();
      });
    };
    if (by_dc) {
      s->options.remote_dc(p.resolution.other_datacenter, std::move(raw), tcp, on_reply);
    } else {
      s->options.remote(std::move(raw), tcp, on_reply);
    }
    if (!wait->done) co_await wait->timer.async_wait(kUseTuple);
    answer = std::move(wait->answer);
  }
  if (answer) co_return answer;
  wire::Message failed = bare_response(p.query.header.id, p.query.header.opcode, p.query.header.rd,
                                       wire::rcode::kServFail);
  failed.questions = p.query.questions;
  co_return encode_answer(failed, p.max_size);
}

// What the recursors make of a prepared query; at most kMaxRecursions wait at once, more get
// SERVFAIL at once.
asio::awaitable<std::optional<std::vector<std::uint8_t>>> complete(Impl* s, Prepared p,
                                                                   std::vector<std::uint8_t> raw,
                                                                   bool tcp) {
  constexpr std::size_t kMaxRecursions = 1024;
  if (s->recursions.fetch_add(1) >= kMaxRecursions) {
    --s->recursions;
    core::log::warn(kLogModule, "too many queries waiting on recursors; SERVFAIL for {}",
                    p.query.header.id);
    wire::Message failed = bare_response(p.query.header.id, p.query.header.opcode,
                                         p.query.header.rd, wire::rcode::kServFail);
    failed.questions = p.query.questions;
    co_return encode_answer(failed, p.max_size);
  }
  std::optional<std::vector<std::uint8_t>> out;
  if (p.resolution.remote) {
    out = co_await ask_remote(s, p, raw, tcp);
    // An empty answer: the other process found the name is the recursors' (see RemoteDone).
    if (out && out->empty()) {
      out = co_await forward(s, p, raw, tcp);
    } else if (out && p.resolution.complete_with) {
      out = co_await complete_remote(s, p, std::move(*out), tcp);
    }
  } else if (p.resolution.forward) {
    out = co_await forward(s, p, raw, tcp);
  } else {
    out = co_await chase_hosts(s, p, tcp);
  }
  --s->recursions;
  co_return out;
}

// The synchronous answer to one query from the cache, or built and cached; nullopt when
// it is dropped or must wait on recursors (then `p` holds what they need).
std::optional<std::vector<std::uint8_t>> answer_now(Impl* s, std::span<const std::uint8_t> query,
                                                    bool tcp, Prepared& p) {
  std::optional<std::string> key;
  std::uint64_t generation = 0;
  if (s->options.cache_generation && (key = AnswerCache::key_of(query, tcp))) {
    generation = s->options.cache_generation();
    if (generation != 0) {
      const auto id = static_cast<std::uint16_t>((query[0] << 8) | query[1]);
      if (auto hit = s->cache.lookup(*key, generation, id)) return hit;
    }
  }
  p = prepare(query, tcp, s->answer);
  if (p.done && p.cacheable && key && generation != 0) s->cache.insert(*key, generation, *p.done);
  return std::move(p.done);
}

// Sends what waited on recursors back to a UDP client.
void spawn_udp_completion(Impl* s, Prepared p, std::span<const std::uint8_t> query,
                          const udp::endpoint& from) {
  std::vector<std::uint8_t> raw(query.begin(), query.end());
  asio::co_spawn(
      asio::make_strand(s->ioc),
      [s, p = std::move(p), raw = std::move(raw), from]() mutable -> asio::awaitable<void> {
        auto out = co_await complete(s, std::move(p), std::move(raw), false);
        if (!out || s->stopping) co_return;
        error_code ec;
        s->udp_socket.send_to(asio::buffer(*out), from, 0, ec);
        if (ec) core::log::debug(kLogModule, "udp send: {}", ec.message());
      },
      [](std::exception_ptr e) { log_exception("recursion", e); });
}

// UDP in batches: wait until the socket is readable, then read with recvmmsg until it is
// empty, answering each batch with one sendmmsg. Under load this is about one system call
// per query each way and no epoll wait per query.
asio::awaitable<void> udp_loop(Impl* s) {
  constexpr std::size_t kBatch = 32;
  // A query over UDP larger than this is not one we answer (a truncated read is dropped).
  constexpr std::size_t kQueryMax = 4096;
  // Batches read before yielding to the other coroutines on this thread.
  constexpr int kBatchesPerWake = 16;
  error_code ec;
  s->udp_socket.non_blocking(true, ec);
  const int fd = s->udp_socket.native_handle();
  std::vector<std::array<std::uint8_t, kQueryMax>> in(kBatch);
  std::vector<sockaddr_storage> from(kBatch);
  std::vector<iovec> in_iov(kBatch);
  std::vector<mmsghdr> in_msgs(kBatch);
  std::vector<std::vector<std::uint8_t>> out(kBatch);
  std::vector<iovec> out_iov(kBatch);
  std::vector<mmsghdr> out_msgs(kBatch);
  for (;;) {
    auto [wait_ec] = co_await s->udp_socket.async_wait(udp::socket::wait_read, kUseTuple);
    if (s->stopping || wait_ec == asio::error::operation_aborted) co_return;
    if (wait_ec) {
      core::log::debug(kLogModule, "udp wait: {}", wait_ec.message());
      continue;
    }
    for (int round = 0; round < kBatchesPerWake; ++round) {
      for (std::size_t i = 0; i < kBatch; ++i) {
        in_iov[i] = iovec{in[i].data(), in[i].size()};
        in_msgs[i] = mmsghdr{};
        in_msgs[i].msg_hdr.msg_name = &from[i];
        in_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        in_msgs[i].msg_hdr.msg_iov = &in_iov[i];
        in_msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = ::recvmmsg(fd, in_msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;  // empty (EAGAIN) or an error the next wait reports
      std::size_t replies = 0;
      for (int i = 0; i < n; ++i) {
        if ((in_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) continue;
        const std::span<const std::uint8_t> query(in[i].data(), in_msgs[i].msg_len);
        Prepared p;
        auto answer = answer_now(s, query, false, p);
        if (!answer) {
          if (!p.drop) {
            udp::endpoint endpoint;
            std::memcpy(endpoint.data(), &from[i], in_msgs[i].msg_hdr.msg_namelen);
            endpoint.resize(in_msgs[i].msg_hdr.msg_namelen);
            spawn_udp_completion(s, std::move(p), query, endpoint);
          }
          continue;
        }
        out[replies] = std::move(*answer);
        out_iov[replies] = iovec{out[replies].data(), out[replies].size()};
        out_msgs[replies] = mmsghdr{};
        out_msgs[replies].msg_hdr.msg_name = &from[i];
        out_msgs[replies].msg_hdr.msg_namelen = in_msgs[i].msg_hdr.msg_namelen;
        out_msgs[replies].msg_hdr.msg_iov = &out_iov[replies];
        out_msgs[replies].msg_hdr.msg_iovlen = 1;
        ++replies;
      }
      for (std::size_t sent = 0; sent < replies;) {
        const int k =
            ::sendmmsg(fd, out_msgs.data() + sent, static_cast<unsigned>(replies - sent), 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
          // A full send buffer (EAGAIN) or a refused destination: drop the rest, as a
          // datagram server does; clients retry.
          core::log::debug(kLogModule, "udp sendmmsg: {}", std::strerror(errno));
          break;
        }
        sent += static_cast<std::size_t>(k);
      }
      if (static_cast<std::size_t>(n) < kBatch) break;
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
    Prepared p;
    std::optional<std::vector<std::uint8_t>> out = answer_now(&c->s, query, true, p);
    if (!out && !p.drop) out = co_await complete(&c->s, std::move(p), query, true);
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

void DnsServer::clear_cache() {
  impl_->cache.clear();
}

void DnsServer::set_recursors(Recursors recursors) {
  Impl& s = *impl_;
  auto next = std::make_shared<const Recursors>(std::move(recursors));
  std::lock_guard lock(s.recursors_mu);
  s.recursors = std::move(next);
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
