#pragma once
// The server-to-server transport (port 8300): RpcServer accepts connections and hands each
// request to the handler registered for its method; RpcClient keeps one multiplexed
// connection per destination and matches responses to calls by stream id. Payloads are
// opaque bytes: the layer above (consensus, federation) encodes its protobuf messages; this
// layer frames, multiplexes and delivers them (rpc/frame.h, docs/formats/rpc.md).
//
// transport.cc is the module's only Boost.Asio translation unit; this header carries no Asio,
// and the layer above sees only callbacks. Each RpcServer and RpcClient owns an io_context
// run by `threads` threads (named pc-rpc-N for the server, pc-rpcc-N for the client).
//
// Lifecycle (both classes): construct, register handlers, start() once, stop() once (the
// destructor stops too), all from one owning thread that is not one of their I/O threads.
// When stop() returns, the I/O threads are joined and no callback of this object runs again.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "rpc/frame.h"
#include "rpc/stream.h"

namespace pc::rpc {

namespace detail {
struct ResponderState;
}  // namespace detail

// A request or one-way message as the server received it.
struct Inbound {
  Method method = 0;
  std::string payload;
  std::string peer;  // the remote "ip:port"
};
using Request = Inbound;
using Message = Inbound;

// Answers one request, now or later, from any thread. Copyable; the request is answered once:
// by the first respond()/fail() of any copy; later calls are ignored. When the last copy is
// destroyed without an answer, the caller gets kInternal "handler dropped the request", so a
// forgotten path in a handler cannot leave a call hanging until its timeout. Answers after
// the connection closed or the server stopped are dropped.
class Responder {
 public:
  explicit Responder(std::shared_ptr<detail::ResponderState> state) : state_(std::move(state)) {}

  void respond(std::string payload);
  // The caller's callback gets `error` (its code and message) as an error.
  void fail(core::Error error);

 private:
  std::shared_ptr<detail::ResponderState> state_;
};

class RpcServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";  // an IP literal
    std::uint16_t port = 8300;          // 0 = ephemeral; start() returns the bound port
    int threads = 1;
    // Open connections; more are closed at accept. Each server has one connection per peer
    // server (and per client agent forwarding), so a few hundred is generous.
    std::size_t connections_max = 512;
    // Requests handed to handlers and not yet answered, per connection; a request beyond it
    // is answered kUnavailable at once rather than queued without bound.
    std::size_t requests_in_flight_max = 1024;
    // A connection that sends nothing (not even a ping) for this long is closed; clients ping
    // every RpcClient::Options::keepalive_interval, well inside it.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
    // stop() waits this long for answers to requests already handed to handlers.
    std::chrono::milliseconds drain_timeout{std::chrono::seconds(2)};
    std::uint32_t payload_size_max = kFramePayloadSizeMax;
    StreamWrapper wrap_stream;  // null: plain TCP
  };

  // Runs on an I/O thread, once per request; may answer at once or keep the Responder and
  // answer later from any thread. Must not block: it holds up its connection's other frames.
  // An exception from it answers kInternal.
  using Handler = std::function<void(Request, Responder)>;
  // Runs on an I/O thread for each one-way message, in the order a connection delivered them;
  // must not block. Exceptions are logged and the message is lost.
  using MessageHandler = std::function<void(Message)>;

  struct Stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_refused = 0;  // over connections_max, or a bad preamble
    std::uint64_t requests = 0;
    std::uint64_t requests_rejected = 0;  // over requests_in_flight_max, or stopping
    std::uint64_t messages = 0;
  };

  explicit RpcServer(Options options);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Before start(). A request for a method without a handler is answered kNotFound.
  void handle(Method method, Handler handler);
  void on_message(MessageHandler handler);

  // Listens and starts the I/O threads; returns the bound port, or IoError
  // ("rpc: listen 127.0.0.1:8300: bind: Address already in use").
  core::Result<std::uint16_t> start();

  // Graceful: stops accepting, answers new requests kUnavailable "server stopping", waits up to
  // drain_timeout for requests in flight to be answered and written, then closes every
  // connection (the clients fail what is still pending) and joins the threads. Idempotent.
  void stop();

  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class RpcClient {
 public:
  struct Options {
    int threads = 1;
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
    // Reconnecting after a connection drops or a connect fails: the n-th consecutive failure
    // waits a uniformly random time in [d/2, d] with d = min(backoff_max, backoff_initial *
    // 2^(n-1)); the jitter keeps the servers of a cluster from reconnecting in lockstep.
    // A completed handshake resets n. While waiting, calls fail at once and messages drop.
    std::chrono::milliseconds backoff_initial{50};
    std::chrono::milliseconds backoff_max{std::chrono::seconds(5)};
    // Frames waiting to be written, per destination. When full, a message is dropped (Raft
    // resends) and a call fails kUnavailable, instead of the queue growing without bound.
    std::size_t send_queue_max = 4096;
    // Calls sent and not yet answered, per destination; beyond it a call fails kUnavailable.
    std::size_t calls_pending_max = 4096;
    // Ping after this long without writing; close after keepalive_timeout without hearing
    // anything. Catches a peer that vanished without a FIN (power loss, partition). A ping
    // queues behind frames already queued, so keepalive_timeout must exceed the time the
    // largest request takes to cross the slowest link.
    std::chrono::milliseconds keepalive_interval{std::chrono::seconds(10)};
    std::chrono::milliseconds keepalive_timeout{std::chrono::seconds(30)};
    // While calls wait for answers on a connection: ping it once it has been quiet for a third
    // of this, and close it (failing its calls kUnavailable "... closed: no answer: ...") when
    // nothing at all, not even a pong, came back for this long. A live peer answers pings
    // however long its handlers take, so only a peer that stopped answering (a partition, a
    // frozen host) is cut off, in seconds rather than at each call's own timeout. 0: off.
    // Must exceed the round trip of a ping behind the largest request on the slowest link.
    std::chrono::milliseconds silence_timeout{0};
    // Destinations this client keeps state for; a call to one more fails kUnavailable.
    std::size_t destinations_max = 1024;
    std::uint32_t payload_size_max = kFramePayloadSizeMax;
    StreamWrapper wrap_stream;  // null: plain TCP
    // Runs on an I/O thread when a connect to `address` fails or its connection drops (not
    // when the client stops): what Raft's report_unreachable wants, since a dropped one-way
    // message is otherwise silent. Must not block.
    std::function<void(const std::string& address)> on_unreachable;
    // Runs on an I/O thread when a connection to `address` that had worked drops and a redial
    // made at once is refused (ECONNREFUSED): the host answers but nothing listens on the
    // port, so the process behind it is gone (killed, crashed, stopped). A host that vanished
    // or a partition gives no refusal and no call. Raft uses it to stop waiting for a dead
    // leader. Must not block.
    std::function<void(const std::string& address)> on_peer_gone;
  };

  // Runs on an I/O thread; must not block or throw (it runs on the destination's strand,
  // holding up that destination's other calls).
  using Callback = std::function<void(core::Result<std::string>)>;

  struct Stats {
    std::uint64_t connects = 0;                  // handshakes completed
    std::uint64_t connect_failures = 0;          // connects or handshakes that failed
    std::uint64_t calls = 0;                     // calls accepted by call()
    std::uint64_t calls_failed_unavailable = 0;  // queue full, no connection, dropped connection
    std::uint64_t calls_timed_out = 0;
    std::uint64_t messages_sent = 0;     // one-way messages written to a connection
    std::uint64_t messages_dropped = 0;  // queue full, no connection, or lost with a connection
  };

  explicit RpcClient(Options options);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Starts the I/O threads.
  void start();
  // Fails every pending call with kUnavailable "rpc error: client stopped" (on an I/O thread),
  // closes the connections and joins the threads. Idempotent.
  void stop();

  // Sends a request to `address` ("10.0.0.2:8300", "[fd00::2]:8300"; IP literals only) and
  // runs `done` exactly once on an I/O thread with the response payload or an error:
  // kUnavailable when there is no connection or it closes first ("rpc error: connection to
  // 10.0.0.2:8300 closed: ..."), kTimeout when no answer came within `timeout` (counted from
  // this call, so it covers connecting and queueing), or the handler's error as it sent it.
  // Returns an error, and never runs `done`, only when the call cannot be made at all: the
  // client is not running, the address does not parse, or the payload is over the limit.
  core::Status call(const std::string& address, Method method, std::string payload,
                    std::chrono::milliseconds timeout, Callback done);

  // Queues a one-way message. Messages to one destination are written in the order send()
  // was called (from one thread) on one connection; a message is dropped, and counted, rather
  // than queued when the destination is unreachable or its queue is full, and messages
  // written just before a connection drops may be lost: the layer above (Raft) resends.
  // Returns an error under the same conditions as call().
  core::Status send(const std::string& address, Method method, std::string payload);

  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when a call's error shows its request never reached a handler: the connection could
// not be made, the destination is backing off or its queue is full, or the server refused the
// request unread (stopping, busy). Such a call may go to another server even when it writes;
// after any other error (the connection closed once the request may have been written, a
// timeout, the handler's own answer) a write must not be sent again.
bool never_handled(const core::Error& error);

// True when a call's error is its own deadline passing with no answer (the kTimeout this
// client makes), not a handler's answer that happens to be a timeout of its own.
bool no_answer_in_time(const core::Error& error);

}  // namespace pc::rpc
