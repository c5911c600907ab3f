// RpcServer and RpcClient over loopback. Every test binds port 0, waits with a deadline (never
// a blind sleep longer than the behaviour under test needs), and stops what it started.
#include "rpc/transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pc::rpc {
namespace {

using namespace std::chrono_literals;

constexpr Method kEcho = 1;
constexpr Method kFail = 2;
constexpr Method kHold = 3;  // the handler keeps the Responder; the test answers
constexpr Method kDrop = 4;  // the handler lets the Responder go without answering
constexpr Method kLog = 10;  // one-way messages

// Waits, with a deadline, for a condition that other threads make true.
class Waiter {
 public:
  void notify(const std::function<void()>& change) {
    std::lock_guard lock(mu_);
    change();
    cv_.notify_all();
  }
  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, done);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

// Results of calls, in completion order.
struct Results {
  Waiter waiter;
  std::vector<core::Result<std::string>> got;  // guarded by waiter's lock

  RpcClient::Callback callback() {
    return [this](core::Result<std::string> r) {
      waiter.notify([&] { got.push_back(std::move(r)); });
    };
  }
  bool wait_count(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    return waiter.wait([&] { return got.size() >= n; }, timeout);
  }
  core::Result<std::string> at(std::size_t i) {
    core::Result<std::string> out = core::make_error(core::Code::kInternal, "none");
    waiter.notify([&] { out = got.at(i); });
    return out;
  }
};

// A server with the test methods registered.
struct TestServer {
  explicit TestServer(RpcServer::Options options = {}) {
    options.address = "127.0.0.1";
    if (options.port == 8300) options.port = 0;
    server = std::make_unique<RpcServer>(options);
    server->handle(kEcho,
                   [](Request r, Responder responder) { responder.respond("echo:" + r.payload); });
    server->handle(kFail, [](Request, Responder responder) {
      responder.fail(core::make_error(core::Code::kNotLeader, "not the leader"));
    });
    server->handle(kHold, [this](Request r, Responder responder) {
      held.notify([&] { held_requests.emplace_back(std::move(r), std::move(responder)); });
    });
    server->handle(kDrop, [](Request, Responder) {});
    server->on_message(
        [this](Message m) { messages_waiter.notify([&] { messages.push_back(m.payload); }); });
  }
  std::uint16_t start() {
    auto port = server->start();
    EXPECT_TRUE(port.has_value()) << port.error().message;
    return port ? *port : 0;
  }
  std::size_t held_count() {
    std::size_t n = 0;
    held.notify([&] { n = held_requests.size(); });
    return n;
  }

  std::unique_ptr<RpcServer> server;
  Waiter held;
  std::vector<std::pair<Request, Responder>> held_requests;
  Waiter messages_waiter;
  std::vector<std::string> messages;
};

std::string at(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

RpcClient::Options fast_client() {
  RpcClient::Options o;
  o.backoff_initial = 10ms;
  o.backoff_max = 100ms;
  o.connect_timeout = 2s;
  return o;
}

// A port nobody listens on: bound, then closed.
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A listener that never accepts: the kernel completes the handshake, takes the bytes into its
// buffers (until they are full) and nothing ever answers, as with a host frozen or cut off
// behind a partition.
struct SilentListener {
  SilentListener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd); }
  int fd = -1;
  std::uint16_t port = 0;
};

// A raw TCP client: connects, writes `bytes`, and returns what the server sent until it closed
// the connection (or 5 s passed: then `closed` is false).
struct RawResult {
  std::string received;
  bool closed = false;
};
RawResult raw_exchange(std::uint16_t port, const std::string& bytes) {
  RawResult out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  if (!bytes.empty()) {
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) {
      out.closed = true;
      break;
    }
    if (n < 0) {
      // ECONNRESET also means the server closed it (with our bytes unread).
      out.closed = errno == ECONNRESET;
      break;
    }
    out.received.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(RpcTransport, RequestResponse) {
  Results results;  // before the client: its callbacks may run until the client stops
  TestServer server;
  const auto port = server.start();
  RpcClient client(fast_client());
  client.start();
  ASSERT_TRUE(client.call(at(port), kEcho, "hello", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1));
  auto r = results.at(0);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, "echo:hello");

  // One at a time: answers may come back in any order.
  ASSERT_TRUE(client.call(at(port), kFail, "", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(2));
  ASSERT_TRUE(client.call(at(port), 99, "", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(3));
  ASSERT_TRUE(client.call(at(port), kDrop, "", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(4));
  EXPECT_EQ(results.at(1).error().code, core::Code::kNotLeader);
  EXPECT_EQ(results.at(1).error().message, "not the leader");
  EXPECT_EQ(results.at(2).error().code, core::Code::kNotFound);
  EXPECT_EQ(results.at(3).error().code, core::Code::kInternal);
  EXPECT_NE(results.at(3).error().message.find("dropped the request"), std::string::npos);
  client.stop();
  server.server->stop();
  EXPECT_EQ(server.server->stats().connections_accepted, 1u);
  EXPECT_EQ(client.stats().connects, 1u);
}

TEST(RpcTransport, ManyConcurrentCallsShareOneConnectionAndMayFinishOutOfOrder) {
  Results results;
  TestServer server;
  const auto port = server.start();
  RpcClient::Options options = fast_client();
  options.threads = 2;
  RpcClient client(options);
  client.start();
  constexpr std::size_t kCalls = 300;
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&, t] {
      for (std::size_t i = t; i < kCalls; i += 3) {
        EXPECT_TRUE(
            client.call(at(port), kHold, std::to_string(i), 10s, results.callback()).has_value());
      }
    });
  }
  for (auto& c : callers) c.join();
  ASSERT_TRUE(server.held.wait([&] { return server.held_requests.size() == kCalls; }));
  // Answer from another thread, last request first.
  std::thread answerer([&] {
    std::vector<std::pair<Request, Responder>> held;
    server.held.notify([&] { held.swap(server.held_requests); });
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      it->second.respond("re:" + it->first.payload);
    }
  });
  answerer.join();
  ASSERT_TRUE(results.wait_count(kCalls));
  std::vector<bool> seen(kCalls, false);
  for (std::size_t i = 0; i < kCalls; ++i) {
    auto r = results.at(i);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    const auto n = std::stoul(r->substr(3));
    ASSERT_LT(n, kCalls);
    EXPECT_FALSE(seen[n]) << n;
    seen[n] = true;
  }
  // The first answer to arrive was the last request's.
  EXPECT_NE(*results.at(0), "re:0");
  client.stop();
  server.server->stop();
  EXPECT_EQ(server.server->stats().connections_accepted, 1u);
}

TEST(RpcTransport, OneWayMessagesArriveInOrder) {
  TestServer server;
  const auto port = server.start();
  RpcClient client(fast_client());
  client.start();
  constexpr int kMessages = 2000;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(client.send(at(port), kLog, std::to_string(i)).has_value());
  }
  ASSERT_TRUE(server.messages_waiter.wait([&] { return server.messages.size() == kMessages; }))
      << server.messages.size() << " arrived; dropped " << client.stats().messages_dropped;
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(server.messages[i], std::to_string(i));
  client.stop();
  EXPECT_EQ(client.stats().messages_sent, static_cast<std::uint64_t>(kMessages));
  EXPECT_EQ(client.stats().messages_dropped, 0u);
  server.server->stop();
}

TEST(RpcTransport, ReconnectsAfterTheServerRestarts) {
  Results results;
  auto server = std::make_unique<TestServer>();
  const auto port = server->start();
  RpcClient client(fast_client());
  client.start();
  ASSERT_TRUE(client.call(at(port), kEcho, "1", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1));
  ASSERT_TRUE(results.at(0).has_value());

  server->server->stop();
  server.reset();
  // While the server is down, calls fail promptly with kUnavailable naming the destination.
  ASSERT_TRUE(client.call(at(port), kEcho, "2", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(2, 3s));
  auto down = results.at(1);
  ASSERT_FALSE(down.has_value());
  EXPECT_EQ(down.error().code, core::Code::kUnavailable);
  EXPECT_NE(down.error().message.find("rpc error: connection to " + at(port)), std::string::npos)
      << down.error().message;

  RpcServer::Options options;
  options.port = port;
  TestServer again(options);
  ASSERT_EQ(again.start(), port);
  // Retry until the backoff lets a new connection through; bounded by backoff_max.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  bool ok = false;
  for (std::size_t n = 3; !ok && std::chrono::steady_clock::now() < deadline; ++n) {
    ASSERT_TRUE(client.call(at(port), kEcho, "3", 5s, results.callback()).has_value());
    ASSERT_TRUE(results.wait_count(n));
    ok = results.at(n - 1).has_value();
    if (!ok) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(ok);
  client.stop();
  EXPECT_GE(client.stats().connects, 2u);
  again.server->stop();
}

TEST(RpcTransport, CallsTimeOut) {
  Results results;
  TestServer server;
  const auto port = server.start();
  RpcClient client(fast_client());
  client.start();
  const auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.call(at(port), kHold, "slow", 100ms, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1, 5s));
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  auto r = results.at(0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::Code::kTimeout);
  EXPECT_NE(r.error().message.find("timed out after 100ms"), std::string::npos);
  EXPECT_GE(elapsed, 100ms);
  EXPECT_LT(elapsed, 3s);
  // A late answer is ignored; the connection keeps working.
  ASSERT_TRUE(server.held.wait([&] { return server.held_requests.size() == 1; }));
  server.held_requests[0].second.respond("late");
  ASSERT_TRUE(client.call(at(port), kEcho, "x", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(2));
  EXPECT_EQ(*results.at(1), "echo:x");
  client.stop();
  EXPECT_EQ(client.stats().calls_timed_out, 1u);
  server.server->stop();
}

TEST(RpcTransport, AClosedPortFailsPromptly) {
  Results results;
  std::atomic<int> unreachable{0};
  RpcClient::Options options = fast_client();
  options.on_unreachable = [&](const std::string&) { ++unreachable; };
  RpcClient client(options);
  client.start();
  const auto port = closed_port();
  const auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.call(at(port), kEcho, "x", 10s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  auto r = results.at(0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::Code::kUnavailable);
  EXPECT_NE(r.error().message.find("connection to " + at(port)), std::string::npos)
      << r.error().message;
  // Messages to it are dropped and counted, not queued.
  ASSERT_TRUE(client.send(at(port), kLog, "lost").has_value());
  client.stop();
  EXPECT_GE(client.stats().messages_dropped, 1u);
  EXPECT_GE(client.stats().connect_failures, 1u);
  EXPECT_GE(unreachable.load(), 1);
}

// A working connection that drops, and whose port then refuses, means the process behind it
// is gone; a port that never answered is only unreachable.
TEST(RpcTransport, ADroppedConnectionToAClosedPortReportsThePeerGone) {
  Results results;
  Waiter gone_waiter;
  std::vector<std::string> gone;
  RpcClient::Options options = fast_client();
  options.on_peer_gone = [&](const std::string& address) {
    gone_waiter.notify([&] { gone.push_back(address); });
  };
  RpcClient client(options);
  client.start();
  // Never connected: no report.
  const auto closed = closed_port();
  ASSERT_TRUE(client.call(at(closed), kEcho, "x", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1));

  auto server = std::make_unique<TestServer>();
  const auto port = server->start();
  ASSERT_TRUE(client.call(at(port), kEcho, "1", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(2));
  ASSERT_TRUE(results.at(1).has_value());
  server->server->stop();
  server.reset();
  ASSERT_TRUE(gone_waiter.wait([&] { return !gone.empty(); }));
  gone_waiter.notify([&] { EXPECT_EQ(gone, std::vector<std::string>{at(port)}); });
  client.stop();
}

TEST(RpcTransport, AFullSendQueueDropsMessagesAndFailsCalls) {
  // A listener that never reads: once the kernel's buffers are full, frames pile up in the
  // client's queue until send_queue_max.
  SilentListener silent;
  const std::uint16_t port = silent.port;

  Results results;
  RpcClient::Options options = fast_client();
  options.send_queue_max = 4;
  RpcClient client(options);
  client.start();
  const std::string big(256 * 1024, 'b');
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(client.send(at(port), kLog, big).has_value());
  ASSERT_TRUE(client.call(at(port), kEcho, "x", 200ms, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1, 5s));
  auto r = results.at(0);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().code == core::Code::kUnavailable || r.error().code == core::Code::kTimeout)
      << r.error().message;
  client.stop();
  EXPECT_GT(client.stats().messages_dropped, 0u);
  EXPECT_LT(client.stats().messages_sent, 200u);
}

TEST(RpcTransport, RefusesANonRpcClientAndKeepsServing) {
  Results results;
  TestServer server;
  const auto port = server.start();
  RpcClient client(fast_client());
  client.start();
  ASSERT_TRUE(client.call(at(port), kEcho, "before", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1));

  const auto http = raw_exchange(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_TRUE(http.closed);
  EXPECT_EQ(http.received, "");  // not even our preamble
  const auto tls =
      raw_exchange(port, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  EXPECT_TRUE(tls.closed);

  ASSERT_TRUE(client.call(at(port), kEcho, "after", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(2));
  EXPECT_EQ(*results.at(1), "echo:after");
  client.stop();
  server.server->stop();
  EXPECT_GE(server.server->stats().connections_refused, 2u);
}

TEST(RpcTransport, AnsweredPreambleThenIdleTimeout) {
  RpcServer::Options options;
  options.idle_timeout = 100ms;
  TestServer server(options);
  const auto port = server.start();
  const auto begin = std::chrono::steady_clock::now();
  const auto r = raw_exchange(port, std::string("PCRP\x01\x00\x00\x00", 8));
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.received, std::string("PCRP\x01\x00\x00\x00", 8));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 100ms);
  server.server->stop();
}

TEST(RpcTransport, KeepaliveHoldsAnIdleConnection) {
  Results results;
  RpcServer::Options options;
  options.idle_timeout = 200ms;
  TestServer server(options);
  const auto port = server.start();
  RpcClient::Options client_options = fast_client();
  client_options.keepalive_interval = 20ms;
  client_options.keepalive_timeout = 1s;
  RpcClient client(client_options);
  client.start();
  ASSERT_TRUE(client.call(at(port), kEcho, "1", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1));
  std::this_thread::sleep_for(600ms);  // three idle timeouts, bridged by pings
  ASSERT_TRUE(client.call(at(port), kEcho, "2", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(2));
  EXPECT_TRUE(results.at(1).has_value());
  client.stop();
  server.server->stop();
  EXPECT_EQ(server.server->stats().connections_accepted, 1u);
}

TEST(RpcTransport, BoundsRequestsInFlightPerConnection) {
  Results results;
  RpcServer::Options options;
  options.requests_in_flight_max = 2;
  TestServer server(options);
  const auto port = server.start();
  RpcClient client(fast_client());
  client.start();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.call(at(port), kHold, "", 5s, results.callback()).has_value());
  }
  ASSERT_TRUE(results.wait_count(1));
  auto busy = results.at(0);
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, core::Code::kUnavailable);
  EXPECT_NE(busy.error().message.find("busy"), std::string::npos);
  EXPECT_EQ(server.held_count(), 2u);
  server.held.notify([&] {
    for (auto& [request, responder] : server.held_requests) responder.respond("done");
  });
  ASSERT_TRUE(results.wait_count(3));
  client.stop();
  server.server->stop();
}

TEST(RpcTransport, ServerStopWithCallsInFlight) {
  Results results;
  RpcServer::Options options;
  options.drain_timeout = 200ms;
  TestServer server(options);
  const auto port = server.start();
  RpcClient client(fast_client());
  client.start();
  ASSERT_TRUE(client.call(at(port), kEcho, "warm", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client.call(at(port), kHold, "", 30s, results.callback()).has_value());
  }
  ASSERT_TRUE(server.held.wait([&] { return server.held_requests.size() == 10; }));
  // One answer arrives during the drain; the rest never do.
  std::thread late([&] {
    std::this_thread::sleep_for(50ms);
    server.held.notify([&] { server.held_requests[0].second.respond("drained"); });
  });
  const auto begin = std::chrono::steady_clock::now();
  server.server->stop();
  late.join();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  ASSERT_TRUE(results.wait_count(11));
  std::size_t ok = 0;
  std::size_t unavailable = 0;
  for (std::size_t i = 1; i < 11; ++i) {
    auto r = results.at(i);
    if (r.has_value()) {
      EXPECT_EQ(*r, "drained");
      ++ok;
    } else {
      EXPECT_EQ(r.error().code, core::Code::kUnavailable) << r.error().message;
      ++unavailable;
    }
  }
  EXPECT_EQ(ok, 1u);
  EXPECT_EQ(unavailable, 9u);
  // Answers after stop() are dropped quietly, and so are the Responders.
  server.held.notify([&] {
    for (auto& [request, responder] : server.held_requests) responder.respond("too late");
  });
  server.held_requests.clear();
  client.stop();
}

TEST(RpcTransport, ClientStopFailsPendingCallsBeforeReturning) {
  Results results;
  TestServer server;
  const auto port = server.start();
  RpcClient client(fast_client());
  client.start();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client.call(at(port), kHold, "", 30s, results.callback()).has_value());
  }
  ASSERT_TRUE(server.held.wait([&] { return server.held_requests.size() == 5; }));
  client.stop();
  // Every callback has run by the time stop() returned.
  ASSERT_TRUE(results.wait_count(5, 0ms));
  for (std::size_t i = 0; i < 5; ++i) {
    auto r = results.at(i);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, "rpc error: client stopped");
  }
  // And nothing runs after: calls are refused synchronously.
  auto refused = client.call(at(port), kEcho, "", 1s, results.callback());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::Code::kUnavailable);
  server.held.notify([&] {
    for (auto& [request, responder] : server.held_requests) responder.respond("x");
  });
  server.server->stop();
  EXPECT_EQ(results.got.size(), 5u);
}

TEST(RpcTransport, RefusesWhatCannotBeSent) {
  Results results;
  RpcClient::Options options = fast_client();
  options.payload_size_max = 16;
  RpcClient client(options);
  client.start();
  auto big = client.call("127.0.0.1:1", kEcho, std::string(17, 'x'), 1s, results.callback());
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, core::Code::kTooLarge);
  for (const char* bad : {"127.0.0.1", "localhost:8300", "127.0.0.1:0", "127.0.0.1:70000",
                          "::1:8300", "[::1]8300", ""}) {
    auto r = client.send(bad, kLog, "x");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, core::Code::kInvalidArgument) << bad;
  }
  client.stop();
  EXPECT_TRUE(results.got.empty());
}

// The TLS seam: a wrapper on both sides sees every byte of both directions.
class CountingStream final : public Stream {
 public:
  CountingStream(std::unique_ptr<Stream> inner, std::atomic<std::size_t>& bytes)
      : inner_(std::move(inner)), bytes_(bytes) {}
  void read_some(std::span<std::uint8_t> buffer, Done done) override {
    inner_->read_some(buffer, [this, done = std::move(done)](core::Result<std::size_t> r) {
      if (r) bytes_ += *r;
      done(std::move(r));
    });
  }
  void write(std::span<const std::uint8_t> bytes, Done done) override {
    inner_->write(bytes, [this, done = std::move(done)](core::Result<std::size_t> r) {
      if (r) bytes_ += *r;
      done(std::move(r));
    });
  }
  void close() override { inner_->close(); }

 private:
  std::unique_ptr<Stream> inner_;
  std::atomic<std::size_t>& bytes_;
};

TEST(RpcTransport, StreamWrapperSeesTheTraffic) {
  Results results;
  std::atomic<std::size_t> server_bytes{0};
  std::atomic<std::size_t> client_bytes{0};
  std::atomic<int> wrapped_clients{0};
  RpcServer::Options options;
  options.wrap_stream = [&](std::unique_ptr<Stream> s, bool client,
                            const std::string&) -> core::Result<std::unique_ptr<Stream>> {
    EXPECT_FALSE(client);
    return std::unique_ptr<Stream>(std::make_unique<CountingStream>(std::move(s), server_bytes));
  };
  TestServer server(options);
  const auto port = server.start();
  RpcClient::Options client_options = fast_client();
  client_options.wrap_stream =
      [&](std::unique_ptr<Stream> s, bool client,
          const std::string& peer) -> core::Result<std::unique_ptr<Stream>> {
    EXPECT_TRUE(client);
    EXPECT_EQ(peer, at(port));
    ++wrapped_clients;
    return std::unique_ptr<Stream>(std::make_unique<CountingStream>(std::move(s), client_bytes));
  };
  RpcClient client(client_options);
  client.start();
  ASSERT_TRUE(client.call(at(port), kEcho, "wrapped", 5s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1));
  EXPECT_EQ(*results.at(0), "echo:wrapped");
  client.stop();
  server.server->stop();
  EXPECT_EQ(wrapped_clients.load(), 1);
  // Both preambles, the request and the response went through each side's wrapper.
  const std::size_t expected = 2 * kPreambleSize + 2 * kFrameHeaderSize + 7 + 12;
  EXPECT_EQ(server_bytes.load(), expected);
  EXPECT_EQ(client_bytes.load(), expected);
}

TEST(RpcTransport, StartFailsOnATakenPort) {
  TestServer first;
  const auto port = first.start();
  RpcServer::Options options;
  options.port = port;
  options.address = "127.0.0.1";
  RpcServer second(options);
  auto r = second.start();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::Code::kIoError);
  EXPECT_NE(r.error().message.find("bind"), std::string::npos) << r.error().message;
  first.server->stop();
}

// Whether a failed call may go to another server even when it writes: only when the request
// surely never reached a handler (federation/wan_dc_caller.h relies on it).
TEST(RpcTransport, NeverHandledTellsUnsentFromMaybeSent) {
  auto unavailable = [](std::string m) { return core::make_error(core::Code::kUnavailable, m); };
  EXPECT_TRUE(
      never_handled(unavailable("rpc error: connection to 10.0.0.1:8300 failed: connect: "
                                "Connection refused")));
  EXPECT_TRUE(
      never_handled(unavailable("rpc error: connection to 10.0.0.1:8300 unavailable: "
                                "connect: Connection refused (retrying in 20ms)")));
  EXPECT_TRUE(never_handled(unavailable("rpc: server stopping")));
  EXPECT_TRUE(
      never_handled(unavailable("rpc: server busy: 9 requests in flight on this "
                                "connection")));
  EXPECT_FALSE(
      never_handled(unavailable("rpc error: connection to 10.0.0.1:8300 closed: end of "
                                "stream")));
  EXPECT_FALSE(never_handled(core::make_error(core::Code::kTimeout,
                                              "rpc error: call to x timed "
                                              "out after 5ms")));
  EXPECT_FALSE(never_handled(unavailable("No cluster leader")));
  // And the text a real refused connect produces.
  RpcClient client({});
  client.start();
  std::promise<core::Result<std::string>> got;
  ASSERT_TRUE(client.call("127.0.0.1:" + std::to_string(closed_port()), 9, "x", 2s,
                          [&got](core::Result<std::string> r) { got.set_value(std::move(r)); }));
  auto r = got.get_future().get();
  ASSERT_FALSE(r);
  EXPECT_TRUE(never_handled(r.error())) << r.error().message;
  client.stop();
}

TEST(RpcTransport, NoAnswerInTimeTellsTheClientsDeadlineFromAHandlersTimeout) {
  EXPECT_TRUE(no_answer_in_time(core::make_error(
      core::Code::kTimeout, "rpc error: call to 10.0.0.1:8300 (method 18) timed out after 5ms")));
  EXPECT_FALSE(no_answer_in_time(core::make_error(core::Code::kTimeout, "raft apply timed out")));
  EXPECT_FALSE(no_answer_in_time(core::make_error(
      core::Code::kUnavailable, "rpc error: connection to 10.0.0.1:8300 closed: end of stream")));
}

TEST(RpcTransport, ASilentPeerFailsWaitingCallsWithinTheSilenceTimeout) {
  SilentListener silent;
  RpcClient::Options options = fast_client();
  options.silence_timeout = 300ms;
  RpcClient client(options);
  client.start();
  Results results;
  const auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.call(at(silent.port), kEcho, "x", 20s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1, 15s));
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  auto r = results.at(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kUnavailable);
  EXPECT_NE(r.error().message.find("no answer"), std::string::npos) << r.error().message;
  // It may have been written: not a request that surely never reached a handler.
  EXPECT_FALSE(never_handled(r.error()));
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 10s);  // far below the call's own 20 s
  client.stop();
}

TEST(RpcTransport, APeerThatStopsAnsweringIsCutOffButASlowHandlerIsNot) {
  constexpr Method kFreeze = 5;  // blocks the server's only I/O thread: no pong either
  TestServer server;
  std::promise<void> thaw;
  std::shared_future<void> thawed = thaw.get_future().share();
  server.server->handle(kFreeze, [thawed](Request, Responder) { thawed.wait(); });
  const auto port = server.start();
  RpcClient::Options options = fast_client();
  options.silence_timeout = 1s;  // a pong has 0.67 s to come back: slack for a loaded host
  RpcClient client(options);
  client.start();
  Results results;
  // Slow but alive: the held request outlasts the silence timeout several times over, the
  // pings keep being answered, and it ends at its own deadline on the same connection.
  ASSERT_TRUE(client.call(at(port), kHold, "slow", 3500ms, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(1, 10s));
  EXPECT_EQ(results.at(0).error().code, core::Code::kTimeout) << results.at(0).error().message;
  EXPECT_EQ(client.stats().connects, 1u);
  // The server's process stops answering with the connection open: the call waiting on it
  // and a second one behind it fail together once the silence timeout passes.
  const auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.call(at(port), kFreeze, "", 20s, results.callback()).has_value());
  ASSERT_TRUE(client.call(at(port), kEcho, "after", 20s, results.callback()).has_value());
  ASSERT_TRUE(results.wait_count(3, 15s));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  for (std::size_t i : {1u, 2u}) {
    auto r = results.at(i);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Code::kUnavailable);
    EXPECT_NE(r.error().message.find("no answer"), std::string::npos) << r.error().message;
  }
  thaw.set_value();
  // Answering again: a new connection, after the backoff.
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {
    std::promise<core::Result<std::string>> got;
    ASSERT_TRUE(client.call(at(port), kEcho, "again", 5s,
                            [&got](core::Result<std::string> r) { got.set_value(std::move(r)); }));
    auto r = got.get_future().get();
    answered = r && *r == "echo:again";
    if (!answered) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(answered);
  EXPECT_EQ(client.stats().connects, 2u);
  client.stop();
  server.server->stop();
}

}  // namespace
}  // namespace pc::rpc
