// A gossip pool on UDP and TCP: see pool.h. The gossip module's only Boost.Asio TU.
//
// Shape: one io_context run by one thread, so the Memberlist, the connection table and every
// coroutine's state are touched by that thread alone and need no lock. Four kinds of
// coroutine run on it: the ticker, the UDP reader, the TCP acceptor with one task per inbound
// connection, and one task per outbound TCP exchange (push-pull or TCP ping). Everything a
// packet leads to happens in deliver() → drain() on that thread: the core's answers are sent
// before the next packet is read. The owner's calls are posted and waited for.
#include "gossip/runtime/pool.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <exception>
#include <future>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/assert.h"
#include "core/io_loop.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/strings.h"
#include "gossip/codec.h"
#include "gossip/runtime/coordinate_tracker.h"
#include "gossip/runtime/refusal_warnings.h"

namespace pc::gossip {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kLogModule = "gossip";
// The core asks for ticks at next_deadline_ms(); this bounds the wait so a deadline that an
// incoming packet moved closer is not missed by more than this.
constexpr std::uint64_t kTickMaxMs = 10;
// A datagram buffer: the largest UDP payload fits.
constexpr std::size_t kUdpReceiveBufferSize = 65536;
// The TCP frame: a 4-byte big-endian length, then the (sealed or plaintext) frame.
constexpr std::size_t kTcpLengthPrefixSize = 4;
constexpr std::size_t kTcpFrameSizeMax = kTcpMessageSizeMax + kSealOverhead;
constexpr std::size_t kTcpReadChunkSize = 64 * 1024;
// Kernel-picked TCP ports tried when the UDP port of the same number is taken.
constexpr int kBindAttempts = 8;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
          .count());
}

template <typename Protocol>
std::string endpoint_text(const asio::ip::basic_endpoint<Protocol>& e) {
  if (e.address().is_v6()) return "[" + e.address().to_string() + "]:" + std::to_string(e.port());
  return e.address().to_string() + ":" + std::to_string(e.port());
}

// "10.0.0.2:8301" or "[fd00::2]:8301": IP literals only, as member addresses are.
std::optional<std::pair<asio::ip::address, std::uint16_t>> parse_address(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || text.rfind(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  error_code ec;
  const auto ip = asio::ip::make_address(std::string(host), ec);
  unsigned port = 0;
  const auto [end, err] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec || err != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  return std::make_pair(ip, static_cast<std::uint16_t>(port));
}

std::string length_prefixed(const std::string& frame) {
  std::string out(kTcpLengthPrefixSize, '\0');
  const auto n = static_cast<std::uint32_t>(frame.size());
  for (std::size_t i = 0; i < kTcpLengthPrefixSize; ++i) {
    out[i] = static_cast<char>((n >> (8 * (kTcpLengthPrefixSize - 1 - i))) & 0xff);
  }
  return out + frame;
}

// Reads one length-prefixed frame; empty optional on error, EOF or an oversized length.
// `closed` (when given) tells whether the peer closed the connection before a frame began.
asio::awaitable<std::optional<std::string>> read_frame(tcp::socket& socket, std::string& why,
                                                       bool* closed = nullptr) {
  std::array<unsigned char, kTcpLengthPrefixSize> prefix{};
  auto [ec, n] = co_await asio::async_read(socket, asio::buffer(prefix), kUseTuple);
  if (ec) {
    why = ec.message();
    if (closed != nullptr) {
      *closed = n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
    }
    co_return std::nullopt;
  }
  std::uint32_t size = 0;
  for (unsigned char b : prefix) size = (size << 8) | b;
  if (size == 0 || size > kTcpFrameSizeMax) {
    why = "frame of " + std::to_string(size) + " bytes";
    co_return std::nullopt;
  }
  // The buffer grows with what arrives rather than with what the prefix announces, so a peer
  // (not yet authenticated: the frame is opened after it is read) that announces 20 MiB and
  // sends little holds little memory.
  std::string frame;
  while (frame.size() < size) {
    const std::size_t have = frame.size();
    const std::size_t chunk = std::min<std::size_t>(kTcpReadChunkSize, size - have);
    frame.resize(have + chunk);
    auto [ec2, n2] =
        co_await asio::async_read(socket, asio::buffer(frame.data() + have, chunk), kUseTuple);
    if (ec2) {
      why = ec2.message();
      co_return std::nullopt;
    }
  }
  co_return frame;
}

// Shared by the exchanges a join() started; the last one to finish (or the io_context's
// destruction, which destroys unfinished ones) tells the waiting owner how many answered.
struct JoinBatch {
  std::promise<Pool::JoinOutcome> done;
  Pool::JoinOutcome outcome;
  ~JoinBatch() { done.set_value(outcome); }
};

// An inbound connection whose frame the core is handling: replies the core addresses to the
// connection's peer are written back on it.
struct InboundReply {
  std::vector<std::string> frames;
};

}  // namespace

struct Pool::Impl {
  // What lives and dies with the I/O thread; destroyed in stop() after the thread is joined,
  // which destroys unfinished coroutines (closing their sockets) too.
  struct Io {
    asio::io_context ioc;
    udp::socket udp_socket{ioc};
    tcp::acceptor acceptor{ioc};
    asio::steady_timer ticker{ioc};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::array<char, kUdpReceiveBufferSize> udp_buffer{};
    udp::endpoint udp_from;
  };

  Options options;
  std::unique_ptr<Io> io;
  std::thread thread;
  std::string address;
  std::uint16_t port = 0;
  bool started = false;
  bool running = false;  // owner thread only

  // I/O thread only.
  std::optional<Memberlist> core;
  std::unordered_map<std::string, InboundReply*> inbound;  // peer "ip:port" → its reply
  std::size_t inbound_open = 0;
  std::optional<std::promise<void>> leave_done;
  // Queries we started and collect responses for, by id.
  struct Collecting {
    std::vector<QueryResponse> responses;
    std::size_t expected = 0;
    QueryDone done;
  };
  std::unordered_map<QueryId, Collecting> collecting;
  // When the packet being delivered arrived (steady clock, µs): an ack's RTT ends there.
  std::int64_t received_us = 0;
  // Vivaldi: ping send times, our coordinate, members' coordinates (its own lock).
  std::optional<CoordinateTracker> coordinates;
  // When refused frames are worth a warning (I/O thread only).
  RefusalWarnings decrypt_warnings;

  struct Counters {
    std::atomic<std::uint64_t> udp_packets_received{0}, udp_bytes_received{0}, udp_packets_sent{0},
        udp_bytes_sent{0}, udp_send_errors{0}, tcp_messages_received{0}, tcp_bytes_received{0},
        tcp_messages_sent{0}, tcp_bytes_sent{0}, tcp_exchange_failures{0},
        tcp_connections_refused{0}, refused_decrypt{0}, refused_decode{0}, refused_core{0};
  } counters;

  explicit Impl(Options o) : options(std::move(o)) {
    core::SystemRand rand;
    options.vivaldi.seed = rand.next_u64();
    coordinates.emplace(options.vivaldi);
    // No keyring is a keyring without keys: plaintext out, plaintext in, and a sealed frame
    // refused as one we cannot open rather than as a malformed one.
    if (!options.keyring) options.keyring = std::make_shared<const Keyring>();
  }

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) {
    c.fetch_add(by, std::memory_order_relaxed);
  }

  // Runs `fn` on the I/O thread and waits for its result.
  template <typename F>
  auto call(F&& fn) -> decltype(fn()) {
    PC_ASSERT(std::this_thread::get_id() != thread.get_id(),
              "gossip pool: a blocking call from its own I/O thread (an event callback?)");
    std::packaged_task<decltype(fn())()> task(std::forward<F>(fn));
    auto result = task.get_future();
    asio::post(io->ioc, [&task] { task(); });
    return result.get();
  }

  // ---- I/O thread ----

  // Opens, decodes and hands one frame to the core; false when any stage refused it.
  bool deliver(const std::string& from, Channel channel, std::string_view bytes) {
    auto frame = options.keyring->incoming(bytes);
    if (!frame) {
      bump(counters.refused_decrypt);
      warn_refused_decrypt(from, frame.error().message);
      return false;
    }
    auto messages = decode_packet(*frame, channel);
    if (!messages) {
      bump(counters.refused_decode);
      core::log::debug(kLogModule, "refusing {} bytes from {}: {}", bytes.size(), from,
                       messages.error().message);
      return false;
    }
    received_us = now_us();
    auto status = core->receive(from, channel, *messages, now_ms());
    if (!status) {
      bump(counters.refused_core);
      core::log::debug(kLogModule, "refusing a packet from {}: {}", from, status.error().message);
      return false;
    }
    drain(nullptr);
    return true;
  }

  // A frame we cannot open is most often an agent with another key (or none): worth a
  // warning that names it, at most once a minute per IP (refusal_warnings.h).
  void warn_refused_decrypt(const std::string& from, const std::string& why) {
    const auto due = decrypt_warnings.refused(from, now_ms());
    if (!due) {
      core::log::debug(kLogModule, "refusing a frame from {}: {}", from, why);
      return;
    }
    core::log::warn(kLogModule,
                    "failed to decrypt a frame from {}: {} (is its encrypt key one of ours?){}",
                    from, why,
                    *due > 0 ? fmt::format("; {} more from that IP since the last warning", *due)
                             : std::string());
  }

  // Carries out the core's Ready: packets out, events to the owner. Join push-pulls started
  // by join() carry `batch`, so it learns which answered.
  void drain(const std::shared_ptr<JoinBatch>& batch) {
    // Answering a query makes more to send: go round until the core has nothing left.
    while (core->has_ready()) drain_once(batch);
  }

  // The owner's code runs here: an exception from it must not end the loop that called it.
  template <typename F>
  void guarded(std::string_view what, F&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      core::log::error(kLogModule, "{} callback threw: {}", what, e.what());
    } catch (...) {
      core::log::error(kLogModule, "{} callback threw", what);
    }
  }

  void finish_query(QueryId id) {
    auto it = collecting.find(id);
    if (it == collecting.end()) return;
    Collecting c = std::move(it->second);
    collecting.erase(it);
    guarded("query", [&] { c.done(std::move(c.responses)); });
  }

  void deliver_user_messages(Ready& ready) {
    for (const UserEvent& e : ready.user_events) {
      core::log::debug(kLogModule, "user event {} at {}", e.name, e.ltime);
      if (options.on_user_event) guarded("user event", [&] { options.on_user_event(e); });
    }
    for (const QueryRequest& q : ready.queries) {
      if (!options.on_query) continue;
      std::optional<std::string> answer;
      guarded("query", [&] { answer = options.on_query(q); });
      if (!answer) continue;
      if (auto s = core->respond(q, std::move(*answer), now_ms()); !s) {
        core::log::debug(kLogModule, "not answering query {} from {}: {}", q.name, q.origin,
                         s.error().message);
      }
    }
    for (QueryResponse& r : ready.query_responses) {
      const QueryId id = r.id;
      auto it = collecting.find(id);
      if (it == collecting.end()) continue;
      it->second.responses.push_back(std::move(r));
      if (it->second.expected != 0 && it->second.responses.size() >= it->second.expected) {
        finish_query(id);
      }
    }
    for (QueryId id : ready.queries_done) finish_query(id);
  }

  void drain_once(const std::shared_ptr<JoinBatch>& batch) {
    Ready ready = core->take_ready();
    for (Packet& packet : ready.packets) {
      const bool is_join =
          batch != nullptr && packet.channel == Channel::kTcp && !packet.messages.empty() &&
          packet.messages.front().kind == MessageKind::kPushPull && packet.messages.front().join;
      send(packet, is_join ? batch : nullptr);
    }
    // Each direct ack with a coordinate moves ours; acks come only from a received packet,
    // whose arrival time deliver() noted.
    for (const AckSample& sample : ready.ack_samples) {
      if (auto moved = coordinates->on_ack(sample, received_us)) {
        (void)core->set_coordinate(std::move(*moved));
      }
    }
    for (const Event& event : ready.events) {
      if (event.kind == EventKind::kLeave) coordinates->forget(event.member.name);
      core::log::debug(kLogModule, "member {} {}: {}", event.member.name,
                       event_kind_name(event.kind), event.member.addr);
      if (options.on_event) guarded("event", [&] { options.on_event(event); });
    }
    for (const std::string& name : ready.forgotten) coordinates->forget(name);
    deliver_user_messages(ready);
  }

  void send(const Packet& packet, std::shared_ptr<JoinBatch> batch) {
    auto frame = options.keyring->outgoing(encode_packet(packet.messages));
    if (!frame) {
      // Only a keyring emptied of keys under verify_outgoing; nothing to send with.
      core::log::warn(kLogModule, "not sending to {}: {}", packet.to, frame.error().message);
      return;
    }
    if (packet.channel == Channel::kTcp) {
      if (auto it = inbound.find(packet.to); it != inbound.end()) {
        it->second->frames.push_back(std::move(*frame));
        return;
      }
      const bool is_ping =
          !packet.messages.empty() && packet.messages.front().kind == MessageKind::kPing;
      asio::co_spawn(io->ioc,
                     exchange(packet.to, std::move(*frame), timeout_for(is_ping), std::move(batch)),
                     [](std::exception_ptr e) {
                       core::log::exception(kLogModule, "gossip tcp exchange", std::move(e));
                     });
      return;
    }
    for (const Message& m : packet.messages) {
      if (m.kind == MessageKind::kPing) coordinates->ping_sent(m.seq, now_us());
    }
    send_datagram(packet.to, std::make_shared<std::string>(std::move(*frame)));
  }

  // A TCP ping is worth waiting for until its probe's deadline: the rest of the probe
  // interval after the probe timeout, both scaled by our health as the core scales them.
  std::chrono::milliseconds timeout_for(bool is_ping) const {
    if (!is_ping) return options.tcp_timeout;
    const Config& c = core->config();
    const auto scale = static_cast<std::uint64_t>(core->health_score() + 1);
    const std::uint64_t window = (c.probe_interval_ms - c.probe_timeout_ms) * scale;
    return std::min(options.tcp_timeout,
                    std::chrono::milliseconds(std::max<std::uint64_t>(window, 1)));
  }

  void send_datagram(const std::string& to, std::shared_ptr<std::string> bytes) {
    auto parsed = parse_address(to);
    if (!parsed) {
      bump(counters.udp_send_errors);
      core::log::debug(kLogModule, "not sending to \"{}\": not an ip:port", to);
      return;
    }
    const udp::endpoint endpoint(parsed->first, parsed->second);
    io->udp_socket.async_send_to(
        asio::buffer(*bytes), endpoint, [this, bytes, to](error_code ec, std::size_t n) {
          if (ec) {
            bump(counters.udp_send_errors);
            core::log::debug(kLogModule, "send to {}: {}", to, ec.message());
            return;
          }
          bump(counters.udp_packets_sent);
          bump(counters.udp_bytes_sent, n);
        });
  }

  // One outbound TCP message and its reply (push-pull or TCP ping).
  asio::awaitable<void> exchange(std::string to, std::string frame,
                                 std::chrono::milliseconds timeout,
                                 std::shared_ptr<JoinBatch> batch) {
    auto fail = [&](std::string_view why) {
      bump(counters.tcp_exchange_failures);
      core::log::debug(kLogModule, "tcp exchange with {}: {}", to, why);
    };
    auto parsed = parse_address(to);
    if (!parsed) {
      fail("not an ip:port");
      co_return;
    }
    auto socket = std::make_shared<tcp::socket>(io->ioc);
    asio::steady_timer deadline(io->ioc);
    deadline.expires_after(timeout);
    deadline.async_wait([socket](error_code ec) {
      if (!ec) socket->close(ec);
    });
    auto [cec] =
        co_await socket->async_connect(tcp::endpoint(parsed->first, parsed->second), kUseTuple);
    if (cec) {
      fail("connect: " + cec.message());
      co_return;
    }
    const std::string wire = length_prefixed(frame);
    auto [wec, written] = co_await asio::async_write(*socket, asio::buffer(wire), kUseTuple);
    if (wec) {
      fail("write: " + wec.message());
      co_return;
    }
    bump(counters.tcp_messages_sent);
    bump(counters.tcp_bytes_sent, written);
    std::string why;
    bool closed = false;
    auto reply = co_await read_frame(*socket, why, &closed);
    deadline.cancel();
    if (!reply) {
      fail("read: " + why);
      // A member that read our frame and hung up without a word refused it: another key, or
      // plaintext against its encrypt_verify_incoming (or a frame it could not decode).
      if (closed && batch) ++batch->outcome.refused;
      co_return;
    }
    bump(counters.tcp_messages_received);
    bump(counters.tcp_bytes_received, reply->size() + kTcpLengthPrefixSize);
    if (!core) co_return;
    const std::uint64_t refused_before = counters.refused_decrypt.load();
    const bool delivered = deliver(to, Channel::kTcp, *reply);
    if (!batch) co_return;
    if (delivered) {
      ++batch->outcome.answered;
    } else if (counters.refused_decrypt.load() != refused_before) {
      ++batch->outcome.refused;  // its answer is sealed with a key we lack
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    auto shared = std::make_shared<tcp::socket>(std::move(socket));
    error_code ec;
    const std::string peer = endpoint_text(shared->remote_endpoint(ec));
    asio::steady_timer deadline(io->ioc);
    deadline.expires_after(options.tcp_timeout);
    deadline.async_wait([shared](error_code e) {
      if (!e) shared->close(e);
    });
    std::string why;
    auto frame = co_await read_frame(*shared, why);
    if (!frame) {
      core::log::debug(kLogModule, "tcp from {}: {}", peer, why);
      --inbound_open;
      co_return;
    }
    bump(counters.tcp_messages_received);
    bump(counters.tcp_bytes_received, frame->size() + kTcpLengthPrefixSize);
    InboundReply reply;
    inbound[peer] = &reply;
    deliver(peer, Channel::kTcp, *frame);
    inbound.erase(peer);
    for (const std::string& out : reply.frames) {
      const std::string wire = length_prefixed(out);
      auto [wec, written] = co_await asio::async_write(*shared, asio::buffer(wire), kUseTuple);
      if (wec) {
        core::log::debug(kLogModule, "tcp reply to {}: {}", peer, wec.message());
        break;
      }
      bump(counters.tcp_messages_sent);
      bump(counters.tcp_bytes_sent, written);
    }
    --inbound_open;
    shared->close(ec);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await io->acceptor.async_accept(kUseTuple);
      if (ec == asio::error::operation_aborted || !io->acceptor.is_open()) co_return;
      if (ec) {
        core::log::debug(kLogModule, "accept: {}", ec.message());
        continue;
      }
      if (inbound_open >= options.tcp_connections_max) {
        bump(counters.tcp_connections_refused);
        error_code ignored;
        socket.close(ignored);
        continue;
      }
      ++inbound_open;
      asio::co_spawn(io->ioc, serve(std::move(socket)), [](std::exception_ptr e) {
        core::log::exception(kLogModule, "gossip tcp connection", std::move(e));
      });
    }
  }

  asio::awaitable<void> udp_loop() {
    for (;;) {
      auto [ec, n] = co_await io->udp_socket.async_receive_from(asio::buffer(io->udp_buffer),
                                                                io->udp_from, kUseTuple);
      if (ec == asio::error::operation_aborted || !io->udp_socket.is_open()) co_return;
      if (ec) {
        // ICMP errors (port unreachable from an earlier send) surface here on Linux.
        core::log::debug(kLogModule, "udp receive: {}", ec.message());
        continue;
      }
      bump(counters.udp_packets_received);
      bump(counters.udp_bytes_received, n);
      deliver(endpoint_text(io->udp_from), Channel::kUdp,
              std::string_view(io->udp_buffer.data(), n));
    }
  }

  asio::awaitable<void> tick_loop() {
    for (;;) {
      const std::uint64_t now = now_ms();
      core->tick(now);
      drain(nullptr);
      if (leave_done && core->leave_broadcast_done()) {
        leave_done->set_value();
        leave_done.reset();
      }
      const std::uint64_t next = core->next_deadline_ms();
      const std::uint64_t wait =
          std::clamp<std::uint64_t>(next > now ? next - now : 0, 1, kTickMaxMs);
      io->ticker.expires_after(std::chrono::milliseconds(wait));
      auto [ec] = co_await io->ticker.async_wait(kUseTuple);
      if (ec) co_return;
    }
  }

  template <typename Socket>
  core::Status bind_socket(Socket& socket, const typename Socket::endpoint_type& endpoint,
                           std::string_view what) {
    error_code ec;
    auto fail = [&](std::string_view op) {
      return core::make_error(core::Code::kIoError, "gossip: listen " + std::string(what) + " " +
                                                        endpoint_text(endpoint) + ": " +
                                                        std::string(op) + ": " + ec.message());
    };
    if (socket.open(endpoint.protocol(), ec); ec) return fail("socket");
    if (socket.set_option(asio::socket_base::reuse_address(true), ec); ec) {
      return fail("setsockopt");
    }
    if (socket.bind(endpoint, ec); ec) return fail("bind");
    return core::ok();
  }
};

Pool::Pool(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Pool::~Pool() {
  stop();
}

core::Result<std::uint16_t> Pool::start() {
  Impl& s = *impl_;
  PC_ASSERT(!s.started, "gossip Pool::start called twice");
  error_code ec;
  const auto ip = asio::ip::make_address(s.options.bind_ip, ec);
  if (ec) {
    return core::make_error(core::Code::kInvalidArgument,
                            "gossip: bind address \"" + s.options.bind_ip + "\": not an IP");
  }
  if (s.options.config.addr.empty() && ip.is_unspecified()) {
    return core::make_error(
        core::Code::kInvalidArgument,
        "gossip: binding " + s.options.bind_ip + " needs an address to advertise (config.addr)");
  }
  // TCP first: with port 0 the kernel picks its port, and UDP takes the same one; when that
  // UDP port is taken, another pick.
  const int attempts = s.options.port == 0 ? kBindAttempts : 1;
  core::Status bound = core::ok();
  for (int i = 0; i < attempts; ++i) {
    s.io = std::make_unique<Impl::Io>();
    bound = s.bind_socket(s.io->acceptor, tcp::endpoint(ip, s.options.port), "tcp");
    if (!bound) break;
    s.port = s.io->acceptor.local_endpoint(ec).port();
    bound = s.bind_socket(s.io->udp_socket, udp::endpoint(ip, s.port), "udp");
    if (bound) break;
  }
  if (bound && (s.io->acceptor.listen(asio::socket_base::max_listen_connections, ec), ec)) {
    bound = core::make_error(core::Code::kIoError, "gossip: listen: " + ec.message());
  }
  if (!bound) {
    s.io.reset();
    return bound.error();
  }
  Config config = s.options.config;
  if (config.addr.empty()) config.addr = endpoint_text(tcp::endpoint(ip, s.port));
  core::SystemRand rand;
  config.seed = rand.next_u64();
  if (auto valid = validate(config); !valid) {
    s.io.reset();
    return valid.error();
  }
  s.address = config.addr;
  s.core.emplace(std::move(config), now_ms());
  // Our acks carry our coordinate from the start (serf's ping delegate always sends it):
  // without one on theirs, nobody's probes would ever yield a sample.
  (void)s.core->set_coordinate(s.coordinates->coordinate());
  s.started = true;
  s.running = true;
  s.io->work.emplace(s.io->ioc.get_executor());
  auto log_end = [](std::string_view what) {
    return [what](std::exception_ptr e) { core::log::exception(kLogModule, what, std::move(e)); };
  };
  asio::co_spawn(s.io->ioc, s.tick_loop(), log_end("gossip ticker"));
  asio::co_spawn(s.io->ioc, s.udp_loop(), log_end("gossip udp reader"));
  asio::co_spawn(s.io->ioc, s.accept_loop(), log_end("gossip tcp acceptor"));
  s.thread = std::thread([&s] {
    core::set_thread_name("pc-gossip");
    core::run_io_loop(s.io->ioc, kLogModule);
  });
  core::log::debug(kLogModule, "{} gossiping on {} (udp and tcp)", s.core->name(), s.address);
  return s.port;
}

std::size_t Pool::join(const std::vector<std::string>& addrs) {
  return join_outcome(addrs).answered;
}

Pool::JoinOutcome Pool::join_outcome(const std::vector<std::string>& addrs) {
  Impl& s = *impl_;
  if (!s.running || addrs.empty()) return {};
  auto outcome = s.call([&s, &addrs] {
    auto batch = std::make_shared<JoinBatch>();
    auto future = batch->done.get_future();
    s.core->join(addrs, now_ms());
    s.drain(batch);
    return future;  // ready when the last exchange holding `batch` finished
  });
  return outcome.get();
}

core::Status Pool::leave(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (!s.running) return core::make_error(core::Code::kUnavailable, "gossip: not running");
  auto done = s.call([&s] {
    s.leave_done.emplace();
    auto future = s.leave_done->get_future();
    // Alone, there is nobody to tell (memberlist's Leave does not wait then either).
    const bool alone = s.core->live_count() <= 1;
    s.core->leave(now_ms());
    s.drain(nullptr);
    if (alone) {
      s.leave_done->set_value();
      s.leave_done.reset();
    }
    return future;
  });
  const bool in_time = done.wait_for(timeout) == std::future_status::ready;
  stop();
  if (!in_time) {
    return core::make_error(core::Code::kTimeout,
                            "gossip: the leave was not fully broadcast before stopping");
  }
  return core::ok();
}

void Pool::stop() {
  Impl& s = *impl_;
  if (!s.running) return;
  PC_ASSERT(std::this_thread::get_id() != s.thread.get_id(), "gossip Pool::stop on its I/O thread");
  s.running = false;
  s.io->work.reset();
  s.io->ioc.stop();
  s.thread.join();
  // The I/O thread is gone: close from here, then destroy what is left of the coroutines.
  error_code ignored;
  s.io->udp_socket.close(ignored);
  s.io->acceptor.close(ignored);
  s.inbound.clear();
  s.leave_done.reset();
  // Queries still collecting end with what they have: the pool is gone.
  for (auto& [id, c] : s.collecting) c.done(std::move(c.responses));
  s.collecting.clear();
  s.io.reset();
  core::log::debug(kLogModule, "{} stopped", s.core->name());
}

std::vector<MemberInfo> Pool::members() const {
  Impl& s = *impl_;
  if (!s.running) return {};
  return s.call([&s] { return s.core->members(); });
}

core::Status Pool::set_meta(std::string meta) {
  Impl& s = *impl_;
  if (!s.running) return core::make_error(core::Code::kUnavailable, "gossip: not running");
  return s.call([&s, &meta]() -> core::Status {
    auto status = s.core->set_meta(std::move(meta), now_ms());
    s.drain(nullptr);
    return status;
  });
}

core::Result<MemberState> Pool::force_leave(const std::string& name, bool prune) {
  Impl& s = *impl_;
  if (!s.running) return core::make_error(core::Code::kUnavailable, "gossip: not running");
  return s.call([&s, &name, prune] {
    auto state = s.core->force_leave(name, prune, now_ms());
    s.drain(nullptr);
    return state;
  });
}

core::Result<LamportTime> Pool::fire_event(std::string name, std::string payload) {
  Impl& s = *impl_;
  if (!s.running) return core::make_error(core::Code::kUnavailable, "gossip: not running");
  return s.call([&s, &name, &payload]() -> core::Result<LamportTime> {
    auto ltime = s.core->fire_event(std::move(name), std::move(payload), now_ms());
    s.drain(nullptr);
    return ltime;
  });
}

void Pool::query_async(std::string name, std::string payload, std::chrono::milliseconds timeout,
                       std::uint32_t relay_factor, std::size_t expected_responses, QueryDone done) {
  Impl& s = *impl_;
  if (!s.running) {
    done(core::make_error(core::Code::kUnavailable, "gossip: not running"));
    return;
  }
  asio::post(s.io->ioc, [&s, name = std::move(name), payload = std::move(payload), timeout,
                         relay_factor, expected_responses, done = std::move(done)]() mutable {
    auto started =
        s.core->query(std::move(name), std::move(payload),
                      static_cast<std::uint64_t>(std::max<std::int64_t>(timeout.count(), 0)),
                      relay_factor, now_ms());
    if (!started) {
      s.guarded("query", [&] { done(started.error()); });
      return;
    }
    s.collecting[started->id] = Impl::Collecting{{}, expected_responses, std::move(done)};
    s.drain(nullptr);
  });
}

core::Result<std::vector<QueryResponse>> Pool::query(std::string name, std::string payload,
                                                     std::chrono::milliseconds timeout,
                                                     std::uint32_t relay_factor,
                                                     std::size_t expected_responses) {
  PC_ASSERT(std::this_thread::get_id() != impl_->thread.get_id(),
            "gossip Pool::query from its own I/O thread");
  auto result = std::make_shared<std::promise<core::Result<std::vector<QueryResponse>>>>();
  auto future = result->get_future();
  query_async(
      std::move(name), std::move(payload), timeout, relay_factor, expected_responses,
      [result](core::Result<std::vector<QueryResponse>> r) { result->set_value(std::move(r)); });
  return future.get();
}

std::size_t Pool::live_count() const {
  Impl& s = *impl_;
  if (!s.running) return 0;
  return s.call([&s] { return s.core->live_count(); });
}

std::chrono::milliseconds Pool::default_query_timeout() const {
  Impl& s = *impl_;
  if (!s.running) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(s.call([&s] { return s.core->default_query_timeout_ms(); }));
}

const std::string& Pool::address() const {
  return impl_->address;
}
std::uint16_t Pool::port() const {
  return impl_->port;
}
const std::string& Pool::name() const {
  return impl_->options.config.name;
}

Pool::Stats Pool::stats() const {
  const auto& c = impl_->counters;
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  Stats out;
  out.udp_packets_received = get(c.udp_packets_received);
  out.udp_bytes_received = get(c.udp_bytes_received);
  out.udp_packets_sent = get(c.udp_packets_sent);
  out.udp_bytes_sent = get(c.udp_bytes_sent);
  out.udp_send_errors = get(c.udp_send_errors);
  out.tcp_messages_received = get(c.tcp_messages_received);
  out.tcp_bytes_received = get(c.tcp_bytes_received);
  out.tcp_messages_sent = get(c.tcp_messages_sent);
  out.tcp_bytes_sent = get(c.tcp_bytes_sent);
  out.tcp_exchange_failures = get(c.tcp_exchange_failures);
  out.tcp_connections_refused = get(c.tcp_connections_refused);
  out.refused_decrypt = get(c.refused_decrypt);
  out.refused_decode = get(c.refused_decode);
  out.refused_core = get(c.refused_core);
  return out;
}

Coordinate Pool::coordinate() const {
  return impl_->coordinates->coordinate();
}

std::map<std::string, Coordinate> Pool::member_coordinates() const {
  return impl_->coordinates->member_coordinates();
}

std::optional<Pool::SerfStats> Pool::serf_stats() const {
  Impl& s = *impl_;
  if (!s.running) return std::nullopt;
  SerfStats out = s.call([&s] {
    const Memberlist& m = *s.core;
    SerfStats st;
    st.members = m.member_count();
    st.failed = m.count_in_state(MemberState::kDead);
    st.left = m.count_in_state(MemberState::kLeft);
    st.health_score = m.health_score();
    st.event_time = m.event_time();
    st.query_time = m.query_time();
    st.intent_queue = m.queued_broadcasts(MessageKind::kAlive) +
                      m.queued_broadcasts(MessageKind::kSuspect) +
                      m.queued_broadcasts(MessageKind::kDead);
    st.event_queue = m.queued_broadcasts(MessageKind::kUserEvent);
    st.query_queue = m.queued_broadcasts(MessageKind::kQuery);
    return st;
  });
  out.encrypted = s.options.keyring->has_keys();
  out.coordinate_resets = s.coordinates->stats().resets;
  return out;
}

gossip::Stats Pool::core_stats() const {
  Impl& s = *impl_;
  if (!s.running) return {};
  return s.call([&s] { return s.core->stats(); });
}

}  // namespace pc::gossip
