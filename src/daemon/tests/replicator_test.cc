// The replication loop (daemon/replicator.h) with a fake primary: one pass copies a set,
// errors are kept with their time, the loop runs only while leading and follows changes.
#include "daemon/replicator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace pc::daemon {
namespace {

using namespace std::chrono_literals;

// The primary as a set of policies with an index; answers at once (no blocking), or fails.
struct FakePrimary {
  std::mutex mu;
  proto::ReplicationReply reply;
  std::optional<core::Error> fail;
  std::vector<proto::ReplicationRequest> seen;

  RemoteCallFn fn() {
    return [this](const std::string& dc, std::uint16_t method, std::string payload,
                  std::chrono::nanoseconds, std::function<void(core::Result<std::string>)> done) {
      std::unique_lock lock(mu);
      EXPECT_EQ(dc, "dc1");
      EXPECT_EQ(method, kRpcReplicationFetch);
      proto::ReplicationRequest req;
      EXPECT_TRUE(req.ParseFromString(payload));
      seen.push_back(req);
      if (fail) {
        auto e = *fail;
        lock.unlock();
        return done(e);
      }
      auto bytes = reply.SerializeAsString();
      lock.unlock();
      // From another thread, as a real call answers.
      std::thread([done = std::move(done), bytes] { done(bytes); }).detach();
    };
  }
  void set_policy(std::string id, std::string name, std::uint64_t index) {
    std::lock_guard lock(mu);
    proto::AclPolicy* p = reply.add_policies();
    p->set_id(std::move(id));
    p->set_name(std::move(name));
    reply.set_index(index);
  }
};

class ReplicatorTest : public ::testing::Test {
 protected:
  ReplicatorDeps deps() {
    ReplicatorDeps d;
    d.primary_datacenter = "dc1";
    d.local_datacenter = "dc2";
    d.token = "repl";
    d.remote = primary_.fn();
    d.local = [this] { return store_.snapshot(); };
    d.submit = [this](proto::Command c) -> core::Status {
      std::lock_guard lock(apply_mu_);
      auto r = store_.apply(++index_, c);
      store_.publish();
      return r.status;
    };
    d.leading = [this] { return leading_.load(); };
    d.unix_now_ns = [] { return std::int64_t{1'000}; };
    return d;
  }
  ReplicatorOptions fast() {
    ReplicatorOptions o;
    o.max_wait = 50ms;
    o.call_slack = 500ms;
    o.backoff_initial = 10ms;
    o.backoff_max = 20ms;
    o.leader_check = 10ms;
    return o;
  }
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  FakePrimary primary_;
  state::Store store_;
  std::mutex apply_mu_;
  std::uint64_t index_ = 0;
  std::atomic<bool> leading_{true};
};

TEST_F(ReplicatorTest, PassCopiesTheSetAndRecordsSuccess) {
  primary_.set_policy("p1", "ops", 12);
  Replicator r(acl_policies_kind(), deps(), fast());
  auto index = r.pass(0);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(*index, 12u);
  EXPECT_TRUE(store_.snapshot().acl_policy("p1"));
  const auto s = r.status();
  EXPECT_EQ(s.replicated_index, 12u);
  EXPECT_EQ(s.last_success_unix_ns, 1'000);
  EXPECT_FALSE(s.last_error_unix_ns);
  // The first fetch asks at once; later ones wait above the index.
  EXPECT_EQ(primary_.seen.at(0).min_index(), 0u);
  EXPECT_EQ(primary_.seen.at(0).max_wait_ms(), 0u);
  EXPECT_EQ(primary_.seen.at(0).token(), "repl");
  EXPECT_EQ(primary_.seen.at(0).kind(), proto::ReplicationRequest::ACL_POLICIES);
}

TEST_F(ReplicatorTest, ErrorsAreKeptAndStateStays) {
  primary_.set_policy("p1", "ops", 3);
  Replicator r(acl_policies_kind(), deps(), fast());
  ASSERT_TRUE(r.pass(0));
  primary_.fail = core::make_error(core::Code::kUnavailable, "No path to datacenter");
  auto again = r.pass(3);
  ASSERT_FALSE(again);
  const auto s = r.status();
  EXPECT_EQ(s.last_error_message, "No path to datacenter");
  EXPECT_TRUE(s.last_error_unix_ns);
  EXPECT_EQ(s.replicated_index, 3u);
  EXPECT_TRUE(store_.snapshot().acl_policy("p1")) << "a failed pass deletes nothing";
}

TEST_F(ReplicatorTest, LoopRunsWhileLeadingAndFollowsChanges) {
  leading_ = false;
  Replicator r(acl_policies_kind(), deps(), fast());
  r.start();
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(r.status().running);
  EXPECT_TRUE(primary_.seen.empty()) << "a follower never asks the primary";
  primary_.set_policy("p1", "ops", 5);
  leading_ = true;
  ASSERT_TRUE(eventually([&] { return store_.snapshot().acl_policy("p1").has_value(); }));
  EXPECT_TRUE(r.status().running);
  primary_.set_policy("p2", "web", 9);
  ASSERT_TRUE(eventually([&] { return store_.snapshot().acl_policy("p2").has_value(); }));
  EXPECT_TRUE(eventually([&] { return r.status().replicated_index == 9; }));
  // Failures back off and are retried until the primary answers again.
  {
    std::lock_guard lock(primary_.mu);
    primary_.fail = core::make_error(core::Code::kUnavailable, "No path to datacenter");
  }
  ASSERT_TRUE(eventually([&] { return !r.status().last_error_message.empty(); }));
  {
    std::lock_guard lock(primary_.mu);
    primary_.fail.reset();
  }
  primary_.set_policy("p3", "db", 11);
  ASSERT_TRUE(eventually([&] { return store_.snapshot().acl_policy("p3").has_value(); }));
  leading_ = false;
  EXPECT_TRUE(eventually([&] { return !r.status().running; }));
  r.stop();
}

}  // namespace
}  // namespace pc::daemon
