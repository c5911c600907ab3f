// The tombstone GC over a real store and the -dev log: it notices tombstones however they
// were applied, reaps them one TTL later while enabled (on the leader), proposes nothing while
// disabled, drops pending reaps when disabled and reaps what is there when enabled.
#include "endpoints/tombstone_gc.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "consensus/runtime/single_node_log.h"
#include "core/timer_thread.h"
#include "endpoints/tests/test_fsm.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

using namespace std::chrono_literals;

constexpr auto kTtl = 100ms;
constexpr auto kGranularity = 10ms;
// Bounds, not timings: far above the TTL, for a loaded host.
constexpr auto kReapedWithin = 5s;
constexpr auto kNotReapedFor = 5 * kTtl;

class TombstoneGcTest : public ::testing::Test {
 protected:
  TombstoneGcTest()
      : fsm_(store_), log_(fsm_, "127.0.0.1:8300"), ctx_{store_, log_, clock_, rand_, {}} {
    log_.start();
    gc_ = std::make_unique<TombstoneGc>(ctx_, timers_, kTtl, kGranularity);
  }
  ~TombstoneGcTest() override {
    // The GC's callbacks run on these threads; it goes after them.
    timers_.stop();
    log_.stop();
  }

  // A KV write straight through the log, as another server's endpoint would make it: the GC
  // hears of it only from the store.
  void kv(proto::KvOp::Verb verb, const std::string& key) {
    proto::Command cmd;
    cmd.mutable_kv()->set_verb(verb);
    cmd.mutable_kv()->set_key(key);
    cmd.mutable_kv()->set_value("v");
    std::promise<core::Result<state::ApplyResult>> p;
    submit(ctx_, std::move(cmd),
           [&](core::Result<state::ApplyResult> r) { p.set_value(std::move(r)); });
    ASSERT_TRUE(p.get_future().get().has_value());
  }
  void put_and_delete(const std::string& key) {
    kv(proto::KvOp::SET, key);
    kv(proto::KvOp::DELETE, key);
    ASSERT_GT(graveyard(), 0u);
  }
  std::uint64_t graveyard() { return store_.snapshot().kv_graveyard_max_index("t/"); }
  bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  const core::SystemClock& clock_ = core::SystemClock::instance();
  state::Store store_;
  testing::StoreFsm fsm_;
  consensus::SingleNodeLog log_;
  core::SystemRand rand_{1};
  Context ctx_;
  core::TimerThread timers_;
  std::unique_ptr<TombstoneGc> gc_;
};

TEST(TombstoneGranularity, IsAThirtiethOfTheTtlAtMostThirtySeconds) {
  EXPECT_EQ(tombstone_granularity(std::chrono::minutes(15)), std::chrono::seconds(30));
  EXPECT_EQ(tombstone_granularity(std::chrono::hours(2)), std::chrono::seconds(30));
  EXPECT_EQ(tombstone_granularity(3s), 100ms);
  EXPECT_EQ(tombstone_granularity(core::Duration(1)), core::Duration(1));
}

TEST_F(TombstoneGcTest, ReapsTombstonesAppliedThroughAnyServer) {
  gc_->start();
  put_and_delete("t/a");
  EXPECT_TRUE(wait_until([&] { return graveyard() == 0; }, kReapedWithin));
  EXPECT_EQ(gc_->pending_count(), 0u);
}

TEST_F(TombstoneGcTest, ADisabledGcProposesNoReap) {
  gc_->set_enabled(false);
  gc_->start();
  put_and_delete("t/a");
  const std::uint64_t last = log_.last_index();
  std::this_thread::sleep_for(kNotReapedFor);
  EXPECT_GT(graveyard(), 0u);
  EXPECT_EQ(log_.last_index(), last) << "a follower's GC proposed something";
  EXPECT_EQ(gc_->pending_count(), 0u);
}

TEST_F(TombstoneGcTest, LosingLeadershipDropsPendingReaps) {
  gc_->start();
  put_and_delete("t/a");
  ASSERT_TRUE(wait_until([&] { return gc_->pending_count() == 1; }, kReapedWithin));
  gc_->set_enabled(false);
  EXPECT_FALSE(gc_->enabled());
  EXPECT_EQ(gc_->pending_count(), 0u);
  std::this_thread::sleep_for(kNotReapedFor);
  EXPECT_GT(graveyard(), 0u);
}

TEST_F(TombstoneGcTest, GainingLeadershipReapsWhatThePreviousLeaderLeft) {
  gc_->set_enabled(false);
  gc_->start();
  put_and_delete("t/a");
  put_and_delete("t/b");
  std::this_thread::sleep_for(2 * kGranularity);
  EXPECT_EQ(gc_->pending_count(), 0u);
  gc_->set_enabled(true);
  EXPECT_EQ(gc_->pending_count(), 1u);  // one bucket for everything present
  EXPECT_TRUE(wait_until([&] { return graveyard() == 0; }, kReapedWithin));
}

TEST_F(TombstoneGcTest, TombstonesFromBeforeStartAreReapedToo) {
  put_and_delete("t/a");  // as a restarted server replays its log before the GC starts
  gc_->start();
  EXPECT_TRUE(wait_until([&] { return graveyard() == 0; }, kReapedWithin));
}

}  // namespace
}  // namespace pc::endpoints
