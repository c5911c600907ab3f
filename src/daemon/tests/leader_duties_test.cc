// LeaderDuties hands leadership, as the log reports it, to what only the leader runs: the
// session TTL timers and the tombstone GC are on while this server leads and off otherwise.
#include "daemon/leader_duties.h"

#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/rand.h"
#include "state/store.h"

namespace pc::daemon {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kOwnAddress = "127.0.0.1:8300";
// LeaderDuties looks once a second; a bound well above that, for a loaded host.
constexpr auto kNoticedWithin = 10s;

// A log whose leader the test moves; LeaderDuties reads nothing else of it.
class SwitchingLeaderLog final : public consensus::Log {
 public:
  void propose(std::string, consensus::ProposeDone done) override {
    done(core::make_error(core::Code::kNotLeader, "not in this test"));
  }
  consensus::LeaderInfo leader() const override {
    std::lock_guard lock(mu_);
    return {true, leader_, 0};
  }
  void set_leader(std::string address) {
    std::lock_guard lock(mu_);
    leader_ = std::move(address);
  }
  std::uint64_t last_index() const override { return 0; }
  std::uint64_t applied_index() const override { return 0; }
  std::vector<std::string> voters() const override { return {}; }
  consensus::RaftConfiguration configuration() const override { return {}; }
  void read_barrier(consensus::OperatorDone done) override { done(core::ok()); }
  bool lease_valid() const override { return false; }
  void remove_server(std::string, consensus::OperatorDone done) override { done(core::ok()); }
  void transfer_leadership(std::string, consensus::OperatorDone done) override { done(core::ok()); }

 private:
  mutable std::mutex mu_;
  std::string leader_ = "127.0.0.1:8301";
};

bool wait_until(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kNoticedWithin;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST(LeaderDuties, TombstoneGcAndSessionTimersRunOnTheLeaderOnly) {
  state::Store store;
  SwitchingLeaderLog log;
  core::SystemRand rand(1);
  endpoints::Context ctx{store, log, core::SystemClock::instance(), rand, {}};
  core::TimerThread timers;
  endpoints::SessionTimers sessions(ctx, timers);
  endpoints::TombstoneGc gc(ctx, timers, std::chrono::minutes(15), std::chrono::seconds(30));
  // As run_agent starts a server: a follower until the log says otherwise.
  sessions.set_leader(false);
  gc.set_enabled(false);
  LeaderDuties duties(log, std::string(kOwnAddress), sessions, gc, timers);

  duties.start();  // another server leads
  EXPECT_FALSE(duties.leading());
  EXPECT_FALSE(gc.enabled());
  EXPECT_FALSE(sessions.leader());

  log.set_leader(std::string(kOwnAddress));
  EXPECT_TRUE(wait_until([&] { return gc.enabled(); })) << "the new leader's GC stays off";
  EXPECT_TRUE(sessions.leader());

  log.set_leader("127.0.0.1:8302");
  EXPECT_TRUE(wait_until([&] { return !gc.enabled(); })) << "a deposed leader's GC stays on";
  EXPECT_FALSE(sessions.leader());
  timers.stop();
}

}  // namespace
}  // namespace pc::daemon
