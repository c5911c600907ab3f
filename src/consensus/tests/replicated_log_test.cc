// ReplicatedLog: three servers in one process over an in-memory transport, each with its own
// data directory, driven in real time (10 ms ticks) with bounded waits.
#include "consensus/runtime/replicated_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace pc::consensus {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// "key=value" commands into a map; apply returns how many keys the map holds.
class MapFsm final : public Fsm {
 public:
  std::any apply(std::uint64_t index, std::string_view command) override {
    std::lock_guard lock(mu_);
    auto eq = command.find('=');
    map_[std::string(command.substr(0, eq))] = std::string(command.substr(eq + 1));
    last_ = index;
    return map_.size();
  }
  void publish() override {}
  core::Result<SnapshotWriter> snapshot() override {
    std::lock_guard lock(mu_);
    std::map<std::string, std::string> copy = map_;
    return SnapshotWriter([copy]() -> core::Result<std::string> {
      std::string out;
      for (const auto& [k, v] : copy) out += k + "=" + v + "\n";
      return out;
    });
  }
  core::Status restore(std::uint64_t index, std::string_view data) override {
    std::lock_guard lock(mu_);
    map_.clear();
    while (!data.empty()) {
      auto nl = data.find('\n');
      std::string_view line = data.substr(0, nl);
      auto eq = line.find('=');
      if (eq == std::string_view::npos) {
        return core::make_error(core::Code::kCorruption, "bad snapshot line");
      }
      map_[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
    }
    last_ = index;
    restores_++;
    return core::ok();
  }
  std::map<std::string, std::string> state() const {
    std::lock_guard lock(mu_);
    return map_;
  }
  int restores() const {
    std::lock_guard lock(mu_);
    return restores_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> map_;
  std::uint64_t last_ = 0;
  int restores_ = 0;
};

class Cluster;

// Delivers every message to its destination's inbox unless either end is cut off.
class LocalTransport final : public RaftTransport {
 public:
  LocalTransport(Cluster& cluster, raft::NodeId self) : cluster_(cluster), self_(self) {}
  void send(std::vector<raft::Message> messages) override;

 private:
  Cluster& cluster_;
  raft::NodeId self_;
};

class Cluster {
 public:
  explicit Cluster(int n, std::uint64_t snapshot_threshold = 16384,
                   std::uint64_t trailing_logs = 10240)
      : n_(n), threshold_(snapshot_threshold), trailing_(trailing_logs) {
    root_ = fs::temp_directory_path() / ("pc-replicated-log-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(root_);
    for (int i = 1; i <= n_; ++i) {
      fsms_[i] = std::make_unique<MapFsm>();
      transports_[i] = std::make_unique<LocalTransport>(*this, i);
    }
  }
  ~Cluster() {
    for (int i = 1; i <= n_; ++i) stop(i);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void start(raft::NodeId id) {
    ReplicatedLogOptions o;
    o.id = id;
    o.self_address = address(id);
    o.dir = (root_ / ("n" + std::to_string(id))).string();
    for (int i = 1; i <= n_; ++i) o.bootstrap_voters[i] = address(i);
    o.tick = 10ms;
    o.election_tick = 10;
    o.heartbeat_tick = 1;
    o.snapshot_threshold = threshold_;
    o.trailing_logs = trailing_;
    o.seed = id * 7919;
    o.wal_options.segment_size_bytes = 16 * 1024;  // many segments, so release_to has work
    auto log = std::make_unique<ReplicatedLog>(o, *fsms_[id], *transports_[id]);
    ASSERT_TRUE(log->start()) << "node " << id;
    std::lock_guard lock(mu_);
    logs_[id] = std::move(log);
  }
  void start_all() {
    for (int i = 1; i <= n_; ++i) start(i);
  }
  void stop(raft::NodeId id) {
    std::unique_ptr<ReplicatedLog> log;
    {
      std::lock_guard lock(mu_);
      auto it = logs_.find(id);
      if (it == logs_.end()) return;
      log = std::move(it->second);
      logs_.erase(it);
    }
    log->stop();
  }
  // A stopped node's state machine is rebuilt from its disk at the next start.
  void reset_fsm(raft::NodeId id) { fsms_[id] = std::make_unique<MapFsm>(); }

  void deliver(raft::NodeId from, std::vector<raft::Message> messages) {
    std::lock_guard lock(mu_);
    for (auto& m : messages) {
      if (isolated_.count(from) != 0 || isolated_.count(m.to) != 0) continue;
      auto it = logs_.find(m.to);
      if (it != logs_.end()) it->second->receive(std::move(m));
    }
  }
  void isolate(raft::NodeId id) {
    std::lock_guard lock(mu_);
    isolated_.insert(id);
  }
  void heal() {
    std::lock_guard lock(mu_);
    isolated_.clear();
  }

  // The node every running, connected node agrees leads; kNoNode after `within`.
  raft::NodeId wait_leader(std::chrono::milliseconds within = 5s,
                           raft::NodeId excluding = raft::kNoNode) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        for (auto& [id, log] : logs_) {
          if (id == excluding || isolated_.count(id) != 0) continue;
          auto s = log->status();
          if (s.role == raft::Role::kLeader) return id;
        }
      }
      std::this_thread::sleep_for(5ms);
    }
    return raft::kNoNode;
  }

  ReplicatedLog& log(raft::NodeId id) {
    std::lock_guard lock(mu_);
    return *logs_.at(id);
  }
  MapFsm& fsm(raft::NodeId id) { return *fsms_[id]; }
  static std::string address(raft::NodeId id) { return "127.0.0.1:" + std::to_string(8300 + id); }
  fs::path dir(raft::NodeId id) const { return root_ / ("n" + std::to_string(id)); }

  // Proposes and waits for the outcome (bounded).
  core::Result<std::any> write(raft::NodeId id, const std::string& command) {
    std::promise<core::Result<std::any>> p;
    auto f = p.get_future();
    log(id).propose(command, [&p](core::Result<std::any> r) { p.set_value(std::move(r)); });
    if (f.wait_for(5s) != std::future_status::ready) {
      return core::make_error(core::Code::kTimeout, "write timed out");
    }
    return f.get();
  }

  bool wait_state(raft::NodeId id, const std::map<std::string, std::string>& want,
                  std::chrono::milliseconds within = 5s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (fsm(id).state() == want) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

 private:
  int n_;
  std::uint64_t threshold_;
  std::uint64_t trailing_;
  fs::path root_;
  std::map<raft::NodeId, std::unique_ptr<MapFsm>> fsms_;
  std::map<raft::NodeId, std::unique_ptr<LocalTransport>> transports_;
  std::mutex mu_;
  std::map<raft::NodeId, std::unique_ptr<ReplicatedLog>> logs_;
  std::set<raft::NodeId> isolated_;
};

void LocalTransport::send(std::vector<raft::Message> messages) {
  cluster_.deliver(self_, std::move(messages));
}

std::map<std::string, std::string> written(int from, int to) {
  std::map<std::string, std::string> out;
  for (int i = from; i < to; ++i) out["k" + std::to_string(i)] = std::to_string(i);
  return out;
}

TEST(ReplicatedLog, ElectsReplicatesAndAcknowledgesAfterApply) {
  Cluster c(3);
  c.start_all();
  raft::NodeId leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  for (int i = 0; i < 50; ++i) {
    auto r = c.write(leader, "k" + std::to_string(i) + "=" + std::to_string(i));
    ASSERT_TRUE(r) << r.error().message;
    // Acknowledged after apply: the writer's own state machine holds the write.
    EXPECT_EQ(std::any_cast<std::size_t>(*r), static_cast<std::size_t>(i + 1));
  }
  for (raft::NodeId id = 1; id <= 3; ++id) {
    EXPECT_TRUE(c.wait_state(id, written(0, 50))) << "node " << id;
  }
  LeaderInfo info = c.log(leader).leader();
  EXPECT_TRUE(info.known_leader);
  EXPECT_EQ(info.leader_address, Cluster::address(leader));
  EXPECT_EQ(info.last_contact_ms, 0u);
  auto status = c.log(leader).status();
  EXPECT_EQ(status.conf.voters.size(), 3u);
  EXPECT_EQ(status.addresses.size(), 3u);
}

TEST(ReplicatedLog, FollowerRefusesWritesAndNamesTheLeader) {
  Cluster c(3);
  c.start_all();
  raft::NodeId leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  raft::NodeId follower = leader == 1 ? 2 : 1;
  // Wait until the follower heard from the leader.
  for (int i = 0; i < 200 && !c.log(follower).leader().known_leader; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  auto r = c.write(follower, "a=1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kNotLeader);
  LeaderInfo info = c.log(follower).leader();
  EXPECT_TRUE(info.known_leader);
  EXPECT_EQ(info.leader_address, Cluster::address(leader));
  EXPECT_GT(info.last_contact_ms, 0u);
}

TEST(ReplicatedLog, RestartsFromDiskWithEveryAcknowledgedWrite) {
  Cluster c(3);
  c.start_all();
  raft::NodeId leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(c.write(leader, "k" + std::to_string(i) + "=" + std::to_string(i)));
  }
  for (raft::NodeId id = 1; id <= 3; ++id) {
    c.stop(id);
    c.reset_fsm(id);
  }
  c.start_all();
  leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_TRUE(c.write(leader, "k30=30"));
  for (raft::NodeId id = 1; id <= 3; ++id) {
    EXPECT_TRUE(c.wait_state(id, written(0, 31))) << "node " << id;
  }
}

TEST(ReplicatedLog, NewLeaderAfterLeaderStopsAndNoLeaderWithoutQuorum) {
  Cluster c(3);
  c.start_all();
  raft::NodeId first = c.wait_leader();
  ASSERT_NE(first, raft::kNoNode);
  ASSERT_TRUE(c.write(first, "a=1"));
  c.stop(first);
  raft::NodeId second = c.wait_leader(5s, first);
  ASSERT_NE(second, raft::kNoNode);
  ASSERT_NE(second, first);
  ASSERT_TRUE(c.write(second, "b=2"));
  // Cut the new leader off: CheckQuorum makes it step down, and nobody can lead.
  c.isolate(second);
  bool stepped_down = false;
  for (int i = 0; i < 400 && !stepped_down; ++i) {
    stepped_down = c.log(second).status().role != raft::Role::kLeader;
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(stepped_down);
  auto refused = c.write(second, "c=3");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Code::kNotLeader);
  c.heal();
  c.start(first);
  raft::NodeId third = c.wait_leader();
  ASSERT_NE(third, raft::kNoNode);
  ASSERT_TRUE(c.write(third, "c=3"));
  std::map<std::string, std::string> want{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  for (raft::NodeId id = 1; id <= 3; ++id) EXPECT_TRUE(c.wait_state(id, want)) << id;
}

TEST(ReplicatedLog, SnapshotsCompactAndCatchUpALaggingFollower) {
  Cluster c(3, /*snapshot_threshold=*/40, /*trailing_logs=*/5);
  c.start_all();
  raft::NodeId leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  raft::NodeId lagging = leader == 3 ? 2 : 3;
  c.stop(lagging);
  c.reset_fsm(lagging);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(c.write(leader, "k" + std::to_string(i) + "=" + std::to_string(i)));
  }
  // The leader snapshotted and compacted past what the lagging node has.
  auto status = c.log(leader).status();
  EXPECT_GE(status.snapshot_index, 40u);
  bool has_snapshot_file = false;
  for (const auto& e : fs::directory_iterator(c.dir(leader) / "snapshots")) {
    has_snapshot_file = has_snapshot_file || e.path().extension() == ".snap";
  }
  EXPECT_TRUE(has_snapshot_file);
  c.start(lagging);
  EXPECT_TRUE(c.wait_state(lagging, written(0, 200), 10s));
  EXPECT_GE(c.fsm(lagging).restores(), 1);  // through InstallSnapshot, not the log alone
  // And a restart of the leader restores its own snapshot and replays the rest.
  c.stop(leader);
  c.reset_fsm(leader);
  c.start(leader);
  EXPECT_TRUE(c.wait_state(leader, written(0, 200)));
  EXPECT_GE(c.fsm(leader).restores(), 1);
}

TEST(ReplicatedLog, ReadBarrierOnLeaderAndThroughItOnFollowers) {
  Cluster c(3);
  c.start_all();
  raft::NodeId leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_TRUE(c.write(leader, "a=1"));
  std::promise<core::Status> p;
  c.log(leader).read_barrier([&p](core::Status s) { p.set_value(s); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  // A follower's barrier goes through the leader and ends once the follower applied the
  // write acknowledged before it.
  raft::NodeId follower = leader == 1 ? 2 : 1;
  ASSERT_TRUE(c.write(leader, "b=2"));
  std::promise<std::map<std::string, std::string>> q;
  c.log(follower).read_barrier([&q, &c, follower](core::Status s) {
    EXPECT_TRUE(s);
    q.set_value(c.fsm(follower).state());
  });
  auto g = q.get_future();
  ASSERT_EQ(g.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(g.get().at("b"), "2");
  // Cut off from the leader, a follower has no read point.
  c.isolate(follower);
  raft::NodeId lonely = follower;
  for (int i = 0; i < 600 && c.log(lonely).leader().known_leader; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  std::promise<core::Status> r;
  c.log(lonely).read_barrier([&r](core::Status s) { r.set_value(s); });
  auto h = r.get_future();
  ASSERT_EQ(h.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(h.get());
}

TEST(ReplicatedLog, MembershipChangeAddsAndRemovesAServer) {
  Cluster c(3);
  c.start_all();
  raft::NodeId leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  raft::NodeId removed = leader == 3 ? 2 : 3;
  std::promise<core::Status> p;
  c.log(leader).remove_server(removed, [&p](core::Status s) { p.set_value(s); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  ASSERT_TRUE(f.get());
  auto status = c.log(leader).status();
  EXPECT_EQ(status.conf.voters.size(), 2u);
  EXPECT_EQ(status.addresses.count(removed), 0u);
  ASSERT_TRUE(c.write(leader, "x=1"));
}

}  // namespace
}  // namespace pc::consensus

namespace pc::consensus {
namespace {

core::Status wait_status(const std::function<void(OperatorDone)>& action) {
  auto p = std::make_shared<std::promise<core::Status>>();
  auto f = p->get_future();
  action([p](core::Status s) { p->set_value(std::move(s)); });
  if (f.wait_for(5s) != std::future_status::ready) {
    return core::make_error(core::Code::kTimeout, "operator action did not finish");
  }
  return f.get();
}

TEST(ReplicatedLogOperator, ConfigurationTransferAndRemoveByAddress) {
  Cluster c(3);
  c.start_all();
  raft::NodeId leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_TRUE(c.write(leader, "a=1"));
  RaftConfiguration conf = c.log(leader).configuration();
  ASSERT_EQ(conf.servers.size(), 3u);
  int leaders = 0;
  for (const auto& s : conf.servers) {
    leaders += s.leader;
    EXPECT_TRUE(s.voter);
    EXPECT_GT(s.match_index, 0u) << s.address;
  }
  EXPECT_EQ(leaders, 1);

  // Hand leadership to a chosen follower.
  raft::NodeId target = leader == 3 ? 1 : 3;
  auto moved = wait_status([&](OperatorDone d) {
    c.log(leader).transfer_leadership(Cluster::address(target), std::move(d));
  });
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(c.wait_leader(), target);
  // Followers refuse; unknown peers are named.
  raft::NodeId follower = target == 1 ? 2 : 1;
  auto refused =
      wait_status([&](OperatorDone d) { c.log(follower).transfer_leadership("", std::move(d)); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Code::kNotLeader);
  auto unknown = wait_status(
      [&](OperatorDone d) { c.log(target).remove_server("10.9.9.9:8300", std::move(d)); });
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::Code::kNotFound);

  // Remove a follower by address.
  auto removed = wait_status([&](OperatorDone d) {
    c.log(target).remove_server(Cluster::address(follower), std::move(d));
  });
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(c.log(target).configuration().servers.size(), 2u);
  EXPECT_EQ(c.log(target).voters().size(), 2u);
  ASSERT_TRUE(c.write(target, "b=2"));
}

// --- the leader lease (Consul's default reads) ---

namespace lease {

using Clock = std::chrono::steady_clock;

// Waits until `id` holds the lease, up to `within`.
bool wait_lease(Cluster& c, raft::NodeId id, std::chrono::milliseconds within = 5s) {
  const auto deadline = Clock::now() + within;
  while (Clock::now() < deadline) {
    if (c.log(id).lease_valid()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

// A node other than `old` that reports itself leader, or kNoNode.
raft::NodeId other_leader(Cluster& c, raft::NodeId old) {
  for (raft::NodeId id = 1; id <= 3; ++id) {
    if (id != old && c.log(id).status().role == raft::Role::kLeader) return id;
  }
  return raft::kNoNode;
}

}  // namespace lease

TEST(ReplicatedLogLease, OnlyAConnectedLeaderHoldsIt) {
  Cluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_TRUE(lease::wait_lease(c, leader));
  // 90 % of (election_tick - 1) ticks of 10 ms.
  EXPECT_EQ(c.log(leader).lease_duration(), std::chrono::milliseconds(81));
  for (raft::NodeId id = 1; id <= 3; ++id) {
    if (id != leader) {
      EXPECT_FALSE(c.log(id).lease_valid()) << "follower " << id;
    }
  }
  // Heartbeats renew it: it still holds well past one lease duration.
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(lease::wait_lease(c, leader, 50ms));
}

// A partitioned leader loses its lease within the lease duration of its isolation, and never
// holds it once another leader is elected.
TEST(ReplicatedLogLease, AnIsolatedLeaderLosesItBeforeAnotherIsElected) {
  Cluster c(3);
  c.start_all();
  const raft::NodeId old = c.wait_leader();
  ASSERT_NE(old, raft::kNoNode);
  ASSERT_TRUE(lease::wait_lease(c, old));
  ASSERT_TRUE(c.write(old, "a=1"));
  const auto duration = c.log(old).lease_duration();
  c.isolate(old);
  const auto isolated = lease::Clock::now();
  std::optional<lease::Clock::duration> lost_after;
  raft::NodeId next = raft::kNoNode;
  const auto deadline = isolated + 5s;
  while (lease::Clock::now() < deadline && (next == raft::kNoNode || !lost_after)) {
    // Look for a new leader first, then at the old lease: a lease seen after a new leader
    // was seen would be two leaders serving reads at once.
    const raft::NodeId seen = lease::other_leader(c, old);
    const bool held = c.log(old).lease_valid();
    if (!held && !lost_after) lost_after = lease::Clock::now() - isolated;
    if (seen != raft::kNoNode) {
      next = seen;
      ASSERT_FALSE(held) << "the old leader still holds its lease under leader " << seen;
    }
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(lost_after.has_value());
  // Its last acknowledged heartbeat left before the isolation; allow for scheduling.
  EXPECT_LT(*lost_after, duration + 30ms)
      << std::chrono::duration_cast<std::chrono::milliseconds>(*lost_after).count() << "ms";
  ASSERT_NE(next, raft::kNoNode) << "the majority elected no leader";
  ASSERT_TRUE(lease::wait_lease(c, next));
  ASSERT_TRUE(c.write(next, "a=2"));
  EXPECT_FALSE(c.log(old).lease_valid());
  // Back in touch, the old leader learns the new term and steps down: still no lease.
  c.heal();
  EXPECT_TRUE(c.wait_state(old, {{"a", "2"}}));
  EXPECT_FALSE(c.log(old).lease_valid());
}

// A leader whose Raft thread stops (as under SIGSTOP: no ticks, no messages handled) for
// longer than the lease finds it expired on waking, although its tick count barely moved.
TEST(ReplicatedLogLease, APausedLeaderHoldsNoLeaseWhenItResumes) {
  Cluster c(3);
  c.start_all();
  const raft::NodeId old = c.wait_leader();
  ASSERT_NE(old, raft::kNoNode);
  ASSERT_TRUE(lease::wait_lease(c, old));
  ASSERT_TRUE(c.write(old, "a=1"));
  const auto duration = c.log(old).lease_duration();
  // when_applied(0, ...) runs at once on the Raft thread: sleeping there is the pause.
  std::promise<lease::Clock::time_point> paused;
  std::promise<bool> lease_on_waking;
  ReplicatedLog& sleeper = c.log(old);
  sleeper.when_applied(0, [&] {
    paused.set_value(lease::Clock::now());
    std::this_thread::sleep_for(600ms);  // several election timeouts of 100-200 ms
    lease_on_waking.set_value(sleeper.lease_valid());
  });
  const auto pause_began = paused.get_future().get();
  // While it sleeps the lease runs out on the monotonic clock, with nobody to tick it.
  while (c.log(old).lease_valid()) std::this_thread::sleep_for(1ms);
  EXPECT_LT(lease::Clock::now() - pause_began, duration + 30ms);
  const raft::NodeId next = c.wait_leader(2s, old);
  ASSERT_NE(next, raft::kNoNode) << "no leader elected while the old one slept";
  ASSERT_TRUE(c.write(next, "a=2"));
  auto woke = lease_on_waking.get_future();
  EXPECT_FALSE(woke.get()) << "the paused leader claimed its lease right after waking";
  // Nor later: its next heartbeats meet a newer term.
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(c.log(old).lease_valid());
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_TRUE(c.wait_state(old, {{"a", "2"}}));
}

// A leadership transfer lets the transferee's election past the followers' leases, so the
// old leader gives up its lease when it sends MsgTimeoutNow, before anyone can win.
TEST(ReplicatedLogLease, ALeadershipTransferEndsTheOldLeadersLease) {
  Cluster c(3);
  c.start_all();
  const raft::NodeId old = c.wait_leader();
  ASSERT_NE(old, raft::kNoNode);
  ASSERT_TRUE(lease::wait_lease(c, old));
  const raft::NodeId target = old == 3 ? 1 : 3;
  auto moved = wait_status([&](OperatorDone d) {
    c.log(old).transfer_leadership(Cluster::address(target), std::move(d));
  });
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_FALSE(c.log(old).lease_valid());
  EXPECT_TRUE(lease::wait_lease(c, target));
  EXPECT_FALSE(c.log(old).lease_valid());
}

}  // namespace
}  // namespace pc::consensus
