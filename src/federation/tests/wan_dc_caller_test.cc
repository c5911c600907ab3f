// The cross-datacenter call (federation/wan_dc_caller.h) against real rpc servers on loopback:
// the servers of the named datacenter, failover past dead ones, the write rule, the bounds.
#include "federation/wan_dc_caller.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>

#include "gossip/tags.h"

namespace pc::federation {
namespace {

using namespace std::chrono_literals;

constexpr rpc::Method kEcho = 24;

gossip::MemberInfo wan_member(const std::string& name, const std::string& dc, std::uint16_t port,
                              gossip::MemberState state = gossip::MemberState::kAlive) {
  gossip::MemberInfo m;
  m.name = name + "." + dc;
  m.addr = "127.0.0.1:8302";
  m.state = state;
  m.meta = *gossip::encode_tags({{"role", "consul"}, {"dc", dc}, {"port", std::to_string(port)}});
  return m;
}

// An rpc server that answers kEcho with its name and the payload, or holds the request (alive
// and slow: it still answers pings), or, once frozen, blocks its only I/O thread in the
// handler until destroyed, so nothing comes back on its connections, not even a pong: a
// server cut off by a partition or stopped, its pooled connection still open.
struct EchoServer {
  explicit EchoServer(std::string name, bool hold = false) {
    rpc::RpcServer::Options o;
    o.port = 0;
    o.drain_timeout = 50ms;
    server = std::make_unique<rpc::RpcServer>(o);
    std::shared_future<void> thawed = thaw.get_future().share();
    server->handle(kEcho, [this, name, hold, thawed](rpc::Request r, rpc::Responder resp) {
      {
        std::lock_guard lock(mu);
        ++calls;
        if (hold) {
          held.push_back(resp);
          return;
        }
      }
      if (frozen) {
        thawed.wait();
        return;
      }
      resp.respond(name + ":" + r.payload);
    });
    port = *server->start();
  }
  ~EchoServer() {
    thaw.set_value();
    server->stop();
  }
  int call_count() {
    std::lock_guard lock(mu);
    return calls;
  }
  std::unique_ptr<rpc::RpcServer> server;
  std::uint16_t port = 0;
  std::mutex mu;
  int calls = 0;
  std::vector<rpc::Responder> held;
  std::atomic<bool> frozen{false};
  std::promise<void> thaw;
};

// A port nothing listens on: a server bound, then stopped.
std::uint16_t dead_port() {
  EchoServer s("dead");
  s.server->stop();
  return s.port;
}

struct Fixture : ::testing::Test {
  void make(std::size_t attempts_max = 3,
            std::chrono::milliseconds silence_timeout = std::chrono::seconds(2)) {
    WanDcCallerOptions o;
    o.members = [this] {
      std::lock_guard lock(mu);
      return members;
    };
    o.attempts_max = attempts_max;
    o.silence_timeout = silence_timeout;
    caller = std::make_unique<WanDcCaller>(o);
    caller->start();
  }
  void set_members(std::vector<gossip::MemberInfo> m) {
    std::lock_guard lock(mu);
    members = std::move(m);
  }
  core::Result<std::string> call(const std::string& dc, std::string payload,
                                 core::Duration timeout = 5s, bool idempotent = false) {
    std::promise<core::Result<std::string>> p;
    auto done = [&p](core::Result<std::string> r) { p.set_value(std::move(r)); };
    if (idempotent) {
      caller->call_idempotent(dc, kEcho, std::move(payload), timeout, done);
    } else {
      caller->call(dc, kEcho, std::move(payload), timeout, done);
    }
    return p.get_future().get();
  }
  core::Result<std::string> call_bounded(const std::string& dc, std::string payload,
                                         DcCallBounds bounds, bool idempotent) {
    std::promise<core::Result<std::string>> p;
    caller->call_bounded(dc, kEcho, std::move(payload), bounds, idempotent,
                         [&p](core::Result<std::string> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  std::mutex mu;
  std::vector<gossip::MemberInfo> members;
  std::unique_ptr<WanDcCaller> caller;
};

TEST_F(Fixture, CallsAServerOfTheNamedDatacenter) {
  EchoServer dc1("one"), dc2("two");
  set_members({wan_member("a", "dc1", dc1.port), wan_member("b", "dc2", dc2.port)});
  make();
  auto r = call("dc2", "hi");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "two:hi");
  EXPECT_EQ(dc1.call_count(), 0);
  EXPECT_EQ(caller->known_datacenters(), (std::vector<std::string>{"dc1", "dc2"}));
}

TEST_F(Fixture, UnknownOrFailedDatacenterHasNoPath) {
  EchoServer dc2("two");
  set_members({wan_member("b", "dc2", dc2.port, gossip::MemberState::kDead)});
  make();
  for (const char* dc : {"nope", "dc2"}) {
    auto r = call(dc, "x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Code::kUnavailable);
    EXPECT_EQ(r.error().message, "No path to datacenter");
  }
  EXPECT_EQ(dc2.call_count(), 0);
  EXPECT_EQ(caller->known_datacenters(), std::vector<std::string>{"dc2"});
}

TEST_F(Fixture, MovesPastAServerThatRefusesEvenForWrites) {
  EchoServer live("live");
  set_members({wan_member("dead", "dc2", dead_port()), wan_member("live", "dc2", live.port)});
  make();
  // The order is random: enough calls that the dead server comes first in some.
  for (int i = 0; i < 12; ++i) {
    auto r = call("dc2", "w");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, "live:w");
  }
  EXPECT_EQ(live.call_count(), 12);
}

TEST_F(Fixture, NoneReachableIsNoPath) {
  set_members({wan_member("d1", "dc2", dead_port()), wan_member("d2", "dc2", dead_port())});
  make();
  const auto start = std::chrono::steady_clock::now();
  auto r = call("dc2", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "No path to datacenter");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(Fixture, TriesAtMostAttemptsMaxServers) {
  EchoServer live("live");
  std::vector<gossip::MemberInfo> m;
  for (int i = 0; i < 4; ++i) m.push_back(wan_member("d" + std::to_string(i), "dc2", dead_port()));
  m.push_back(wan_member("live", "dc2", live.port));
  set_members(m);
  make(/*attempts_max=*/2);
  // With two tries among five servers, four of them dead, some calls find no live one.
  // (Each call reaches the live one with probability 2/5: 40 calls all alike is ~1e-9.)
  int failed = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = call("dc2", "x");
    if (!r) {
      EXPECT_EQ(r.error().message, "No path to datacenter");
      ++failed;
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, 40);
  EXPECT_EQ(live.call_count(), 40 - failed);
}

TEST_F(Fixture, TimeoutBoundsTheWholeCall) {
  EchoServer hold("hold", /*hold=*/true);
  set_members({wan_member("h", "dc2", hold.port)});
  make();
  const auto start = std::chrono::steady_clock::now();
  auto r = call("dc2", "x", 300ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kTimeout);
  // The datacenter's name, not the rpc layer's address and method number.
  EXPECT_EQ(r.error().message, "rpc error: call to datacenter dc2 timed out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(Fixture, AWriteThatMayHaveArrivedIsNotSentAgain) {
  EchoServer hold("hold", /*hold=*/true);
  set_members({wan_member("h", "dc2", hold.port)});
  make();
  std::promise<core::Result<std::string>> write, read;
  caller->call("dc2", kEcho, "w", 10s,
               [&write](core::Result<std::string> r) { write.set_value(std::move(r)); });
  caller->call_idempotent("dc2", kEcho, "r", 10s,
                          [&read](core::Result<std::string> r) { read.set_value(std::move(r)); });
  while (hold.call_count() < 2) std::this_thread::sleep_for(5ms);
  // The server goes away with both requests in hand: the connection closes under them.
  hold.server->stop();
  auto w = write.get_future().get();
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, core::Code::kUnavailable);
  EXPECT_NE(w.error().message, "No path to datacenter") << "a write was treated as never sent";
  // The read was free to try another server; there is none left.
  auto r = read.get_future().get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "No path to datacenter");
}

TEST_F(Fixture, StoppedCallerFailsAtOnce) {
  EchoServer dc2("two");
  set_members({wan_member("b", "dc2", dc2.port)});
  make();
  caller->stop();
  auto r = call("dc2", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kUnavailable);
}

TEST_F(Fixture, AReadMovesPastAServerThatDoesNotAnswerWithinTheAttemptBound) {
  EchoServer hold("hold", /*hold=*/true), live("live");
  set_members({wan_member("h", "dc2", hold.port), wan_member("l", "dc2", live.port)});
  make();
  for (int i = 0; i < 8; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r = call_bounded("dc2", "r", DcCallBounds{20s, 300ms}, /*idempotent=*/true);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, "live:r");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  }
  // The random order put the slow server first in some of them (each 1/2: all eight alike
  // is under 1%, and then this is the only check that cannot tell).
  EXPECT_EQ(live.call_count(), 8);
}

TEST_F(Fixture, AWriteThatGetsNoAnswerWithinTheAttemptBoundIsNotSentAgain) {
  EchoServer hold("hold", /*hold=*/true), live("live");
  set_members({wan_member("h", "dc2", hold.port), wan_member("l", "dc2", live.port)});
  make();
  int timed_out = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = call_bounded("dc2", "w", DcCallBounds{20s, 200ms}, /*idempotent=*/false);
    if (r) {
      EXPECT_EQ(*r, "live:w");
      continue;
    }
    ++timed_out;
    EXPECT_EQ(r.error().code, core::Code::kTimeout);
    EXPECT_EQ(r.error().message, "rpc error: call to datacenter dc2 timed out");
  }
  // Each write went to exactly one server.
  EXPECT_EQ(hold.call_count(), timed_out);
  EXPECT_EQ(live.call_count(), 12 - timed_out);
}

TEST_F(Fixture, AServerThatStopsAnsweringOnItsOpenConnectionIsPassedOverInSeconds) {
  EchoServer gone("gone"), live("live");
  // A working pooled connection to the server first; then it stops answering, not even pings.
  set_members({wan_member("g", "dc2", gone.port)});
  make(/*attempts_max=*/3, /*silence_timeout=*/300ms);
  ASSERT_TRUE(call("dc2", "warm", 5s, true));
  gone.frozen = true;
  set_members({wan_member("g", "dc2", gone.port), wan_member("l", "dc2", live.port)});
  for (int i = 0; i < 6; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r = call_bounded("dc2", "r", DcCallBounds{30s, 10s}, /*idempotent=*/true);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, "live:r");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "waited on the silent server";
  }
  EXPECT_GE(gone.call_count(), 2);  // the warm-up, and at least the call that found it silent
}

TEST_F(Fixture, ADatacenterWhoseServersAllWentSilentFailsCleanlyWithinTheBound) {
  EchoServer a("a"), b("b");
  set_members({wan_member("a", "dc2", a.port), wan_member("b", "dc2", b.port)});
  make(/*attempts_max=*/3, /*silence_timeout=*/300ms);
  // Both connections pooled and working (reads spread at random over the two).
  while (a.call_count() == 0 || b.call_count() == 0) ASSERT_TRUE(call("dc2", "warm", 5s, true));
  a.frozen = true;
  b.frozen = true;
  // A read tries both and has no path; a write may have run on the first, so it is not
  // retried and says the connection was lost. Both long before the calls' own 30 s.
  auto start = std::chrono::steady_clock::now();
  auto r = call_bounded("dc2", "r", DcCallBounds{30s, 10s}, /*idempotent=*/true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kUnavailable);
  EXPECT_EQ(r.error().message, "No path to datacenter");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // The silent connections were dropped: the next call redials instead of waiting on them.
  start = std::chrono::steady_clock::now();
  auto w = call_bounded("dc2", "w", DcCallBounds{30s, 10s}, /*idempotent=*/false);
  ASSERT_FALSE(w);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(w.error().message ==
                  "rpc error: connection to datacenter dc2 lost before its "
                  "answer" ||
              w.error().message == "No path to datacenter")
      << w.error().message;
}

TEST_F(Fixture, ServersGossipFoundFailedDuringTheCallAreNotTried) {
  EchoServer h1("h1", /*hold=*/true), h2("h2", /*hold=*/true);
  set_members({wan_member("h1", "dc2", h1.port), wan_member("h2", "dc2", h2.port)});
  make();
  std::promise<core::Result<std::string>> p;
  const auto start = std::chrono::steady_clock::now();
  caller->call_bounded("dc2", kEcho, "r", DcCallBounds{20s, 500ms}, /*idempotent=*/true,
                       [&p](core::Result<std::string> r) { p.set_value(std::move(r)); });
  while (h1.call_count() + h2.call_count() == 0) std::this_thread::sleep_for(5ms);
  // While the first server is being waited for, the WAN pool finds both failed.
  set_members({wan_member("h1", "dc2", h1.port, gossip::MemberState::kDead),
               wan_member("h2", "dc2", h2.port, gossip::MemberState::kDead)});
  auto r = p.get_future().get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "rpc error: call to datacenter dc2 timed out");
  EXPECT_EQ(h1.call_count() + h2.call_count(), 1) << "a server known failed was tried";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace pc::federation
