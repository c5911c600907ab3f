// The RPC server and client over TCP: see transport.h. The module's only Boost.Asio TU.
//
// Shape: every connection (Conn) lives on its own strand and runs up to three coroutines on
// it: a reader (bytes -> FrameDecoder -> on_frame), a writer (drains the connection's queue of
// encoded frames, batching small ones into one write) and a timer task (the server's idle
// watchdog, the client's keepalive). All of a connection's state is touched only on its
// strand, so it needs no lock. The client keeps one Peer per destination on a strand of its
// own; a Peer's connections share that strand, so calls, timeouts and responses of one
// destination are serialised without locks too.
#include "rpc/transport.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/assert.h"
#include "core/io_loop.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/strings.h"

namespace pc::rpc {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Executor = asio::any_io_executor;
using Clock = std::chrono::steady_clock;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kLogModule = "rpc";
// Bytes asked of the stream per read: large enough that a burst of Raft appends is one read.
constexpr std::size_t kReadChunkSize = 64 * 1024;
// Small frames queued together are written as one buffer up to this size: one syscall for a
// burst of messages, while a large frame is written on its own without another copy.
constexpr std::size_t kWriteBatchSize = 256 * 1024;
constexpr auto kAcceptErrorBackoff = std::chrono::milliseconds(50);
// stop() waits this long for connection coroutines to finish after closing them; they finish
// as soon as their stream operations complete, which close() makes prompt.
constexpr auto kStopTasksWait = std::chrono::seconds(5);
// How long the redial that tells a dead peer process from a broken connection may take: a
// refusal comes back within a round trip; anything slower is not the answer it looks for.
constexpr auto kGoneProbeTimeout = std::chrono::seconds(1);
constexpr int kGoneProbeAttempts = 4;
constexpr auto kGoneProbeSpacing = std::chrono::milliseconds(25);

// Completion of a top-level coroutine (core::log::exception).
void log_exception(std::string_view what, std::exception_ptr e) {
  core::log::exception(kLogModule, what, std::move(e));
}

std::string endpoint_text(const tcp::endpoint& e) {
  if (e.address().is_v6()) return "[" + e.address().to_string() + "]:" + std::to_string(e.port());
  return e.address().to_string() + ":" + std::to_string(e.port());
}

long long millis(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// "10.0.0.2:8300" or "[fd00::2]:8300" to an endpoint; IP literals only (servers address each
// other by IP, as Consul's Raft does), so a call never waits on a resolver.
core::Result<tcp::endpoint> parse_address(const std::string& address) {
  std::string host;
  std::string port_text;
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find("]:");
    if (close == std::string::npos) {
      return core::make_error(core::Code::kInvalidArgument,
                              "rpc: bad address \"" + address + "\": want [ip6]:port");
    }
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || address.find(':') != colon) {
      return core::make_error(core::Code::kInvalidArgument,
                              "rpc: bad address \"" + address + "\": want ip:port");
    }
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  unsigned port = 0;
  const auto [end, err] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec || err != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return core::make_error(core::Code::kInvalidArgument,
                            "rpc: bad address \"" + address + "\": want ip:port");
  }
  return tcp::endpoint(ip, static_cast<std::uint16_t>(port));
}

// Counts coroutines and posted shutdown steps so stop() can wait until they have ended.
class TaskCount {
 public:
  void add() {
    std::lock_guard lock(mu_);
    ++count_;
  }
  void done() {
    std::lock_guard lock(mu_);
    if (--count_ == 0) cv_.notify_all();
  }
  bool wait_zero(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t count_ = 0;
};

void spawn(TaskCount& tasks, Executor executor, asio::awaitable<void> task, const char* what) {
  tasks.add();
  asio::co_spawn(executor, std::move(task), [&tasks, what](std::exception_ptr e) {
    log_exception(what, e);
    tasks.done();
  });
}

// ---- The stream seam ----------------------------------------------------------------------

core::Error stream_error(const error_code& ec) {
  if (ec == asio::error::eof) return core::make_error(core::Code::kUnavailable, "end of stream");
  return core::make_error(core::Code::kUnavailable, ec.message());
}

// Plain TCP: the socket's executor is the connection's strand, so completions land there.
class TcpStream final : public Stream {
 public:
  explicit TcpStream(tcp::socket socket) : socket_(std::move(socket)) {}

  void read_some(std::span<std::uint8_t> buffer, Done done) override {
    socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                            [done = std::move(done)](const error_code& ec, std::size_t n) {
                              if (ec) return done(stream_error(ec));
                              done(n);
                            });
  }
  void write(std::span<const std::uint8_t> bytes, Done done) override {
    asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                      [done = std::move(done)](const error_code& ec, std::size_t n) {
                        if (ec) return done(stream_error(ec));
                        done(n);
                      });
  }
  void close() override {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  tcp::socket socket_;
};

using IoSignature = void(std::optional<core::Error>, std::size_t);

// One Stream operation as something a coroutine can co_await: `start(done)` begins it, and
// the completion, from whatever thread the Stream calls back on, is posted to the awaiting
// coroutine's executor (the connection's strand).
template <typename Start, typename Token>
auto stream_io(Start start, Token&& token) {
  return asio::async_initiate<Token, IoSignature>(
      [start = std::move(start)](auto handler) {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        auto executor = asio::get_associated_executor(*shared);
        start([shared, executor](core::Result<std::size_t> result) {
          std::optional<core::Error> error;
          std::size_t n = 0;
          if (result) {
            n = *result;
          } else {
            error = result.error();
          }
          asio::post(executor, [shared, error = std::move(error), n]() mutable {
            (*shared)(std::move(error), n);
          });
        });
      },
      token);
}

core::Result<std::unique_ptr<Stream>> wrap(const StreamWrapper& wrapper, tcp::socket socket,
                                           bool client, const std::string& peer) {
  std::unique_ptr<Stream> stream = std::make_unique<TcpStream>(std::move(socket));
  if (!wrapper) return core::Result<std::unique_ptr<Stream>>(std::move(stream));
  return wrapper(std::move(stream), client, peer);
}

// ---- One connection, either side ------------------------------------------------------------

// A frame waiting to be written, and what it counts as once written (or lost).
struct OutFrame {
  std::string bytes;
  bool response = false;  // kResponse or kError: a request's answer (server drain)
  bool message = false;   // kMessage (client drop counting)
};

struct Conn : std::enable_shared_from_this<Conn> {
  Conn(Executor strand, std::unique_ptr<Stream> s, std::string remote, std::uint32_t payload_max)
      : executor(strand),
        stream(std::move(s)),
        peer(std::move(remote)),
        decoder(payload_max, /*expect_preamble=*/true),
        wake(strand),
        timer(strand),
        last_recv(Clock::now()),
        last_send(Clock::now()) {}

  Executor executor;  // a strand: everything below is touched only on it
  std::unique_ptr<Stream> stream;
  std::string peer;
  FrameDecoder decoder;
  std::deque<OutFrame> out;
  asio::steady_timer wake;   // the writer sleeps on it; enqueue() cancels it
  asio::steady_timer timer;  // idle watchdog (server) or keepalive (client)
  Clock::time_point last_recv;
  Clock::time_point last_send;
  bool closed = false;
  bool handshake_done = false;  // the peer's preamble has been read
  std::size_t in_flight = 0;    // server: requests handed to handlers, not yet answered
  std::uint64_t ping_nonce = 0;

  // Hooks set by the owner (server or client peer), run on the strand.
  std::function<void(Conn&, Frame)> on_frame;
  std::function<void(Conn&)> on_handshake;
  // Frames the writer finished with: written (ok) or lost with the connection (!ok).
  std::function<void(std::size_t responses, std::size_t messages, bool ok)> on_written;
  std::function<void(Conn&, const std::string& reason)> on_close;
  // Client: whether calls on this connection wait for their answers (the keepalive watches
  // such a connection for silence, RpcClient::Options::silence_timeout).
  std::function<bool()> awaiting_answers;
};

void account(Conn& c, const std::deque<OutFrame>& frames, bool ok) {
  std::size_t responses = 0;
  std::size_t messages = 0;
  for (const auto& f : frames) {
    responses += f.response ? 1 : 0;
    messages += f.message ? 1 : 0;
  }
  if ((responses || messages) && c.on_written) c.on_written(responses, messages, ok);
}

// Queues a frame for the writer; false (and the frame accounted as lost) once closed.
bool enqueue(Conn& c, OutFrame frame) {
  if (c.closed) {
    account(c, std::deque<OutFrame>{std::move(frame)}, false);
    return false;
  }
  c.out.push_back(std::move(frame));
  c.wake.cancel();
  return true;
}

OutFrame make_out(const Frame& frame) {
  OutFrame out;
  out.bytes = encode_frame(frame);
  out.response = frame.kind == FrameKind::kResponse || frame.kind == FrameKind::kError;
  out.message = frame.kind == FrameKind::kMessage;
  return out;
}

void close_conn(Conn& c, const std::string& reason) {
  if (c.closed) return;
  c.closed = true;
  c.stream->close();
  c.wake.cancel();
  c.timer.cancel();
  auto unsent = std::move(c.out);
  c.out.clear();
  account(c, unsent, false);
  // The hooks stay set: close_conn may run inside on_frame, which must not be destroyed while
  // it runs. The client's Peer -> Conn -> hook -> Peer cycle is broken by the Peer dropping
  // its `conn` in on_close.
  if (c.on_close) c.on_close(c, reason);
}

asio::awaitable<void> write_loop(std::shared_ptr<Conn> c) {
  std::string batch;
  while (!c->closed) {
    if (c->out.empty()) {
      c->wake.expires_at(Clock::time_point::max());
      co_await c->wake.async_wait(kUseTuple);
      continue;
    }
    std::deque<OutFrame> taken;
    batch.clear();
    if (c->out.front().bytes.size() >= kWriteBatchSize) {
      batch.swap(c->out.front().bytes);
      taken.push_back(std::move(c->out.front()));
      c->out.pop_front();
    } else {
      while (!c->out.empty() && batch.size() + c->out.front().bytes.size() <= kWriteBatchSize) {
        batch += c->out.front().bytes;
        taken.push_back(std::move(c->out.front()));
        c->out.pop_front();
      }
    }
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(batch.data()),
                                              batch.size());
    Stream* stream = c->stream.get();
    auto [error, n] = co_await stream_io(
        [stream, bytes](Stream::Done done) { stream->write(bytes, std::move(done)); },
        asio::use_awaitable);
    (void)n;
    account(*c, taken, !error);
    if (error) {
      close_conn(*c, "write: " + error->message);
      break;
    }
    c->last_send = Clock::now();
  }
}

asio::awaitable<void> read_loop(std::shared_ptr<Conn> c) {
  std::vector<std::uint8_t> buffer(kReadChunkSize);
  while (!c->closed) {
    Stream* stream = c->stream.get();
    const std::span<std::uint8_t> into(buffer);
    auto [error, n] = co_await stream_io(
        [stream, into](Stream::Done done) { stream->read_some(into, std::move(done)); },
        asio::use_awaitable);
    if (c->closed) break;
    if (error) {
      close_conn(*c, error->message);
      break;
    }
    c->last_recv = Clock::now();
    c->decoder.feed(std::span<const std::uint8_t>(buffer.data(), n));
    for (;;) {
      auto frame = c->decoder.next();
      if (!frame) {
        close_conn(*c, frame.error().message);
        co_return;
      }
      if (!c->handshake_done && c->decoder.preamble_done()) {
        c->handshake_done = true;
        if (c->on_handshake) c->on_handshake(*c);
        if (c->closed) co_return;
      }
      if (!*frame) break;
      if (c->on_frame) c->on_frame(*c, std::move(**frame));
      if (c->closed) co_return;
    }
  }
}

// Server: closes a connection that has sent nothing for `idle`.
asio::awaitable<void> idle_watchdog(std::shared_ptr<Conn> c, std::chrono::milliseconds idle) {
  while (!c->closed) {
    c->timer.expires_at(c->last_recv + idle);
    co_await c->timer.async_wait(kUseTuple);
    if (c->closed) break;
    if (Clock::now() >= c->last_recv + idle) {
      close_conn(*c, "idle for " + std::to_string(idle.count()) + "ms");
    }
  }
}

struct KeepaliveTimes {
  std::chrono::milliseconds interval;  // ping after this long without writing
  std::chrono::milliseconds timeout;   // close after this long without hearing anything
  std::chrono::milliseconds silence;   // with calls waiting: close sooner (0: off)
};

void send_ping(Conn& c) {
  Frame ping;
  ping.kind = FrameKind::kPing;
  ping.stream_id = ++c.ping_nonce;
  enqueue(c, make_out(ping));
}

// Client: pings when nothing was written for `interval`; closes when nothing was heard for
// `timeout`. While calls wait for answers and `silence` is set, a connection quiet for a
// third of it is pinged, and one that stays quiet for all of it is closed: a peer that answers
// nothing, not even a ping, is gone (a partition, a frozen host), and its callers learn it in
// seconds instead of at their own timeouts. A live peer answers the pings however long its
// handler takes, so a slow call is never cut short this way.
asio::awaitable<void> keepalive(std::shared_ptr<Conn> c, KeepaliveTimes t) {
  auto tick = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(1),
                                                  std::min(t.interval, t.timeout) / 2);
  if (t.silence.count() > 0) {
    tick = std::min(
        tick, std::max<std::chrono::milliseconds>(std::chrono::milliseconds(1), t.silence / 8));
  }
  // When the connection was first seen with calls waiting: silence counts from there, so a
  // call on a connection idle for long (pings aside) is not taken for one already unanswered.
  std::optional<Clock::time_point> busy_since;
  while (!c->closed) {
    c->timer.expires_after(tick);
    co_await c->timer.async_wait(kUseTuple);
    if (c->closed) break;
    const auto now = Clock::now();
    if (now - c->last_recv >= t.timeout) {
      close_conn(
          *c, "keepalive: nothing heard for " + std::to_string(millis(now - c->last_recv)) + "ms");
      break;
    }
    const bool busy = t.silence.count() > 0 && c->awaiting_answers && c->awaiting_answers();
    if (!busy) {
      busy_since.reset();
    } else {
      if (!busy_since) busy_since = now;
      const auto quiet = now - std::max(c->last_recv, *busy_since);
      if (quiet >= t.silence) {
        close_conn(*c, "no answer: nothing heard for " + std::to_string(millis(quiet)) +
                           "ms while calls waited");
        break;
      }
      if (quiet >= t.silence / 3 && now - c->last_send >= t.silence / 3 && c->out.empty()) {
        send_ping(*c);
        continue;
      }
    }
    if (now - c->last_send >= t.interval && c->out.empty()) send_ping(*c);
  }
}

void answer_ping(Conn& c, const Frame& frame) {
  Frame pong;
  pong.kind = FrameKind::kPong;
  pong.stream_id = frame.stream_id;
  enqueue(c, make_out(pong));
}

}  // namespace

// ---- Server ------------------------------------------------------------------------------

namespace detail {

// What Responders share with the server: they may outlive it, so they check `stopped` (under
// mu) before touching a connection, whose io_context is gone once the server has stopped.
struct ServerShared {
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  // Requests handed to handlers whose answer is not yet written or lost; stop() drains it.
  std::size_t unanswered = 0;
  // The largest answer sent; a larger one becomes a kTooLarge error, since the client's
  // decoder would refuse it and drop the whole connection.
  std::uint32_t payload_size_max = kFramePayloadSizeMax;

  void finished(std::size_t n) {
    std::lock_guard lock(mu);
    unanswered -= std::min(unanswered, n);
    if (unanswered == 0) cv.notify_all();
  }
};

struct ResponderState {
  ResponderState(std::shared_ptr<ServerShared> s, std::weak_ptr<Conn> c, std::uint64_t id, Method m)
      : shared(std::move(s)), conn(std::move(c)), stream_id(id), method(m) {}
  ~ResponderState() {
    if (!answered.load()) {
      deliver(FrameKind::kError,
              encode_error_payload(core::make_error(
                  core::Code::kInternal,
                  "rpc: handler for method " + std::to_string(method) + " dropped the request")));
    }
  }

  void deliver(FrameKind kind, std::string payload) {
    if (answered.exchange(true)) return;
    Frame frame;
    frame.kind = kind;
    frame.method = method;
    frame.stream_id = stream_id;
    frame.payload = std::move(payload);
    if (frame.payload.size() > shared->payload_size_max) {
      core::log::warn(kLogModule, "answer to method {} is {} bytes, over the limit of {}", method,
                      frame.payload.size(), shared->payload_size_max);
      frame.kind = FrameKind::kError;
      frame.payload = encode_error_payload(core::make_error(
          core::Code::kTooLarge, "rpc: answer of " + std::to_string(frame.payload.size()) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(shared->payload_size_max)));
    }
    std::lock_guard lock(shared->mu);
    if (shared->stopped) return;
    auto c = conn.lock();
    if (!c) {
      shared->unanswered -= std::min<std::size_t>(shared->unanswered, 1);
      shared->cv.notify_all();
      return;
    }
    asio::post(c->executor, [c, frame = std::move(frame)]() {
      --c->in_flight;
      enqueue(*c, make_out(frame));
    });
  }

  std::shared_ptr<ServerShared> shared;
  std::weak_ptr<Conn> conn;
  std::uint64_t stream_id;
  Method method;
  std::atomic<bool> answered{false};
};

}  // namespace detail

void Responder::respond(std::string payload) {
  if (state_) state_->deliver(FrameKind::kResponse, std::move(payload));
}

void Responder::fail(core::Error error) {
  if (state_) state_->deliver(FrameKind::kError, encode_error_payload(error));
}

struct RpcServer::Impl {
  explicit Impl(Options o) : options(std::move(o)) {
    options.payload_size_max = std::min(options.payload_size_max, kFramePayloadSizeMax);
    shared->payload_size_max = options.payload_size_max;
  }

  Options options;
  // Declared before everything holding its sockets and timers, so destroyed after them.
  asio::io_context ioc;
  Executor accept_strand = asio::make_strand(ioc);
  tcp::acceptor acceptor{accept_strand};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::unordered_map<Method, Handler> handlers;
  MessageHandler message_handler;
  std::shared_ptr<detail::ServerShared> shared = std::make_shared<detail::ServerShared>();
  TaskCount tasks;
  std::atomic<bool> stopping{false};
  bool started = false;
  bool stopped = false;
  std::mutex conns_mu;
  std::unordered_map<Conn*, std::weak_ptr<Conn>> conns;

  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> requests_rejected{0};
  std::atomic<std::uint64_t> messages{0};

  void reject(Conn& c, const Frame& request, core::Error error) {
    ++requests_rejected;
    Frame answer;
    answer.kind = FrameKind::kError;
    answer.method = request.method;
    answer.stream_id = request.stream_id;
    answer.payload = encode_error_payload(error);
    OutFrame out = make_out(answer);
    out.response = false;  // never counted in `unanswered`
    enqueue(c, std::move(out));
  }

  void on_request(Conn& c, Frame frame) {
    ++requests;
    if (stopping) {
      return reject(c, frame, core::make_error(core::Code::kUnavailable, "rpc: server stopping"));
    }
    if (c.in_flight >= options.requests_in_flight_max) {
      return reject(c, frame,
                    core::make_error(core::Code::kUnavailable,
                                     "rpc: server busy: " + std::to_string(c.in_flight) +
                                         " requests in flight on this connection"));
    }
    auto handler = handlers.find(frame.method);
    if (handler == handlers.end()) {
      return reject(c, frame,
                    core::make_error(core::Code::kNotFound,
                                     "rpc: unknown method " + std::to_string(frame.method)));
    }
    ++c.in_flight;
    {
      std::lock_guard lock(shared->mu);
      ++shared->unanswered;
    }
    Responder responder(std::make_shared<detail::ResponderState>(shared, c.weak_from_this(),
                                                                 frame.stream_id, frame.method));
    Request request{frame.method, std::move(frame.payload), c.peer};
    try {
      handler->second(std::move(request), responder);
    } catch (const std::exception& e) {
      responder.fail(core::make_error(
          core::Code::kInternal,
          "rpc: handler for method " + std::to_string(frame.method) + " threw: " + e.what()));
    } catch (...) {
      responder.fail(
          core::make_error(core::Code::kInternal,
                           "rpc: handler for method " + std::to_string(frame.method) + " threw"));
    }
  }

  void on_frame(Conn& c, Frame frame) {
    switch (frame.kind) {
      case FrameKind::kRequest: return on_request(c, std::move(frame));
      case FrameKind::kMessage:
        ++messages;
        if (!message_handler) {
          core::log::debug(kLogModule, "dropping message (method {}) from {}: no handler",
                           frame.method, c.peer);
          return;
        }
        try {
          message_handler(Message{frame.method, std::move(frame.payload), c.peer});
        } catch (const std::exception& e) {
          core::log::error(kLogModule, "message handler (method {}) threw: {}", frame.method,
                           e.what());
        } catch (...) {
          core::log::error(kLogModule, "message handler (method {}) threw", frame.method);
        }
        return;
      case FrameKind::kPing: return answer_ping(c, frame);
      case FrameKind::kPong: return;
      case FrameKind::kResponse:
      case FrameKind::kError:
        close_conn(
            c, "protocol error: a client sent a " + std::string(kind_name(frame.kind)) + " frame");
        return;
    }
  }

  void start_connection(tcp::socket socket) {
    error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string peer = ec ? std::string("?") : endpoint_text(remote);
    socket.set_option(tcp::no_delay(true), ec);  // small Raft messages must not wait for Nagle
    Executor executor = socket.get_executor();
    auto stream = wrap(options.wrap_stream, std::move(socket), /*client=*/false, peer);
    if (!stream) {
      ++connections_refused;
      core::log::warn(kLogModule, "refusing connection from {}: {}", peer, stream.error().message);
      return;
    }
    auto c = std::make_shared<Conn>(executor, std::move(*stream), peer, options.payload_size_max);
    ++connections_accepted;
    {
      std::lock_guard lock(conns_mu);
      conns.emplace(c.get(), c);
    }
    c->on_frame = [this](Conn& conn, Frame frame) { on_frame(conn, std::move(frame)); };
    c->on_handshake = [](Conn& conn) {
      // Answer with our preamble only once the client's checked out, so a stray client
      // (HTTP, TLS) gets nothing from us but a closed connection.
      std::string preamble;
      append_preamble(&preamble);
      conn.out.push_front(OutFrame{std::move(preamble)});
      conn.wake.cancel();
    };
    c->on_written = [this](std::size_t responses, std::size_t, bool) {
      if (responses) shared->finished(responses);
    };
    c->on_close = [this](Conn& conn, const std::string& reason) {
      if (!conn.handshake_done) {
        ++connections_refused;
        core::log::warn(kLogModule, "refusing connection from {}: {}", conn.peer, reason);
      } else {
        core::log::debug(kLogModule, "connection from {} closed: {}", conn.peer, reason);
      }
      std::lock_guard lock(conns_mu);
      conns.erase(&conn);
    };
    spawn(tasks, executor, read_loop(c), "rpc server reader");
    spawn(tasks, executor, write_loop(c), "rpc server writer");
    spawn(tasks, executor, idle_watchdog(c, options.idle_timeout), "rpc server watchdog");
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kUseTuple);
      if (stopping || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        core::log::debug(kLogModule, "accept: {}", ec.message());
        asio::steady_timer backoff(accept_strand, kAcceptErrorBackoff);
        co_await backoff.async_wait(kUseTuple);
        continue;
      }
      std::size_t open = 0;
      {
        std::lock_guard lock(conns_mu);
        open = conns.size();
      }
      if (open >= options.connections_max) {
        ++connections_refused;
        core::log::warn(kLogModule, "refusing connection: {} open (connections_max)", open);
        error_code ignored;
        socket.close(ignored);
        continue;
      }
      start_connection(std::move(socket));
    }
  }
};

RpcServer::RpcServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

RpcServer::~RpcServer() {
  stop();
}

void RpcServer::handle(Method method, Handler handler) {
  PC_ASSERT(!impl_->started, "RpcServer::handle after start");
  PC_ASSERT(method != 0, "rpc method 0 is reserved");
  impl_->handlers[method] = std::move(handler);
}

void RpcServer::on_message(MessageHandler handler) {
  PC_ASSERT(!impl_->started, "RpcServer::on_message after start");
  impl_->message_handler = std::move(handler);
}

core::Result<std::uint16_t> RpcServer::start() {
  Impl& s = *impl_;
  PC_ASSERT(!s.started, "RpcServer::start called twice");
  const std::string requested = s.options.address + ":" + std::to_string(s.options.port);
  error_code ec;
  const auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) {
    return core::make_error(core::Code::kIoError,
                            "rpc: listen " + requested + ": invalid address: " + ec.message());
  }
  auto fail = [&](std::string_view op) {
    const std::string message =
        "rpc: listen " + requested + ": " + std::string(op) + ": " + ec.message();
    error_code ignored;
    s.acceptor.close(ignored);
    return core::make_error(core::Code::kIoError, message);
  };
  const tcp::endpoint endpoint(address, s.options.port);
  if (s.acceptor.open(endpoint.protocol(), ec); ec) return fail("socket");
  if (s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("setsockopt");
  if (s.acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  const std::uint16_t port = s.acceptor.local_endpoint(ec).port();
  if (ec) return fail("getsockname");

  s.started = true;
  s.work.emplace(s.ioc.get_executor());
  spawn(s.tasks, s.accept_strand, s.accept_loop(), "rpc accept loop");
  const int threads = std::max(1, s.options.threads);
  for (int i = 0; i < threads; ++i) {
    s.threads.emplace_back([&s, i] {
      core::set_thread_name("pc-rpc-" + std::to_string(i));
      core::run_io_loop(s.ioc, kLogModule);
    });
  }
  core::log::debug(kLogModule, "listening on {}", endpoint_text(tcp::endpoint(address, port)));
  return port;
}

void RpcServer::stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  for (const auto& t : s.threads) {
    PC_ASSERT(t.get_id() != std::this_thread::get_id(), "RpcServer::stop on its own I/O thread");
  }
  s.stopped = true;
  // 1. No new connections or requests.
  s.stopping = true;
  // Waited for: once the close has run on the accept strand, the accept loop starts no
  // connection that step 3 would miss.
  std::promise<void> acceptor_closed;
  auto acceptor_closed_future = acceptor_closed.get_future();
  asio::post(s.accept_strand, [&s, &acceptor_closed] {
    error_code ignored;
    s.acceptor.close(ignored);
    acceptor_closed.set_value();
  });
  acceptor_closed_future.wait();
  // 2. Let the handlers answer what they already have, and the writers send it.
  {
    std::unique_lock lock(s.shared->mu);
    if (!s.shared->cv.wait_for(lock, s.options.drain_timeout,
                               [&] { return s.shared->unanswered == 0; })) {
      core::log::warn(kLogModule, "stopping with {} requests unanswered after {}ms",
                      s.shared->unanswered, s.options.drain_timeout.count());
    }
    // From here on Responders drop their answers: the connections are about to go.
    s.shared->stopped = true;
  }
  // 3. Close every connection and wait for its coroutines to end.
  std::vector<std::shared_ptr<Conn>> open;
  {
    std::lock_guard lock(s.conns_mu);
    for (auto& [ptr, weak] : s.conns) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (auto& c : open) {
    asio::post(c->executor, [c] { close_conn(*c, "server stopping"); });
  }
  open.clear();
  if (!s.tasks.wait_zero(std::chrono::duration_cast<std::chrono::milliseconds>(kStopTasksWait))) {
    core::log::warn(kLogModule, "server connections did not finish within {}ms",
                    millis(kStopTasksWait));
  }
  // 4. Join.
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  error_code ignored;
  s.acceptor.close(ignored);
}

RpcServer::Stats RpcServer::stats() const {
  const Impl& s = *impl_;
  Stats out;
  out.connections_accepted = s.connections_accepted.load();
  out.connections_refused = s.connections_refused.load();
  out.requests = s.requests.load();
  out.requests_rejected = s.requests_rejected.load();
  out.messages = s.messages.load();
  return out;
}

// ---- Client -----------------------------------------------------------------------------

namespace {

struct ClientCounters {
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> calls_failed_unavailable{0};
  std::atomic<std::uint64_t> calls_timed_out{0};
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> messages_dropped{0};
};

// What every Peer needs from its client.
struct ClientContext {
  RpcClient::Options options;
  TaskCount tasks;
  ClientCounters counters;
  core::SystemRand rand;
};

// One destination. Lives on its strand: every member below is touched only there, except the
// immutable ones (address, endpoint, executor).
//
// States: kIdle (no connection; the next call or send connects), kConnecting (TCP connect in
// progress; frames wait in `waiting`), kConnected (frames go to conn->out), kBackoff (the last
// attempt failed or the connection dropped; calls fail and messages drop until the timer
// returns the peer to kIdle).
// Invariant: conn != nullptr exactly in kConnected.
struct Peer : std::enable_shared_from_this<Peer> {
  enum class State { kIdle, kConnecting, kConnected, kBackoff };
  struct Pending {
    RpcClient::Callback done;
    std::unique_ptr<asio::steady_timer> timer;
    std::chrono::milliseconds timeout;
    Method method;
  };

  Peer(ClientContext& context, asio::io_context& ioc, std::string addr, tcp::endpoint ep)
      : ctx(context),
        address(std::move(addr)),
        endpoint(ep),
        executor(asio::make_strand(ioc)),
        backoff_timer(executor),
        connect_deadline(executor) {}

  ClientContext& ctx;
  const std::string address;
  const tcp::endpoint endpoint;
  const Executor executor;

  State state = State::kIdle;
  std::shared_ptr<Conn> conn;
  std::deque<OutFrame> waiting;  // while kConnecting
  std::unordered_map<std::uint64_t, Pending> pending;
  std::uint64_t next_stream_id = 1;
  int failures = 0;  // consecutive; reset by a completed handshake
  std::string last_error;
  Clock::time_point retry_at;
  asio::steady_timer backoff_timer;
  asio::steady_timer connect_deadline;
  bool stopped = false;

  std::size_t queued() const { return conn ? conn->out.size() : waiting.size(); }

  void complete(std::uint64_t id, core::Result<std::string> result) {
    auto it = pending.find(id);
    if (it == pending.end()) return;  // answered, timed out or failed already
    auto done = std::move(it->second.done);
    it->second.timer->cancel();
    pending.erase(it);
    done(std::move(result));
  }

  void fail_all(const core::Error& error) {
    auto calls = std::move(pending);
    pending.clear();
    for (auto& [id, p] : calls) {
      p.timer->cancel();
      ++ctx.counters.calls_failed_unavailable;
      p.done(error);
    }
  }

  void drop_waiting() {
    for (const auto& f : waiting) ctx.counters.messages_dropped += f.message ? 1 : 0;
    waiting.clear();
  }

  core::Error unavailable(const std::string& what) const {
    return core::make_error(core::Code::kUnavailable,
                            "rpc error: connection to " + address + " " + what);
  }

  void enter_backoff() {
    ++failures;
    const auto initial = ctx.options.backoff_initial.count();
    const auto cap = std::max<long long>(initial, ctx.options.backoff_max.count());
    long long delay = initial;
    for (int i = 1; i < failures && delay < cap && i < 40; ++i) delay *= 2;
    delay = std::min(delay, cap);
    // Uniform in [delay/2, delay]: spreads reconnects of many clients without ever waiting
    // less than half the schedule.
    const long long half = delay / 2;
    const long long jittered =
        half +
        static_cast<long long>(ctx.rand.next_u64() % static_cast<std::uint64_t>(delay - half + 1));
    state = State::kBackoff;
    retry_at = Clock::now() + std::chrono::milliseconds(jittered);
    backoff_timer.expires_at(retry_at);
    backoff_timer.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->stopped || self->state != State::kBackoff) return;
      self->state = State::kIdle;
    });
    core::log::debug(kLogModule, "{}: {}; retrying after {}ms", address, last_error, jittered);
  }

  void connect() {
    state = State::kConnecting;
    spawn(ctx.tasks, executor, connect_task(shared_from_this()), "rpc connect");
  }

  static asio::awaitable<void> connect_task(std::shared_ptr<Peer> self) {
    using asio::experimental::awaitable_operators::operator||;
    tcp::socket socket(self->executor);
    self->connect_deadline.expires_after(self->ctx.options.connect_timeout);
    auto result = co_await (socket.async_connect(self->endpoint, kUseTuple) ||
                            self->connect_deadline.async_wait(kUseTuple));
    if (self->stopped) co_return;
    std::string failure;
    if (result.index() == 1) {
      failure = "connect: timed out after " +
                std::to_string(self->ctx.options.connect_timeout.count()) + "ms";
    } else if (auto ec = std::get<0>(std::get<0>(result)); ec) {
      failure = "connect: " + ec.message();
    }
    if (failure.empty()) {
      error_code ec;
      socket.set_option(tcp::no_delay(true), ec);
      auto stream =
          wrap(self->ctx.options.wrap_stream, std::move(socket), /*client=*/true, self->address);
      if (stream) {
        self->attach(std::move(*stream));
        co_return;
      }
      failure = stream.error().message;
    }
    self->connect_failed(failure);
  }

  void connect_failed(const std::string& reason) {
    ++ctx.counters.connect_failures;
    last_error = reason;
    fail_all(unavailable("failed: " + reason));
    drop_waiting();
    enter_backoff();
    if (ctx.options.on_unreachable) ctx.options.on_unreachable(address);
  }

  void attach(std::unique_ptr<Stream> stream) {
    auto c =
        std::make_shared<Conn>(executor, std::move(stream), address, ctx.options.payload_size_max);
    std::string preamble;
    append_preamble(&preamble);
    c->out.push_back(OutFrame{std::move(preamble)});
    for (auto& f : waiting) c->out.push_back(std::move(f));
    waiting.clear();
    c->on_frame = [self = shared_from_this()](Conn& conn, Frame frame) {
      self->on_frame(conn, std::move(frame));
    };
    c->on_handshake = [self = shared_from_this()](Conn&) {
      self->failures = 0;
      ++self->ctx.counters.connects;
    };
    c->on_written = [self = shared_from_this()](std::size_t, std::size_t messages, bool ok) {
      (ok ? self->ctx.counters.messages_sent : self->ctx.counters.messages_dropped) += messages;
    };
    c->on_close = [self = shared_from_this()](Conn& conn, const std::string& reason) {
      self->on_close(conn, reason);
    };
    // Weak: the Peer owns the connection; runs on the shared strand.
    c->awaiting_answers = [weak = weak_from_this()] {
      auto self = weak.lock();
      return self != nullptr && !self->pending.empty();
    };
    conn = c;
    state = State::kConnected;
    spawn(ctx.tasks, executor, read_loop(c), "rpc client reader");
    spawn(ctx.tasks, executor, write_loop(c), "rpc client writer");
    spawn(ctx.tasks, executor,
          keepalive(c, KeepaliveTimes{ctx.options.keepalive_interval, ctx.options.keepalive_timeout,
                                      ctx.options.silence_timeout}),
          "rpc client keepalive");
  }

  void on_close(Conn& c, const std::string& reason) {
    if (conn.get() != &c) return;
    conn.reset();
    if (!c.handshake_done) ++ctx.counters.connect_failures;
    last_error = "closed: " + reason;
    core::log::debug(kLogModule, "connection to {} closed: {}", address, reason);
    fail_all(unavailable("closed: " + reason));
    if (stopped) {
      state = State::kIdle;
      return;
    }
    enter_backoff();
    if (ctx.options.on_unreachable) ctx.options.on_unreachable(address);
    // A working connection that drops may mean the process behind it died: redial once at
    // once (beside the backoff, which stays the schedule for real traffic) and see whether
    // the host refuses.
    if (c.handshake_done && ctx.options.on_peer_gone) {
      spawn(ctx.tasks, executor, gone_probe(shared_from_this()), "rpc gone probe");
    }
  }

  // Redials a few times, a short while apart: a process being killed closes its connections
  // before its listening socket, so the first redial can still be accepted by the kernel.
  static asio::awaitable<void> gone_probe(std::shared_ptr<Peer> self) {
    using asio::experimental::awaitable_operators::operator||;
    asio::steady_timer deadline(self->executor);
    for (int attempt = 0; attempt < kGoneProbeAttempts; ++attempt) {
      if (attempt > 0) {
        deadline.expires_after(kGoneProbeSpacing);
        co_await deadline.async_wait(kUseTuple);
      }
      tcp::socket socket(self->executor);
      deadline.expires_after(kGoneProbeTimeout);
      auto result = co_await (socket.async_connect(self->endpoint, kUseTuple) ||
                              deadline.async_wait(kUseTuple));
      if (self->stopped || result.index() != 0) co_return;  // stopping, or no answer at all
      const error_code ec = std::get<0>(std::get<0>(result));
      if (ec == asio::error::connection_refused) {
        core::log::debug(kLogModule, "{}: connection dropped and redial refused: peer gone",
                         self->address);
        self->ctx.options.on_peer_gone(self->address);
        co_return;
      }
      if (ec) co_return;  // unreachable some other way: not the answer this looks for
    }
  }

  void on_frame(Conn& c, Frame frame) {
    switch (frame.kind) {
      case FrameKind::kResponse: return complete(frame.stream_id, std::move(frame.payload));
      case FrameKind::kError: return complete(frame.stream_id, decode_error_payload(frame.payload));
      case FrameKind::kPing: return answer_ping(c, frame);
      case FrameKind::kPong: return;
      case FrameKind::kRequest:
      case FrameKind::kMessage:
        close_conn(c, "protocol error: the server sent a " + std::string(kind_name(frame.kind)) +
                          " frame");
        return;
    }
  }

  // Makes sure a connection is on its way; false (with the reason) when the peer is backing
  // off.
  bool ready(std::string* why) {
    if (state == State::kBackoff) {
      *why = "unavailable: " + last_error + " (retrying in " +
             std::to_string(std::max<long long>(0, millis(retry_at - Clock::now()))) + "ms)";
      return false;
    }
    if (state == State::kIdle) connect();
    return true;
  }

  void push(OutFrame frame) {
    if (conn) {
      enqueue(*conn, std::move(frame));
    } else {
      waiting.push_back(std::move(frame));
    }
  }

  void start_call(Method method, std::string payload, std::chrono::milliseconds timeout,
                  Clock::time_point deadline, RpcClient::Callback done) {
    auto fail = [&](core::Error error) {
      ++ctx.counters.calls_failed_unavailable;
      done(std::move(error));
    };
    if (stopped)
      return fail(core::make_error(core::Code::kUnavailable, "rpc error: client stopped"));
    if (pending.size() >= ctx.options.calls_pending_max) {
      return fail(core::make_error(core::Code::kUnavailable,
                                   "rpc error: " + std::to_string(pending.size()) +
                                       " calls pending to " + address + " (calls_pending_max)"));
    }
    if (queued() >= ctx.options.send_queue_max) {
      return fail(core::make_error(core::Code::kUnavailable,
                                   "rpc error: send queue to " + address + " is full"));
    }
    std::string why;
    if (!ready(&why)) return fail(unavailable(why));
    const std::uint64_t id = next_stream_id++;
    auto timer = std::make_unique<asio::steady_timer>(executor, deadline);
    timer->async_wait([self = shared_from_this(), id](const error_code& ec) {
      if (!ec) self->timed_out(id);
    });
    pending.emplace(id, Pending{std::move(done), std::move(timer), timeout, method});
    Frame frame;
    frame.kind = FrameKind::kRequest;
    frame.method = method;
    frame.stream_id = id;
    frame.payload = std::move(payload);
    push(make_out(frame));
  }

  void timed_out(std::uint64_t id) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    ++ctx.counters.calls_timed_out;
    auto error = core::make_error(core::Code::kTimeout,
                                  "rpc error: call to " + address + " (method " +
                                      std::to_string(it->second.method) + ") timed out after " +
                                      std::to_string(it->second.timeout.count()) + "ms");
    auto done = std::move(it->second.done);
    pending.erase(it);
    done(std::move(error));
  }

  void start_message(Method method, std::string payload) {
    std::string why;
    if (stopped || queued() >= ctx.options.send_queue_max || !ready(&why)) {
      ++ctx.counters.messages_dropped;
      return;
    }
    Frame frame;
    frame.kind = FrameKind::kMessage;
    frame.method = method;
    frame.payload = std::move(payload);
    push(make_out(frame));
  }

  void shutdown() {
    stopped = true;
    backoff_timer.cancel();
    connect_deadline.cancel();
    fail_all(core::make_error(core::Code::kUnavailable, "rpc error: client stopped"));
    drop_waiting();
    if (conn) {
      auto c = conn;
      close_conn(*c, "client stopped");
    }
  }
};

}  // namespace

struct RpcClient::Impl {
  explicit Impl(Options o) {
    ctx.options = std::move(o);
    ctx.options.payload_size_max = std::min(ctx.options.payload_size_max, kFramePayloadSizeMax);
  }

  ClientContext ctx;
  asio::io_context ioc;  // before the peers: their timers must go first
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  // Shared by call()/send() while they post, exclusive in stop() while it flips `running`:
  // so every post that saw running == true is queued before the shutdown of its peer.
  std::shared_mutex run_mu;
  bool running = false;
  bool started = false;
  std::mutex peers_mu;
  std::unordered_map<std::string, std::shared_ptr<Peer>> peers;

  core::Result<std::shared_ptr<Peer>> peer(const std::string& address) {
    std::lock_guard lock(peers_mu);
    if (auto it = peers.find(address); it != peers.end()) return it->second;
    auto endpoint = parse_address(address);
    if (!endpoint) return endpoint.error();
    if (peers.size() >= ctx.options.destinations_max) {
      return core::make_error(core::Code::kUnavailable, "rpc error: too many destinations (" +
                                                            std::to_string(peers.size()) +
                                                            ", destinations_max)");
    }
    auto p = std::make_shared<Peer>(ctx, ioc, address, *endpoint);
    peers.emplace(address, p);
    return p;
  }

  core::Status check_payload(const std::string& payload) const {
    if (payload.size() > ctx.options.payload_size_max) {
      return core::make_error(core::Code::kTooLarge,
                              "rpc: payload of " + std::to_string(payload.size()) +
                                  " bytes exceeds the limit of " +
                                  std::to_string(ctx.options.payload_size_max));
    }
    return core::ok();
  }
};

RpcClient::RpcClient(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

RpcClient::~RpcClient() {
  stop();
}

void RpcClient::start() {
  Impl& s = *impl_;
  PC_ASSERT(!s.started, "RpcClient::start called twice");
  s.started = true;
  s.work.emplace(s.ioc.get_executor());
  const int threads = std::max(1, s.ctx.options.threads);
  for (int i = 0; i < threads; ++i) {
    s.threads.emplace_back([&s, i] {
      core::set_thread_name("pc-rpcc-" + std::to_string(i));
      core::run_io_loop(s.ioc, kLogModule);
    });
  }
  std::unique_lock lock(s.run_mu);
  s.running = true;
}

void RpcClient::stop() {
  Impl& s = *impl_;
  {
    std::unique_lock lock(s.run_mu);
    if (!s.running) return;
    s.running = false;
  }
  for (const auto& t : s.threads) {
    PC_ASSERT(t.get_id() != std::this_thread::get_id(), "RpcClient::stop on its own I/O thread");
  }
  std::vector<std::shared_ptr<Peer>> peers;
  {
    std::lock_guard lock(s.peers_mu);
    for (auto& [address, p] : s.peers) peers.push_back(p);
  }
  for (auto& p : peers) {
    s.ctx.tasks.add();
    asio::post(p->executor, [p, &tasks = s.ctx.tasks] {
      p->shutdown();
      tasks.done();
    });
  }
  peers.clear();
  if (!s.ctx.tasks.wait_zero(
          std::chrono::duration_cast<std::chrono::milliseconds>(kStopTasksWait))) {
    core::log::warn(kLogModule, "client connections did not finish within {}ms",
                    millis(kStopTasksWait));
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
}

core::Status RpcClient::call(const std::string& address, Method method, std::string payload,
                             std::chrono::milliseconds timeout, Callback done) {
  Impl& s = *impl_;
  PC_ASSERT(method != 0, "rpc method 0 is reserved");
  PC_ASSERT(done != nullptr, "RpcClient::call without a callback");
  if (auto ok = s.check_payload(payload); !ok) return ok;
  std::shared_lock lock(s.run_mu);
  if (!s.running) {
    return core::make_error(core::Code::kUnavailable, "rpc error: client is not running");
  }
  auto peer = s.peer(address);
  if (!peer) return peer.error();
  ++s.ctx.counters.calls;
  const auto deadline = Clock::now() + timeout;
  asio::post((*peer)->executor, [p = *peer, method, payload = std::move(payload), timeout, deadline,
                                 done = std::move(done)]() mutable {
    p->start_call(method, std::move(payload), timeout, deadline, std::move(done));
  });
  return core::ok();
}

core::Status RpcClient::send(const std::string& address, Method method, std::string payload) {
  Impl& s = *impl_;
  PC_ASSERT(method != 0, "rpc method 0 is reserved");
  if (auto ok = s.check_payload(payload); !ok) return ok;
  std::shared_lock lock(s.run_mu);
  if (!s.running) {
    return core::make_error(core::Code::kUnavailable, "rpc error: client is not running");
  }
  auto peer = s.peer(address);
  if (!peer) return peer.error();
  asio::post((*peer)->executor, [p = *peer, method, payload = std::move(payload)]() mutable {
    p->start_message(method, std::move(payload));
  });
  return core::ok();
}

bool never_handled(const core::Error& error) {
  if (error.code != core::Code::kUnavailable) return false;
  const std::string_view m = error.message;
  // The texts this file makes before a request is written (Peer::connect_failed, ready,
  // start_call) or when a server rejects one unread (Server on_request).
  if (m.starts_with("rpc error: connection to ")) {
    return m.find(" failed: ") != std::string_view::npos ||
           m.find(" unavailable: ") != std::string_view::npos;
  }
  return m.starts_with("rpc: server stopping") || m.starts_with("rpc: server busy:") ||
         m.starts_with("rpc error: send queue to ") ||
         m.find(" calls pending to ") != std::string_view::npos ||
         m.starts_with("rpc error: too many destinations");
}

bool no_answer_in_time(const core::Error& error) {
  // The text Peer::timed_out makes.
  const std::string_view m = error.message;
  return error.code == core::Code::kTimeout && m.starts_with("rpc error: call to ") &&
         m.find(") timed out after ") != std::string_view::npos;
}

RpcClient::Stats RpcClient::stats() const {
  const auto& c = impl_->ctx.counters;
  Stats out;
  out.connects = c.connects.load();
  out.connect_failures = c.connect_failures.load();
  out.calls = c.calls.load();
  out.calls_failed_unavailable = c.calls_failed_unavailable.load();
  out.calls_timed_out = c.calls_timed_out.load();
  out.messages_sent = c.messages_sent.load();
  out.messages_dropped = c.messages_dropped.load();
  return out;
}

}  // namespace pc::rpc
