// Three ReplicatedLogs talking through rpc/ over loopback TCP: the real server transport.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "consensus/runtime/forwarding_log.h"
#include "consensus/runtime/replicated_log.h"
#include "consensus/runtime/rpc_transport.h"

namespace pc::consensus {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class CountFsm final : public Fsm {
 public:
  std::any apply(std::uint64_t, std::string_view command) override {
    std::lock_guard lock(mu_);
    applied_.emplace_back(command);
    return applied_.size();
  }
  void publish() override {}
  std::vector<std::string> applied() const {
    std::lock_guard lock(mu_);
    return applied_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> applied_;
};

struct Server {
  raft::NodeId id = 0;
  std::string address;
  std::unique_ptr<rpc::RpcServer> rpc_server;
  std::unique_ptr<rpc::RpcClient> rpc_client;
  std::unique_ptr<RpcRaftTransport> transport;
  std::unique_ptr<ReplicatedLog> log;
  std::unique_ptr<ForwardingLog> forwarding;
  CountFsm fsm;
};

// CountFsm's result (how many commands it holds) as decimal text.
ResultCodec count_codec() {
  return ResultCodec{
      [](const std::any& a) { return std::to_string(std::any_cast<std::size_t>(a)); },
      [](std::string_view bytes) -> core::Result<std::any> {
        return std::any(static_cast<std::size_t>(std::stoull(std::string(bytes))));
      }};
}

// Three servers on loopback, Raft ticking every `tick`. With `gone_hint` the rpc client's
// on_peer_gone reaches the log, as the daemon wires it.
class ThreeServers {
 public:
  ThreeServers(std::chrono::milliseconds tick, bool gone_hint)
      : root_(fs::temp_directory_path() /
              ("pc-rpc-cluster-" + std::to_string(::getpid()) + "-" + std::to_string(++runs_))) {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      auto s = std::make_unique<Server>();
      s->id = id;
      rpc::RpcServer::Options so;
      so.address = "127.0.0.1";
      so.port = 0;
      s->rpc_server = std::make_unique<rpc::RpcServer>(so);
      Server* raw = s.get();
      s->rpc_server->on_message([raw](rpc::Message m) {
        if (m.method == kRpcRaftMessages && raw->transport) raw->transport->deliver(m);
      });
      // Handlers are registered before start(); the log they use comes later.
      s->rpc_server->handle(kRpcRaftApply, [raw](rpc::Request r, rpc::Responder responder) {
        raw->forwarding->handle_apply(std::move(r), std::move(responder));
      });
      auto port = s->rpc_server->start();
      EXPECT_TRUE(port) << port.error().message;
      if (!port) return;
      s->address = "127.0.0.1:" + std::to_string(*port);
      addresses_[id] = s->address;
      servers[id] = std::move(s);
    }
    for (auto& [id, s] : servers) {
      rpc::RpcClient::Options co;
      co.backoff_initial = 10ms;
      co.backoff_max = 200ms;
      Server* raw = s.get();
      if (gone_hint) {
        co.on_peer_gone = [this, raw](const std::string& address) {
          for (const auto& [peer, a] : addresses_) {
            if (a == address) raw->log->report_peer_gone(peer);
          }
        };
      }
      s->rpc_client = std::make_unique<rpc::RpcClient>(co);
      s->rpc_client->start();
      s->transport = std::make_unique<RpcRaftTransport>(*s->rpc_client, [this](raft::NodeId to) {
        auto it = addresses_.find(to);
        return it == addresses_.end() ? std::string() : it->second;
      });
      ReplicatedLogOptions o;
      o.id = id;
      o.self_address = s->address;
      o.dir = (root_ / ("n" + std::to_string(id))).string();
      o.bootstrap_voters = addresses_;
      o.tick = tick;
      o.seed = id;
      s->log = std::make_unique<ReplicatedLog>(o, s->fsm, *s->transport);
      s->transport->set_log(s->log.get());
      s->forwarding = std::make_unique<ForwardingLog>(*s->log, *s->rpc_client, count_codec());
      EXPECT_TRUE(s->log->start());
    }
  }
  ~ThreeServers() {
    for (auto& [id, s] : servers) stop(id);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // The leader among the running servers other than `not_this`, waiting up to `within`.
  raft::NodeId wait_leader(std::chrono::milliseconds within, raft::NodeId not_this = 0) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& [id, s] : servers) {
        if (id != not_this && !stopped_.count(id) && s->log->status().role == raft::Role::kLeader) {
          return id;
        }
      }
      std::this_thread::sleep_for(5ms);
    }
    return raft::kNoNode;
  }

  // What a killed process leaves: its log stops and its sockets close.
  void stop(raft::NodeId id) {
    if (!stopped_.insert(id).second) return;
    Server& s = *servers.at(id);
    s.log->stop();
    s.rpc_server->stop();
    s.rpc_client->stop();
  }

  std::map<raft::NodeId, std::unique_ptr<Server>> servers;

 private:
  static inline int runs_ = 0;
  fs::path root_;
  std::map<raft::NodeId, std::string> addresses_;  // written before any thread reads it
  std::set<raft::NodeId> stopped_;
};

TEST(RpcCluster, ThreeServersElectAndReplicateOverTcp) {
  ThreeServers cluster(10ms, /*gone_hint=*/false);
  auto& servers = cluster.servers;
  raft::NodeId leader = cluster.wait_leader(5s);
  ASSERT_NE(leader, raft::kNoNode);
  for (int i = 0; i < 20; ++i) {
    std::promise<core::Result<std::any>> p;
    servers[leader]->log->propose("cmd" + std::to_string(i),
                                  [&p](core::Result<std::any> r) { p.set_value(std::move(r)); });
    auto f = p.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    ASSERT_TRUE(f.get());
  }
  for (auto& [id, s] : servers) {
    bool done = false;
    for (int i = 0; i < 1000 && !done; ++i) {
      done = s->fsm.applied().size() == 20;
      if (!done) std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(done) << "server " << id << " applied " << s->fsm.applied().size();
  }
  // A follower's write is forwarded to the leader and answered after the follower applied it.
  raft::NodeId follower = leader == 1 ? 2 : 1;
  for (int i = 0; i < 200 && !servers[follower]->log->leader().known_leader; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  std::promise<std::pair<core::Result<std::any>, std::size_t>> fp;
  Server* f = servers[follower].get();
  f->forwarding->propose("forwarded", [&fp, f](core::Result<std::any> r) {
    fp.set_value({std::move(r), f->fsm.applied().size()});
  });
  auto ff = fp.get_future();
  ASSERT_EQ(ff.wait_for(5s), std::future_status::ready);
  auto [result, applied_then] = ff.get();
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(std::any_cast<std::size_t>(*result), 21u);
  EXPECT_GE(applied_then, 21u);  // read-your-write on the follower
  EXPECT_EQ(f->fsm.applied().back(), "forwarded");
}

// A leader whose process is gone (its port refuses the survivors' redials) is replaced
// without waiting out the election timeout: with a 200 ms tick that timeout is 2-4 s, and
// the survivors elect within a fraction of it. Without the hint they must wait it out.
TEST(RpcCluster, DeadLeaderProcessIsReplacedBeforeTheElectionTimeout) {
  for (bool hint : {true, false}) {
    SCOPED_TRACE(hint ? "with the peer-gone hint" : "without it");
    ThreeServers cluster(200ms, hint);
    const raft::NodeId leader = cluster.wait_leader(10s);
    ASSERT_NE(leader, raft::kNoNode);
    // Followers learn the leader (and open their connections to it) with its heartbeats.
    std::this_thread::sleep_for(600ms);
    const auto killed = std::chrono::steady_clock::now();
    cluster.stop(leader);
    const raft::NodeId next = cluster.wait_leader(1500ms, leader);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - killed);
    if (hint) {
      EXPECT_NE(next, raft::kNoNode) << "no new leader " << took.count() << "ms after the kill";
    } else {
      EXPECT_EQ(next, raft::kNoNode)
          << "elected after " << took.count() << "ms: faster than any election timeout";
    }
  }
}

// A leader cut off from the network (its rpc server and client stopped, its log running on)
// loses the leader lease for Consul's default reads within the lease duration, counted on
// the monotonic clock from its last acknowledged heartbeat, and never holds it while the
// other two have a leader. Without the peer-gone hint: a closed port with a live log is
// exactly what that hint must never see (ServerRuntime stops the log first).
TEST(RpcCluster, AnIsolatedLeaderLosesItsLeaseWithinTheLeaseDuration) {
  using Clock = std::chrono::steady_clock;
  ThreeServers cluster(20ms, /*gone_hint=*/false);
  auto& servers = cluster.servers;
  const raft::NodeId old = cluster.wait_leader(5s);
  ASSERT_NE(old, raft::kNoNode);
  ReplicatedLog& log = *servers[old]->log;
  bool held = false;
  for (int i = 0; i < 2000 && !held; ++i) {
    held = log.lease_valid();
    if (!held) std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(held) << "a connected leader never got its lease";
  EXPECT_TRUE(servers[old]->forwarding->lease_valid());  // what the HTTP edge asks
  const auto duration = log.lease_duration();
  EXPECT_EQ(duration, std::chrono::milliseconds(162));  // 90 % of 9 ticks of 20 ms
  servers[old]->rpc_server->stop();
  servers[old]->rpc_client->stop();
  const auto cut = Clock::now();
  std::optional<Clock::duration> lost_after;
  raft::NodeId next = raft::kNoNode;
  while (Clock::now() < cut + 5s && (next == raft::kNoNode || !lost_after)) {
    raft::NodeId seen = raft::kNoNode;
    for (auto& [id, s] : servers) {
      if (id != old && s->log->status().role == raft::Role::kLeader) seen = id;
    }
    const bool still = log.lease_valid();
    if (!still && !lost_after) lost_after = Clock::now() - cut;
    if (seen != raft::kNoNode) {
      next = seen;
      ASSERT_FALSE(still) << "old leader holds its lease while " << seen << " leads";
    }
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(lost_after.has_value());
  EXPECT_LT(*lost_after, duration + 40ms)
      << std::chrono::duration_cast<std::chrono::milliseconds>(*lost_after).count() << "ms";
  ASSERT_NE(next, raft::kNoNode) << "the other two elected no leader";
  bool next_held = false;
  for (int i = 0; i < 2000 && !next_held; ++i) {
    next_held = servers[next]->log->lease_valid();
    if (!next_held) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(next_held) << "the new leader never got its lease";
  EXPECT_FALSE(log.lease_valid());
}

}  // namespace
}  // namespace pc::consensus
