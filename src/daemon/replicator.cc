// The replication loop (replicator.h).
#include "daemon/replicator.h"

#include <memory>

#include "core/log.h"
#include "core/strings.h"

namespace pc::daemon {
namespace {
constexpr std::string_view kModule = "replication";

// The reply of one remote call, waited for by the loop's thread. Shared with the callback,
// which may run after the loop gave up (timeout or stop).
struct CallState {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<core::Result<std::string>> result;
};
}  // namespace

Replicator::Replicator(ReplicatedKind kind, ReplicatorDeps deps, ReplicatorOptions options)
    : kind_(std::move(kind)), deps_(std::move(deps)), options_(options) {}

Replicator::~Replicator() {
  stop();
}

void Replicator::start() {
  thread_ = std::thread([this] {
    core::set_thread_name("pc-repl-" + kind_.name);
    run();
  });
}

void Replicator::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ReplicationKindStatus Replicator::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

bool Replicator::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

void Replicator::record_error(const core::Error& e) {
  std::lock_guard lock(mu_);
  status_.last_error_unix_ns = deps_.unix_now_ns();
  status_.last_error_message = e.message;
}

core::Result<std::string> Replicator::fetch(std::uint64_t min_index) {
  proto::ReplicationRequest req;
  req.set_kind(kind_.wire);
  req.set_token(deps_.token);
  req.set_min_index(min_index);
  req.set_max_wait_ms(min_index == 0 ? 0 : static_cast<std::uint64_t>(options_.max_wait.count()));
  req.set_source_datacenter(deps_.local_datacenter);
  const auto timeout = options_.max_wait + options_.call_slack;
  auto call = std::make_shared<CallState>();
  deps_.remote(deps_.primary_datacenter, kRpcReplicationFetch, req.SerializeAsString(), timeout,
               [call](core::Result<std::string> r) {
                 std::lock_guard lock(call->mu);
                 call->result = std::move(r);
                 call->cv.notify_all();
               });
  // The caller bounds the call by `timeout`; this bound only guards against a caller that
  // never answers, and stop() is noticed within a tenth of a second.
  const auto deadline = std::chrono::steady_clock::now() + timeout + options_.call_slack;
  std::unique_lock lock(call->mu);
  while (!call->result) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return core::make_error(core::Code::kTimeout, "replication fetch timed out");
    }
    call->cv.wait_for(lock, std::chrono::milliseconds(100));
    std::lock_guard stop_lock(mu_);
    if (stopping_) return core::make_error(core::Code::kUnavailable, "replication stopping");
  }
  return std::move(*call->result);
}

core::Result<std::uint64_t> Replicator::pass(std::uint64_t min_index) {
  auto bytes = fetch(min_index);
  if (!bytes) {
    record_error(bytes.error());
    return bytes.error();
  }
  auto reply = decode_replication_reply(*bytes);
  if (!reply) {
    record_error(reply.error());
    return reply.error();
  }
  const ReplicationPlan plan = kind_.plan(deps_.local(), *reply, options_.limits);
  for (const proto::Command& cmd : plan.commands) {
    if (auto st = deps_.submit(cmd); !st) {
      core::Error e = st.error();
      e.message = "failed to apply " + kind_.name + " batch: " + e.message;
      record_error(e);
      return e;
    }
  }
  if (plan.upserts + plan.deletes > 0) {
    core::log::debug(kModule, "{}: {} upserted, {} deleted at primary index {}", kind_.name,
                     plan.upserts, plan.deletes, reply->index());
  }
  std::lock_guard lock(mu_);
  status_.replicated_index = reply->index();
  status_.last_success_unix_ns = deps_.unix_now_ns();
  return reply->index();
}

void Replicator::run() {
  std::uint64_t index = 0;
  auto backoff = options_.backoff_initial;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (!deps_.leading()) {
      {
        std::lock_guard lock(mu_);
        status_.running = false;
      }
      index = 0;  // a later term starts with a full comparison
      if (!sleep_for(options_.leader_check)) return;
      continue;
    }
    {
      std::lock_guard lock(mu_);
      status_.running = true;
    }
    auto r = pass(index);
    if (!r) {
      core::log::warn(kModule, "{} replication from {} failed: {}", kind_.name,
                      deps_.primary_datacenter, r.error().message);
      if (!sleep_for(backoff)) return;
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    backoff = options_.backoff_initial;
    // An index that went backwards (the primary restored a snapshot) is taken as it is: the
    // pass just made the sets equal, and the next call blocks above the new index.
    index = *r;
  }
}

}  // namespace pc::daemon
