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
  start_call(dc, method, std::move(payload), timeout, /*idempotent=*/false, std::move(done));
}

void WanDcCaller::call_idempotent(const std::string& dc, rpc::Method method, std::string payload,
                                  core::Duration timeout, DcReplyFn done) {
  start_call(dc, method, std::move(payload), timeout, /*idempotent=*/true, std::move(done));
}

void WanDcCaller::start_call(const std::string& dc, rpc::Method method, std::string payload,
                             core::Duration timeout, bool idempotent, DcReplyFn done) {
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
      Steady::now() + std::chrono::duration_cast<Steady::duration>(std::max(timeout, {}));
  attempt->done = std::move(done);
  try_next(std::move(attempt));
}

void WanDcCaller::try_next(std::shared_ptr<Attempt> attempt) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(attempt->deadline - Steady::now());
  if (left.count() <= 0) {
    attempt->done(core::make_error(core::Code::kTimeout,
                                   "rpc error: call to datacenter " + attempt->dc + " timed out"));
    return;
  }
  const std::string server = attempt->servers[attempt->next++];
  auto on_answer = [this, attempt, server](core::Result<std::string> result) mutable {
    if (result || result.error().code != core::Code::kUnavailable) {
      attempt->done(std::move(result));
      return;
    }
    const bool retry = attempt->idempotent || rpc::never_handled(result.error());
    // Consul logs each failed forward; a dead server in backoff fails every call at once, so
    // the moves past it are debug and only the call's own failure is a warning.
    if (!retry || attempt->next >= attempt->servers.size()) {
      core::log::warn(kModule, "RPC to server {} in datacenter {} failed: {}", server, attempt->dc,
                      result.error().message);
    } else {
      core::log::debug(kModule, "RPC to server {} in datacenter {} failed, trying another: {}",
                       server, attempt->dc, result.error().message);
    }
    if (!retry) {
      // It may have reached the server: the caller learns the failure, not a second run.
      attempt->done(std::move(result));
      return;
    }
    if (attempt->next >= attempt->servers.size() || !running_) {
      attempt->done(no_path());
      return;
    }
    try_next(std::move(attempt));
  };
  // Copy what the call needs: on_answer may run (and move `attempt` on) before call() returns.
  std::string payload = attempt->payload;
  const rpc::Method method = attempt->method;
  if (auto s = rpc_->call(server, method, std::move(payload), left, std::move(on_answer)); !s) {
    attempt->done(s.error());
  }
}

}  // namespace pc::federation
