#include "http/blocking_runner.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>

#include "core/limits.h"
#include "core/log.h"
#include "state/watch.h"

namespace pc::http {
namespace {

constexpr std::string_view kLogModule = "http";

// One blocking read in flight. Each park arms a watch callback and a deadline timer; the
// first of them to fire for the current generation continues the read.
struct Parked : std::enable_shared_from_this<Parked> {
  BlockingRead read;
  core::TimerThread& timers;
  std::function<LeaderInfo()> leader_info;
  std::function<void(Response)> done;
  core::MonoTime deadline;
  ReadOutcome last;
  std::mutex mu;
  std::uint64_t generation = 0;
  std::unique_ptr<state::WatchSet> watches;  // of the current run; detaches when replaced
  core::TimerThread::TimerId deadline_timer = 0;

  Parked(BlockingRead r, core::TimerThread& t, std::function<LeaderInfo()> l,
         std::function<void(Response)> d)
      : read(std::move(r)), timers(t), leader_info(std::move(l)), done(std::move(d)) {}

  // One run; parks again or answers.
  void step() {
    auto ws = std::make_unique<state::WatchSet>(/*collecting=*/read.min_index != 0);
    try {
      last = read.run(*ws);
    } catch (const std::exception& e) {
      core::log::error(kLogModule, "blocking read threw: {}", e.what());
      finish_with(Response::text(500, "An unexpected error occurred"));
      return;
    }
    const std::uint64_t index = std::max<std::uint64_t>(last.index, 1);
    if (read.min_index == 0 || index > read.min_index || !blockable_status(last.response.status) ||
        std::chrono::steady_clock::now() >= deadline) {
      answer();
      return;
    }
    std::uint64_t gen;
    {
      std::lock_guard lock(mu);
      gen = ++generation;
    }
    // The watch callback runs on the apply thread (or here, if a channel already fired):
    // hand the next run to the timer thread. Whichever of watch and deadline comes first for
    // this generation continues; the other finds the generation moved on.
    auto self = shared_from_this();
    ws->notify_once([self, gen] {
      self->timers.schedule(std::chrono::steady_clock::now(),
                            [self, gen] { self->wake(gen, /*fired=*/true); });
    });
    auto timer = timers.schedule(deadline, [self, gen] { self->wake(gen, /*fired=*/false); });
    std::lock_guard lock(mu);
    if (generation == gen) {
      watches = std::move(ws);  // kept registered until this generation ends
      deadline_timer = timer;
    }
  }

  void wake(std::uint64_t gen, bool fired) {
    core::TimerThread::TimerId timer = 0;
    {
      std::lock_guard lock(mu);
      if (gen != generation) return;  // the other of watch and deadline came first
      ++generation;
      timer = deadline_timer;
      watches.reset();
    }
    if (fired) {
      timers.cancel(timer);
      step();
    } else {
      answer();  // ?wait passed: the last run's answer
    }
  }

  void answer() {
    LeaderInfo leader;
    if (leader_info) leader = leader_info();
    Response res = std::move(last.response);
    add_blocking_headers(res, last.index, leader);
    finish_with(std::move(res));
  }

  void finish_with(Response res) {
    auto fn = std::move(done);
    done = nullptr;
    if (fn) fn(std::move(res));
  }
};

}  // namespace

bool blockable_status(int status) {
  return status == 200 || status == 404;
}

core::Duration clamp_blocking_wait(core::Duration wait) {
  constexpr core::Duration kCeiling =
      core::Duration(core::limits::blocking_wait_max) +
      core::Duration(core::limits::blocking_wait_max) / core::limits::blocking_jitter_fraction;
  return std::clamp(wait, core::Duration(0), kCeiling);
}

void add_blocking_headers(Response& response, std::uint64_t index, const LeaderInfo& leader) {
  response.headers.emplace_back("X-Consul-Index",
                                std::to_string(std::max<std::uint64_t>(index, 1)));
  response.headers.emplace_back("X-Consul-KnownLeader", leader.known_leader ? "true" : "false");
  response.headers.emplace_back("X-Consul-LastContact", std::to_string(leader.last_contact_ms));
}

void run_outcome(Outcome outcome, core::TimerThread& timers,
                 std::function<LeaderInfo()> leader_info, std::function<void(Response)> done) {
  if (auto* response = std::get_if<Response>(&outcome)) {
    done(std::move(*response));
    return;
  }
  BlockingRead& read = std::get<BlockingRead>(outcome);
  const core::Duration wait = clamp_blocking_wait(read.wait);
  auto parked =
      std::make_shared<Parked>(std::move(read), timers, std::move(leader_info), std::move(done));
  parked->deadline = std::chrono::steady_clock::now() + wait;
  parked->step();
}

}  // namespace pc::http
