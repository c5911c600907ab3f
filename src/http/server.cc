// The only Boost.Beast translation unit of http/ (see server.h for the contract).
//
// Shape: one io_context run by `threads` threads. Each accepted connection gets its own strand
// and one coroutine (Connection::serve) that reads a request, dispatches it, waits for the
// Outcome, runs blocking reads, writes the response and loops while keep-alive holds.
//
// Waking a coroutine from other threads (a handler's deferred Reply, a WatchSet firing on the
// apply thread) goes through the connection's Mailbox: the waker records the event under the
// mailbox mutex and, if the coroutine is parked, posts a cancel of its wake timer to the
// strand. The coroutine re-checks its condition after every wake, as with a condition
// variable, so a wake that arrives before it parks is never lost. The Mailbox holds no I/O
// object and is closed (its executor dropped, under the same mutex) when the coroutine ends,
// so a Reply or watch callback that outlives the connection, or the whole server, finds a
// closed mailbox and does nothing.
#include "http/server.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/assert.h"
#include "core/io_loop.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/strings.h"
#include "http/blocking_runner.h"
#include "http/detail/dual_stream.h"
#include "http/errors.h"
#include "rpc/tls_context.h"
#include "state/watch.h"

namespace pc::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kLogModule = "http";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// After an error answer that leaves request bytes unread (413, 400) the socket is drained for
// at most this long and this much before closing, so the client sees the answer rather than a
// reset (Go's server does the same "lingering close").
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr std::size_t kLingerBytesMax = 2 * core::limits::http_body_size_max;
// A connection's read buffer is given back after a request that grew it past this.
constexpr std::size_t kBufferKeepBytesMax = 16 * 1024;
// Response bodies up to this size are copied behind the head and sent in one buffer; larger
// ones are sent as a second buffer of the same write.
constexpr std::size_t kBodyCopyBytesMax = 16 * 1024;
// Accept errors such as EMFILE repeat at once; back off instead of spinning.
constexpr auto kAcceptErrorBackoff = std::chrono::milliseconds(50);
// After stop_grace, connections are closed; this bounds the wait for them to unwind.
constexpr auto kStopUnwindMax = std::chrono::seconds(2);

// RFC 7231 IMF-fixdate, cached per thread for the current second.
std::string_view http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local char cached[32];
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::snprintf(cached, sizeof cached, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    cached_second = now;
  }
  return cached;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Consul wraps its mux in cleanhttp.PrintablePathCheckHandler: a path with a control
// character is refused with an empty 400.
bool printable_path(std::string_view path) {
  for (char c : path) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return false;
  }
  return true;
}

// Consul's blockingQuery returns at once when the read failed; a missing entry (404) is a
// result like any other and blocks.
bool is_disconnect(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
         ec == asio::error::broken_pipe || ec == beast::error::timeout;
}

class Connection;

// State shared by the server's coroutines. Declaration order matters: the registry outlives
// io_context, whose destruction may still end connections that unregister themselves.
struct ServerCore {
  ServerCore(ServerOptions opts, const Router& r)
      : options(std::move(opts)),
        router(r),
        ioc(std::max(1, options.threads)),
        acceptor(asio::make_strand(ioc)) {}

  void add(const std::shared_ptr<Connection>& conn);
  void remove(Connection* conn);
  std::vector<std::shared_ptr<Connection>> snapshot() const;

  ServerOptions options;
  const Router& router;
  std::atomic<bool> stopping{false};

  mutable std::mutex mu;  // guards conns
  std::condition_variable cv;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> conns;

  asio::io_context ioc;
  tcp::acceptor acceptor;  // used on its strand only
};

// The part of a connection that other threads reach. Thread-safety: everything under mu.
// Lifetime: shared by the connection, its pending Reply and its WatchSet callback; it holds
// no I/O object once closed, so it may outlive the server.
struct Mailbox {
  void deliver(std::uint64_t for_seq, Outcome outcome);
  void on_watch_fired(std::uint64_t gen);
  void close();

  std::mutex mu;
  bool closed = false;     // the coroutine has ended: nothing more is posted
  bool parked = false;     // the coroutine waits on its timer and needs `wake` to resume
  std::uint64_t seq = 0;   // the request being handled
  bool delivered = false;  // its Reply has been called
  std::optional<Outcome> reply;
  std::uint64_t watch_gen = 0;
  bool watch_fired = false;
  // Posts a wake to the connection's strand; called under mu, empty once closed.
  std::function<void()> wake;
};

void Mailbox::deliver(std::uint64_t for_seq, Outcome outcome) {
  std::lock_guard lock(mu);
  if (closed || for_seq != seq) return;  // the client left or stop() gave up: no one to answer
  PC_ASSERT(!delivered, "a handler called its Reply twice");
  delivered = true;
  reply = std::move(outcome);
  if (parked && wake) wake();
}

void Mailbox::on_watch_fired(std::uint64_t gen) {
  std::lock_guard lock(mu);
  if (closed || gen != watch_gen) return;
  watch_fired = true;
  if (parked && wake) wake();
}

void Mailbox::close() {
  std::function<void()> dropped;
  std::optional<Outcome> unanswered;
  {
    std::lock_guard lock(mu);
    closed = true;
    dropped = std::move(wake);
    wake = nullptr;
    unanswered = std::move(reply);
    reply.reset();
  }
}

// One client connection. Thread-safety: the members marked "strand" are touched only by the
// coroutine and handlers on the connection's strand; mailbox_ by any thread; stop_ and
// abandon_ are atomics. Lifetime: shared_ptr, held by the coroutine frame and by handlers
// queued on its strand (all of which end with the io_context); other threads reach it only
// through the mailbox, which holds a weak_ptr.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ServerCore& core)
      : core_(core), stream_(std::move(socket)), wake_timer_(stream_.get_executor()) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      remote_addr_ =
          ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
      remote_addr_ += ":" + std::to_string(ep.port());
    }
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }

  static asio::awaitable<void> serve(std::shared_ptr<Connection> self);

  // Any thread. Ends the connection after its current request; with `abandon`, at once.
  void request_stop(bool abandon);

 private:
  enum class IoState { kReading, kHandling, kParked, kWriting };
  enum class ParkFor { kReply, kWatch };
  // What read_request produced.
  enum class ReadResult { kRequest, kClose };

  asio::awaitable<void> loop();
  asio::awaitable<bool> handshake();
  asio::awaitable<ReadResult> read_request(Request& req);
  asio::awaitable<std::optional<Outcome>> await_outcome(const Request& req);
  asio::awaitable<std::optional<Response>> run_blocking(BlockingRead& read);
  asio::awaitable<bool> write_response(Response& res, unsigned version, bool keep_alive, bool head);
  asio::awaitable<void> answer_and_linger(Response res, unsigned version);
  asio::awaitable<void> park(ParkFor what, core::MonoTime deadline);

  void finish();
  void on_stop();
  void arm_peer_watch();
  void disarm_peer_watch();
  void on_peer_readable(const error_code& ec, std::uint64_t gen);

  ServerCore& core_;
  detail::DualStream stream_;      // strand; TLS on the HTTPS listener
  asio::steady_timer wake_timer_;  // strand
  beast::flat_buffer buffer_;      // strand; reused by every request of the connection
  std::string write_buffer_;       // strand; the serialized response, reused
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  // strand
  std::string remote_addr_;
  IoState io_state_ = IoState::kReading;  // strand
  bool peer_closed_ = false;              // strand
  std::uint64_t peer_watch_gen_ = 0;      // strand
  std::atomic<bool> stop_{false};
  std::atomic<bool> abandon_{false};

  const std::shared_ptr<Mailbox> mailbox_ = std::make_shared<Mailbox>();
};

void ServerCore::add(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu);
  conns.emplace(conn.get(), conn);
}

void ServerCore::remove(Connection* conn) {
  std::lock_guard lock(mu);
  conns.erase(conn);
  cv.notify_all();
}

std::vector<std::shared_ptr<Connection>> ServerCore::snapshot() const {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard lock(mu);
  out.reserve(conns.size());
  for (const auto& [ptr, weak] : conns) {
    if (auto conn = weak.lock()) out.push_back(std::move(conn));
  }
  return out;
}

asio::awaitable<void> Connection::serve(std::shared_ptr<Connection> self) {
  // Runs however the coroutine ends, even if io_context destroys its frame at shutdown.
  struct Finisher {
    Connection* conn;
    ~Finisher() { conn->finish(); }
  } finisher{self.get()};
  {
    std::lock_guard lock(self->mailbox_->mu);
    self->mailbox_->wake = [exec = self->executor(), weak = std::weak_ptr<Connection>(self)] {
      asio::post(exec, [weak] {
        if (auto conn = weak.lock()) conn->wake_timer_.cancel();
      });
    };
  }
  if (self->core_.options.tls && !co_await self->handshake()) co_return;
  co_await self->loop();
}

// The TLS server handshake of an HTTPS connection, with the certificates current at accept
// (a SIGHUP reload affects only later connections). A failure is logged with its reason.
asio::awaitable<bool> Connection::handshake() {
  std::shared_ptr<const rpc::TlsContext> ctx = core_.options.tls->current();
  if (!ctx || !ctx->can_serve()) co_return false;
  stream_.start_tls(ctx->server_ctx());
  stream_.expires_after(core_.options.request_read_timeout);
  auto [ec] = co_await stream_.tls().async_handshake(asio::ssl::stream_base::server, kUseTuple);
  stream_.expires_never();
  if (ec) {
    SSL* ssl = stream_.tls().native_handle();
    const std::string reason =
        SSL_get_verify_result(ssl) != X509_V_OK ? rpc::tls_failure_reason(ssl) : ec.message();
    core::log::warn(kLogModule, "TLS handshake with {} failed: {}", remote_addr_, reason);
    co_return false;
  }
  co_return true;
}

void Connection::finish() {
  mailbox_->close();
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  core_.remove(this);
}

asio::awaitable<void> Connection::loop() {
  for (;;) {
    if (stop_ || core_.stopping) co_return;
    Request req;
    if (co_await read_request(req) == ReadResult::kClose) co_return;

    const unsigned version = parser_->get().version();
    const bool head = parser_->get().method() == bhttp::verb::head;
    bool keep_alive = parser_->get().keep_alive();
    parser_.reset();  // the request is copied out; do not hold it while the handler works

    std::optional<Outcome> outcome = co_await await_outcome(req);
    if (!outcome) co_return;  // the client left, or stop() gave up on the handler

    std::optional<Response> res;
    if (auto* read = std::get_if<BlockingRead>(&*outcome)) {
      res = co_await run_blocking(*read);
      if (!res) co_return;
    } else {
      res = std::move(std::get<Response>(*outcome));
    }
    outcome.reset();

    if (stop_ || core_.stopping) keep_alive = false;
    if (!co_await write_response(*res, version, keep_alive, head) || !keep_alive) co_return;
    if (buffer_.size() == 0 && buffer_.capacity() > kBufferKeepBytesMax) buffer_.shrink_to_fit();
  }
}

asio::awaitable<Connection::ReadResult> Connection::read_request(Request& req) {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(core::limits::http_header_size_max));
  parser_->body_limit(core::limits::http_body_size_max);

  io_state_ = IoState::kReading;
  stream_.expires_after(core_.options.idle_timeout);
  auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, *parser_, kUseTuple);
  auto& msg = parser_->get();
  const unsigned version = msg.version() == 10 ? 10 : 11;
  if (!ec && !parser_->is_done()) {
    if (auto it = msg.find(bhttp::field::expect);
        it != msg.end() && beast::iequals(it->value(), "100-continue")) {
      // curl sends this for bodies over 1 KiB and waits for it before sending the body.
      io_state_ = IoState::kWriting;
      stream_.expires_after(core_.options.write_timeout);
      auto [wec, wn] = co_await asio::async_write(
          stream_, asio::buffer(kContinue.data(), kContinue.size()), kUseTuple);
      if (wec) {
        core::log::debug(kLogModule, "write 100-continue to {}: {}", remote_addr_, wec.message());
        co_return ReadResult::kClose;
      }
      io_state_ = IoState::kReading;
    }
    stream_.expires_after(core_.options.request_read_timeout);
    std::tie(ec, n) = co_await bhttp::async_read(stream_, buffer_, *parser_, kUseTuple);
  }
  stream_.expires_never();
  if (ec == bhttp::error::body_limit) {
    co_await answer_and_linger(
        Response::text(413, "Request body too large, max size: " +
                                std::to_string(core::limits::http_body_size_max) + " bytes"),
        version);
    co_return ReadResult::kClose;
  }
  if (ec == bhttp::error::header_limit) {
    co_await answer_and_linger(Response::text(431, "431 Request Header Fields Too Large"), version);
    co_return ReadResult::kClose;
  }
  if (ec) {
    const bool malformed =
        ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
    if (malformed && !is_disconnect(ec)) {
      co_await answer_and_linger(Response::text(400, "400 Bad Request"), version);
    } else if (ec != bhttp::error::end_of_stream && ec != asio::error::operation_aborted) {
      core::log::debug(kLogModule, "read from {}: {}", remote_addr_, ec.message());
    }
    co_return ReadResult::kClose;
  }

  req.method = std::string(msg.method_string());
  const beast::string_view target = msg.target();
  auto url = boost::urls::parse_uri_reference(std::string_view(target.data(), target.size()));
  if (!url) {
    co_await answer_and_linger(Response::text(400, "400 Bad Request"), version);
    co_return ReadResult::kClose;
  }
  req.path = url->path();
  if (req.path.empty()) req.path = "/";
  if (!printable_path(req.path)) {
    co_await answer_and_linger(Response::text(400, ""), version);
    co_return ReadResult::kClose;
  }
  req.raw_query = std::string(url->encoded_query());
  // Go's url.ParseQuery: '+' is a space and empty segments ("a&&b") are skipped.
  for (auto param : url->params(boost::urls::encoding_opts(true, false, false))) {
    if (param.key.empty() && !param.has_value) continue;
    req.query.emplace_back(std::move(param.key), std::move(param.value));
  }
  req.headers.reserve(8);
  for (const auto& field : msg) {
    req.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(msg.body());
  req.remote_addr = remote_addr_;
  co_return ReadResult::kRequest;
}

asio::awaitable<std::optional<Outcome>> Connection::await_outcome(const Request& req) {
  io_state_ = IoState::kHandling;
  Mailbox& box = *mailbox_;
  std::uint64_t seq;
  {
    std::lock_guard lock(box.mu);
    seq = ++box.seq;
    box.delivered = false;
    box.reply.reset();
  }
  try {
    Reply reply = [box = mailbox_, seq](Outcome outcome) { box->deliver(seq, std::move(outcome)); };
    if (core_.options.wrap_reply) reply = core_.options.wrap_reply(req, std::move(reply));
    core_.router.dispatch(req, std::move(reply));
  } catch (const std::exception& e) {
    // Our code throws none; this only keeps a stray library exception from ending the server.
    core::log::error(kLogModule, "handler for {} {} threw: {}", req.method, req.path, e.what());
    std::lock_guard lock(box.mu);
    if (!box.delivered) {
      box.delivered = true;
      box.reply = Outcome(Response::text(500, "An unexpected error occurred"));
    }
    ++box.seq;  // a late Reply from the failed handler is dropped
  }
  {
    std::lock_guard lock(box.mu);
    if (box.reply) {
      Outcome out = std::move(*box.reply);
      box.reply.reset();
      co_return out;
    }
  }
  // The handler replies later from another thread (a write waiting for the log).
  co_await park(ParkFor::kReply, core::MonoTime::max());
  std::lock_guard lock(box.mu);
  if (!box.reply || peer_closed_ || abandon_) co_return std::nullopt;
  Outcome out = std::move(*box.reply);
  box.reply.reset();
  co_return out;
}

asio::awaitable<std::optional<Response>> Connection::run_blocking(BlockingRead& read) {
  io_state_ = IoState::kParked;
  const core::Duration wait = clamp_blocking_wait(read.wait);
  const core::MonoTime deadline = std::chrono::steady_clock::now() + wait;
  ReadOutcome out;
  for (;;) {
    // A fresh WatchSet per run; destroying it detaches from every channel, so a query that
    // ends (answered, timed out, or its client gone) leaves nothing registered. A read without
    // ?index never parks, so it registers nothing at all.
    state::WatchSet ws(/*collecting=*/read.min_index != 0);
    try {
      out = read.run(ws);
    } catch (const std::exception& e) {
      core::log::error(kLogModule, "blocking read threw: {}", e.what());
      co_return Response::text(500, "An unexpected error occurred");
    }
    const std::uint64_t index = std::max<std::uint64_t>(out.index, 1);
    if (read.min_index == 0 || index > read.min_index || !blockable_status(out.response.status))
      break;
    if (stop_ || core_.stopping || std::chrono::steady_clock::now() >= deadline) break;

    std::uint64_t gen;
    {
      std::lock_guard lock(mailbox_->mu);
      gen = ++mailbox_->watch_gen;
      mailbox_->watch_fired = false;
    }
    ws.notify_once([box = mailbox_, gen] { box->on_watch_fired(gen); });
    // Parked queries are many and long: give the idle read buffer back while waiting.
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    co_await park(ParkFor::kWatch, deadline);
    if (peer_closed_ || abandon_) co_return std::nullopt;
    bool fired;
    {
      std::lock_guard lock(mailbox_->mu);
      fired = mailbox_->watch_fired;
    }
    if (!fired) break;  // the wait passed or the server stops: answer with the last run
  }

  LeaderInfo leader;
  if (core_.options.leader_info) leader = core_.options.leader_info();
  add_blocking_headers(out.response, out.index, leader);
  co_return std::move(out.response);
}

asio::awaitable<void> Connection::park(ParkFor what, core::MonoTime deadline) {
  io_state_ = what == ParkFor::kReply ? IoState::kHandling : IoState::kParked;
  stream_.expires_never();
  bool watching_peer = false;
  for (;;) {
    {
      std::lock_guard lock(mailbox_->mu);
      const bool ready = what == ParkFor::kReply ? mailbox_->delivered : mailbox_->watch_fired;
      if (ready) break;
      mailbox_->parked = true;
    }
    if (peer_closed_ || abandon_) break;
    if (what == ParkFor::kWatch && (stop_ || core_.stopping)) break;
    if (std::chrono::steady_clock::now() >= deadline) break;
    if (!watching_peer) {
      arm_peer_watch();
      watching_peer = true;
    }
    wake_timer_.expires_at(deadline);
    co_await wake_timer_.async_wait(kUseTuple);
  }
  {
    std::lock_guard lock(mailbox_->mu);
    mailbox_->parked = false;
  }
  if (watching_peer) disarm_peer_watch();
}

void Connection::request_stop(bool abandon) {
  stop_ = true;
  if (abandon) abandon_ = true;
  std::lock_guard lock(mailbox_->mu);
  if (mailbox_->closed) return;
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->on_stop(); });
}

void Connection::on_stop() {
  // An idle connection (waiting for its next request) has nothing in flight: close it.
  if (io_state_ == IoState::kReading || abandon_) {
    error_code ec;
    stream_.socket().close(ec);
  }
  wake_timer_.cancel();
}

// While parked, the socket is watched for readability so that a client that hangs up is
// noticed at once and its WatchSet released, rather than at the end of its wait.
void Connection::arm_peer_watch() {
  const std::uint64_t gen = ++peer_watch_gen_;
  stream_.socket().async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this(), gen](const error_code& ec) { self->on_peer_readable(ec, gen); });
}

void Connection::disarm_peer_watch() {
  ++peer_watch_gen_;
  error_code ec;
  stream_.socket().cancel(ec);
}

void Connection::on_peer_readable(const error_code& ec, std::uint64_t gen) {
  if (gen != peer_watch_gen_ || ec == asio::error::operation_aborted) return;
  if (!ec) {
    char byte;
    const ssize_t n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    // Bytes waiting are a pipelined request, read after this answer; stop watching.
    if (n > 0) return;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      stream_.socket().async_wait(tcp::socket::wait_read,
                                  [self = shared_from_this(), gen](const error_code& e) {
                                    self->on_peer_readable(e, gen);
                                  });
      return;
    }
  }
  peer_closed_ = true;
  wake_timer_.cancel();
}

asio::awaitable<bool> Connection::write_response(Response& r, unsigned version, bool keep_alive,
                                                 bool head) {
  io_state_ = IoState::kWriting;
  int status = r.status;
  if (status < 100 || status > 999) status = 500;
  // The response is serialized by hand into one reused buffer and sent with one write: Beast's
  // serializer walks a buffer sequence per header field, which cost a third of a small GET's
  // instructions (measured with callgrind).
  std::string& out = write_buffer_;
  out.clear();
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  const auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  auto field = [&out](std::string_view name, std::string_view value) {
    // Never let a value end the header early (CR/LF injection): such a field is dropped.
    if (value.find_first_of("\r\n") != std::string_view::npos) return;
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  };
  auto handler_sets = [&r](std::string_view name) {
    for (const auto& h : r.headers) {
      if (beast::iequals(h.first, name)) return true;
    }
    return false;
  };
  field("Date", http_date());
  // Consul sets its response_headers first; a handler's header of the same name replaces one.
  for (const auto& [name, value] : core_.options.default_headers) {
    if (!handler_sets(name)) field(name, value);
  }
  const bool bodyless = status < 200 || status == 204 || status == 304;
  for (const auto& [name, value] : r.headers) {
    if (beast::iequals(name, "content-length") || beast::iequals(name, "connection")) continue;
    if (beast::iequals(name, "content-type") && !r.content_type.empty()) continue;
    field(name, value);
  }
  if (!r.content_type.empty() && !bodyless) field("Content-Type", r.content_type);
  if (!bodyless) field("Content-Length", std::to_string(r.body.size()));
  if (version == 10) {
    if (keep_alive) field("Connection", "keep-alive");
  } else if (!keep_alive) {
    field("Connection", "close");
  }
  out.append("\r\n");
  // A small body joins the head in one buffer; a large one (a health list of a thousand
  // instances is a megabyte) is sent from where the handler rendered it, not copied.
  const bool send_body = !bodyless && !head;
  const bool body_apart = send_body && r.body.size() > kBodyCopyBytesMax;
  if (send_body && !body_apart) out.append(r.body);

  stream_.expires_after(core_.options.write_timeout);
  std::array<asio::const_buffer, 2> buffers{
      asio::buffer(out),
      body_apart ? asio::const_buffer(r.body.data(), r.body.size()) : asio::const_buffer()};
  auto [ec, n] = co_await asio::async_write(stream_, buffers, kUseTuple);
  stream_.expires_never();
  // Parked queries are many and long: do not keep a large response buffer per connection.
  if (out.capacity() > kBufferKeepBytesMax) std::string().swap(out);
  if (ec) {
    core::log::debug(kLogModule, "write to {}: {}", remote_addr_, ec.message());
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Connection::answer_and_linger(Response res, unsigned version) {
  if (!co_await write_response(res, version, false, false)) co_return;
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  // Drain what the client still sends (the body we refused) until it closes, within bounds.
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  stream_.expires_after(kLingerTime);
  while (drained < kLingerBytesMax) {
    auto [rec, n] = co_await stream_.async_read_some(asio::buffer(sink), kUseTuple);
    if (rec) break;
    drained += n;
  }
  stream_.expires_never();
}

// Completion of a top-level coroutine (core::log::exception).
void log_exception(std::string_view what, std::exception_ptr e) {
  core::log::exception(kLogModule, what, std::move(e));
}

asio::awaitable<void> accept_loop(ServerCore* core) {
  for (;;) {
    auto [ec, socket] =
        co_await core->acceptor.async_accept(asio::make_strand(core->ioc), kUseTuple);
    if (core->stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      core::log::debug(kLogModule, "accept: {}", ec.message());
      asio::steady_timer backoff(co_await asio::this_coro::executor, kAcceptErrorBackoff);
      co_await backoff.async_wait(kUseTuple);
      continue;
    }
    error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    {
      std::lock_guard lock(core->mu);
      if (core->conns.size() >= core->options.connections_max) {
        core::log::debug(kLogModule, "refusing a connection: {} open", core->conns.size());
        socket.close(opt_ec);
        continue;
      }
    }
    auto conn = std::make_shared<Connection>(tcp::socket(std::move(socket)), *core);
    core->add(conn);
    asio::co_spawn(conn->executor(), Connection::serve(conn),
                   [](std::exception_ptr e) { log_exception("connection", e); });
  }
}

}  // namespace

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  bool started = false;
  bool stopped = false;
};

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() {
  stop();
}

std::size_t Server::connection_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->conns.size();
}

core::Result<std::uint16_t> Server::start() {
  Impl& s = *impl_;
  PC_ASSERT(!s.started, "Server::start called twice");
  const std::string where =
      "listen tcp " + s.options.address + ":" + std::to_string(s.options.port);
  error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(s.options.address, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, s.options.port);
  } else {
    tcp::resolver resolver(s.ioc);
    auto results = resolver.resolve(s.options.address, std::to_string(s.options.port), ec);
    if (ec || results.empty()) {
      return core::make_error(core::Code::kIoError,
                              where + ": lookup " + s.options.address + ": " +
                                  (ec ? ec.message() : std::string("no such host")));
    }
    endpoint = results.begin()->endpoint();
  }
  auto fail = [&](std::string_view op) {
    error_code ignored;
    s.acceptor.close(ignored);
    return core::make_error(core::Code::kIoError,
                            where + ": " + std::string(op) + ": " + ec.message());
  };
  if (s.acceptor.open(endpoint.protocol(), ec); ec) return fail("socket");
  if (s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("setsockopt");
  if (s.acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  const std::uint16_t port = s.acceptor.local_endpoint(ec).port();
  if (ec) return fail("getsockname");

  s.started = true;
  s.work.emplace(s.ioc.get_executor());
  asio::co_spawn(s.acceptor.get_executor(), accept_loop(&s),
                 [](std::exception_ptr e) { log_exception("accept loop", e); });
  const int threads = std::max(1, s.options.threads);
  for (int i = 0; i < threads; ++i) {
    s.threads.emplace_back([&s, i] {
      core::set_thread_name("pc-http-" + std::to_string(i));
      core::run_io_loop(s.ioc, kLogModule);
    });
  }
  core::log::debug(kLogModule, "listening on {}:{}", endpoint.address().to_string(), port);
  return port;
}

void Server::stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  for (const auto& t : s.threads) {
    PC_ASSERT(t.get_id() != std::this_thread::get_id(), "Server::stop on its own I/O thread");
  }
  s.stopped = true;
  s.stopping = true;
  asio::post(s.acceptor.get_executor(), [&s] {
    error_code ec;
    s.acceptor.close(ec);
  });

  auto drain = [&s](bool abandon, auto within) {
    for (auto& conn : s.snapshot()) conn->request_stop(abandon);
    std::unique_lock lock(s.mu);
    return s.cv.wait_for(lock, within, [&s] { return s.conns.empty(); });
  };
  // Parked queries answer at once and idle connections close; handlers still working on a
  // reply get the grace period, then their connections are closed without an answer.
  if (!drain(false, s.options.stop_grace)) {
    if (!drain(true, kStopUnwindMax)) {
      core::log::warn(kLogModule, "stop: {} connections did not end in time", connection_count());
    }
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
}

}  // namespace pc::http
