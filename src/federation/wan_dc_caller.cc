#include "federation/wan_dc_caller.h"

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "federation/router.h"

namespace pc::federation {
namespace {

constexpr std::string_view kModule = "federation";

using Steady = std::chrono::steady_clock;

core::Error no_path() {
  return core::make_error(core::Code::kUnavailable, kNoPathToDatacenter);
}

// What a caller is told when no answer came in time; the server and method are in the log.
core::Error timed_out(const std::string& dc) {
  return core::make_error(core::Code::kTimeout,
                          "rpc error: call to datacenter " + dc + " timed out");
}

// A write whose connection closed after it was sent: it may have run, so it is not retried.
core::Error lost(const std::string& dc) {
  return core::make_error(core::Code::kUnavailable,
                          "rpc error: connection to datacenter " + dc + " lost before its answer");
}

std::chrono::milliseconds ceil_ms(Steady::duration d) {
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

}  // namespace

// One call in progress: the servers left to try and what is left of its time.
struct WanDcCaller::Attempt {
  std::string dc;
  rpc::Method method = 0;
  std::string payload;
  bool idempotent = false;
  std::vector<std::string> servers;  // in the order to try
  std::size_t next = 0;
  Steady::time_point deadline;
  Steady::duration attempt_bound{};  // zero: none beyond `deadline`
  bool some_timed_out = false;       // a server tried was reached but did not answer in time
  DcReplyFn done;
};

WanDcCaller::WanDcCaller(WanDcCallerOptions options) : options_(std::move(options)) {}

WanDcCaller::~WanDcCaller() {
  stop();
}

void WanDcCaller::start() {
  rpc::RpcClient::Options o;
  o.threads = 1;
  o.wrap_stream = options_.wrap_stream;
  o.connect_timeout = options_.connect_timeout;
  o.silence_timeout = options_.silence_timeout;
  rpc_ = std::make_unique<rpc::RpcClient>(o);
  rpc_->start();
  running_ = true;
}

void WanDcCaller::stop() {
  running_ = false;
  if (rpc_) rpc_->stop();
}

std::vector<std::string> WanDcCaller::known_datacenters() const {
  return options_.members ? datacenters_of(options_.members()) : std::vector<std::string>{};
}

bool WanDcCaller::has_servers(const std::string& dc) const {
  return options_.members && servers_by_datacenter(options_.members()).contains(dc);
}

void WanDcCaller::call(const std::string& dc, rpc::Method method, std::string payload,
                       core::Duration timeout, DcReplyFn done) {
  call_bounded(dc, method, std::move(payload), DcCallBounds{timeout, {}}, /*idempotent=*/false,
               std::move(done));
}

void WanDcCaller::call_idempotent(const std::string& dc, rpc::Method method, std::string payload,
                                  core::Duration timeout, DcReplyFn done) {
  call_bounded(dc, method, std::move(payload), DcCallBounds{timeout, {}}, /*idempotent=*/true,
               std::move(done));
}

void WanDcCaller::call_bounded(const std::string& dc, rpc::Method method, std::string payload,
                               DcCallBounds bounds, bool idempotent, DcReplyFn done) {
  if (!running_) {
    done(core::make_error(core::Code::kUnavailable, "cross-datacenter calls are stopped"));
    return;
  }
  DcServers by_dc = options_.members ? servers_by_datacenter(options_.members()) : DcServers{};
  auto it = by_dc.find(dc);
  if (it == by_dc.end()) {
    core::log::warn(kModule, "RPC for datacenter {}: no path found (no alive server)", dc);
    done(no_path());
    return;
  }
  auto attempt = std::make_shared<Attempt>();
  attempt->dc = dc;
  attempt->method = method;
  attempt->payload = std::move(payload);
  attempt->idempotent = idempotent;
  attempt->servers = attempt_order(std::move(it->second), rand_);
  if (attempt->servers.size() > options_.attempts_max) {
    attempt->servers.resize(std::max<std::size_t>(options_.attempts_max, 1));
  }
  attempt->deadline =
      Steady::now() + std::chrono::duration_cast<Steady::duration>(std::max(bounds.total, {}));
  attempt->attempt_bound =
      std::chrono::duration_cast<Steady::duration>(std::max(bounds.attempt, {}));
  attempt->done = std::move(done);
  try_next(std::move(attempt));
}

void WanDcCaller::try_next(std::shared_ptr<Attempt> attempt) {
  auto left = ceil_ms(attempt->deadline - Steady::now());
  if (left.count() <= 0) {
    attempt->done(timed_out(attempt->dc));
    return;
  }
  if (attempt->attempt_bound.count() > 0) left = std::min(left, ceil_ms(attempt->attempt_bound));
  const std::string server = attempt->servers[attempt->next++];
  // Copy what the call needs: the answer may run (and move `attempt` on) before call() returns.
  std::string payload = attempt->payload;
  const rpc::Method method = attempt->method;
  auto answered = [this, attempt, server](core::Result<std::string> result) mutable {
    on_answer(std::move(attempt), server, std::move(result));
  };
  if (auto s = rpc_->call(server, method, std::move(payload), left, std::move(answered)); !s) {
    attempt->done(s.error());
  }
}

bool WanDcCaller::drop_failed_servers(Attempt& attempt) const {
  // Gossip may have found some of them failed since the call began (a partition shows as
  // silence first, then as failed members): those are not worth an attempt any more.
  const DcServers by_dc =
      options_.members ? servers_by_datacenter(options_.members()) : DcServers{};
  const auto it = by_dc.find(attempt.dc);
  auto untried = attempt.servers.begin() + static_cast<std::ptrdiff_t>(attempt.next);
  attempt.servers.erase(std::remove_if(untried, attempt.servers.end(),
                                       [&](const std::string& server) {
                                         return it == by_dc.end() ||
                                                !std::binary_search(it->second.begin(),
                                                                    it->second.end(), server);
                                       }),
                        attempt.servers.end());
  return attempt.next < attempt.servers.size();
}

void WanDcCaller::on_answer(std::shared_ptr<Attempt> attempt, const std::string& server,
                            core::Result<std::string> result) {
  const bool no_answer = !result && rpc::no_answer_in_time(result.error());
  if (result || (!no_answer && result.error().code != core::Code::kUnavailable)) {
    attempt->done(std::move(result));  // the answer, or the remote handler's own error
    return;
  }
  const std::string& why = result.error().message;
  const bool retry = attempt->idempotent || rpc::never_handled(result.error());
  const bool more = retry && running_ && drop_failed_servers(*attempt);
  // Consul logs each failed forward; a dead server in backoff fails every call at once, so
  // the moves past it are debug and only the call's own failure is a warning.
  if (more) {
    core::log::debug(kModule, "RPC to server {} in datacenter {} failed, trying another: {}",
                     server, attempt->dc, why);
  } else {
    core::log::warn(kModule, "RPC to server {} in datacenter {} failed: {}", server, attempt->dc,
                    why);
  }
  if (!retry) {
    // It may have reached the server: the caller learns the failure, not a second run.
    attempt->done(no_answer ? timed_out(attempt->dc) : lost(attempt->dc));
    return;
  }
  attempt->some_timed_out = attempt->some_timed_out || no_answer;
  if (!more) {
    attempt->done(attempt->some_timed_out ? timed_out(attempt->dc) : no_path());
    return;
  }
  try_next(std::move(attempt));
}

}  // namespace pc::federation
