#include "daemon/coordinate_sync.h"

#include <algorithm>
#include <cmath>

#include "core/log.h"
#include "http/json/coordinate.h"
#include "http/json/writer.h"

namespace pc::daemon {
namespace {
constexpr std::string_view kModule = "agent";
}

std::chrono::milliseconds rate_scaled_interval(double rate, std::chrono::milliseconds min,
                                               std::size_t nodes) {
  if (rate <= 0) return min;
  const auto scaled = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil(static_cast<double>(nodes) / rate * 1000.0)));
  return std::max(min, scaled);
}

std::string coordinate_update_body(const std::string& node, const gossip::Coordinate& c) {
  http::JsonWriter w;
  w.begin_object();
  w.string_field("Node", node);
  w.string_field("Segment", "");
  w.key("Coord");
  http::write_coordinate(w, c);
  w.end_object();
  return w.take();
}

void CoordinateSender::start() {
  schedule();
}

void CoordinateSender::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (timer_ != 0) timers_.cancel(timer_);
  timer_ = 0;
}

void CoordinateSender::schedule() {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  const std::size_t n = options_.pool_size ? options_.pool_size() : 1;
  const auto interval = rate_scaled_interval(kSyncCoordinateRateTarget, options_.interval_min, n);
  // Consul's lib.RandomStagger: up to one more interval, so agents started together spread.
  const auto stagger = std::chrono::milliseconds(
      interval.count() > 0 ? static_cast<std::int64_t>(rand_.next_u64() %
                                                       static_cast<std::uint64_t>(interval.count()))
                           : 0);
  timer_ = timers_.schedule(std::chrono::steady_clock::now() + interval + stagger, [this] {
    send();
    schedule();
  });
}

void CoordinateSender::send() {
  http::Request req;
  req.method = "PUT";
  req.path = "/v1/coordinate/update";
  req.body = coordinate_update_body(options_.node, options_.coordinate());
  req.remote_addr = "127.0.0.1";
  if (options_.token) {
    if (std::string token = options_.token(); !token.empty()) {
      req.headers.emplace_back("x-consul-token", std::move(token));
    }
  }
  options_.route(req, [sent = sent_](http::Outcome outcome) {
    const auto* r = std::get_if<http::Response>(&outcome);
    if (r != nullptr && r->status == 200) {
      sent->fetch_add(1);
      return;
    }
    if (r != nullptr && r->status == 403) {
      core::log::warn(kModule, "Coordinate update blocked by ACLs: {}", r->body);
      return;
    }
    // Consul logs and tries again at the next interval.
    core::log::warn(kModule, "Coordinate update error: {}",
                    r != nullptr ? r->body : std::string("unexpected answer"));
  });
}

void CoordinateFlusher::start() {
  schedule();
}

void CoordinateFlusher::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (timer_ != 0) timers_.cancel(timer_);
  timer_ = 0;
}

void CoordinateFlusher::schedule() {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  timer_ = timers_.schedule(std::chrono::steady_clock::now() + period_, [this] {
    batcher_.flush();
    schedule();
  });
}

http::Handler resolve_near_agent(http::Handler forward, std::string node) {
  return [forward = std::move(forward), node = std::move(node)](const http::Request& req,
                                                                http::Reply reply) {
    const std::string* near = req.query_param("near");
    if (near == nullptr || *near != "_agent") return forward(req, std::move(reply));
    http::Request named = req;
    for (auto& [k, v] : named.query) {
      if (k == "near" && v == "_agent") v = node;
    }
    forward(named, std::move(reply));
  };
}

}  // namespace pc::daemon
