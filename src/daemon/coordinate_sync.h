#pragma once
// Network coordinates in the agent (Consul's agent.sendCoordinate and the servers' batching):
//  - CoordinateSender: every sync interval (sync_coordinate_interval_min, scaled up with the
//    LAN pool's size so the servers get about 64 updates a second in all, plus a random
//    stagger of up to one interval) this agent's LAN coordinate goes to PUT
//    /v1/coordinate/update through the agent's own route table: on a server its handler queues
//    it in the CoordinateBatcher, on a client agent the forwarder takes it to a server.
//  - CoordinateFlusher: on a server, commits the batcher's updates every
//    coordinate_update_period (Consul's 5 s).
//  - resolve_near_agent: a client agent forwards reads to a server, whose "_agent" would be
//    the server; the client names itself instead (Consul resolves ?near=_agent at the agent
//    that got the request).
// Threads: both run on the daemon's TimerThread; stop() cancels, and must be called before the
// timer thread, router or pool they use go away.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/rand.h"
#include "core/timer_thread.h"
#include "endpoints/coordinate.h"
#include "gossip/core/coordinate.h"
#include "http/handler.h"

namespace pc::daemon {

// Consul's sync_coordinate_rate_target: updates per second the servers should get in all.
inline constexpr double kSyncCoordinateRateTarget = 64.0;

// Consul's lib.RateScaledInterval: `min`, or longer so that `nodes` agents together send
// about `rate` per second.
std::chrono::milliseconds rate_scaled_interval(double rate, std::chrono::milliseconds min,
                                               std::size_t nodes);

// The body of PUT /v1/coordinate/update for one node (structs.CoordinateUpdateRequest).
std::string coordinate_update_body(const std::string& node, const gossip::Coordinate& c);

class CoordinateSender {
 public:
  struct Options {
    std::string node;
    std::chrono::milliseconds interval_min{std::chrono::seconds(15)};
    std::function<gossip::Coordinate()> coordinate;  // the LAN pool's
    std::function<std::size_t()> pool_size;          // LAN members, for the scaling
    http::Handler route;                             // the agent's route table
    // The token the update acts for (Consul's agent token); unset or "": none is sent.
    std::function<std::string()> token;
  };
  CoordinateSender(core::TimerThread& timers, Options options)
      : timers_(timers), options_(std::move(options)) {}
  ~CoordinateSender() { stop(); }

  void start();
  void stop();
  std::uint64_t sent() const { return sent_->load(); }

 private:
  void schedule();
  void send();

  core::TimerThread& timers_;
  const Options options_;
  core::SystemRand rand_;
  std::mutex mu_;  // guards timer_ and stopped_
  core::TimerThread::TimerId timer_ = 0;
  bool stopped_ = false;
  // Shared with replies, which may come back after this sender is gone.
  std::shared_ptr<std::atomic<std::uint64_t>> sent_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);
};

class CoordinateFlusher {
 public:
  CoordinateFlusher(core::TimerThread& timers, endpoints::CoordinateBatcher& batcher,
                    std::chrono::milliseconds period)
      : timers_(timers), batcher_(batcher), period_(period) {}
  ~CoordinateFlusher() { stop(); }
  void start();
  void stop();

 private:
  void schedule();

  core::TimerThread& timers_;
  endpoints::CoordinateBatcher& batcher_;
  const std::chrono::milliseconds period_;
  std::mutex mu_;
  core::TimerThread::TimerId timer_ = 0;
  bool stopped_ = false;
};

http::Handler resolve_near_agent(http::Handler forward, std::string node);

}  // namespace pc::daemon
