#include "agent/check_runner.h"

#include <condition_variable>
#include <deque>
#include <thread>

#include "agent/alias_check.h"
#include "agent/checks/probe.h"
#include "core/log.h"
#include "core/strings.h"

namespace pc::agent {
namespace {

constexpr std::string_view kModule = "agent.checks";
// Consul's defaults when a check gives no Timeout.
constexpr core::Duration kDefaultProbeTimeout = std::chrono::seconds(10);
constexpr core::Duration kDefaultScriptTimeout = std::chrono::seconds(30);

core::Duration or_default(core::Duration d, core::Duration fallback) {
  return d.count() > 0 ? d : fallback;
}

}  // namespace

ProbeResult probe_once(const CheckSpec& spec) {
  switch (spec.kind) {
    case CheckKind::kHttp: {
      HttpProbeSpec http;
      http.url = spec.http;
      if (!spec.method.empty()) http.method = spec.method;
      http.header = spec.header;
      http.body = spec.body;
      http.tls_skip_verify = spec.tls_skip_verify;
      http.tls_server_name = spec.tls_server_name;
      http.disable_redirects = spec.disable_redirects;
      http.timeout = or_default(spec.timeout, kDefaultProbeTimeout);
      return probe_http(http);
    }
    case CheckKind::kTcp:
      return probe_tcp(spec.tcp, or_default(spec.timeout, kDefaultProbeTimeout));
    case CheckKind::kGrpc: {
      GrpcProbeSpec grpc;
      grpc.target = spec.grpc;
      grpc.use_tls = spec.grpc_use_tls;
      grpc.tls_skip_verify = spec.tls_skip_verify;
      grpc.tls_server_name = spec.tls_server_name;
      grpc.timeout = or_default(spec.timeout, kDefaultProbeTimeout);
      return probe_grpc(grpc);
    }
    case CheckKind::kScript:
      return probe_script(spec.args, or_default(spec.timeout, kDefaultScriptTimeout));
    case CheckKind::kTtl:
    case CheckKind::kAlias:  // the runner's own, not a probe
    case CheckKind::kManual: break;
  }
  return ProbeResult{state::kHealthCritical, "check kind has no probe"};
}

// The probe queue and its workers, shared with the workers so they may outlive the runner.
struct CheckRunner::Pool {
  std::function<core::Result<NodeRows>(const std::string& node)> node_reader;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> work;
  bool stopping = false;
  // Held while a result is delivered; stop() clears `runner` under it, so no delivery runs
  // into a runner being destroyed.
  std::mutex deliver_mu;
  CheckRunner* runner = nullptr;
};

CheckRunner::CheckRunner(LocalState& local, core::TimerThread& timers, const core::Clock& clock,
                         core::Rand& rand, Options options)
    : local_(local), timers_(timers), clock_(clock), rand_(rand), pool_(std::make_shared<Pool>()) {
  pool_->runner = this;
  pool_->node_reader = std::move(options.node_reader);
  int n = std::max(1, options.workers);
  for (int i = 0; i < n; ++i) {
    std::thread([pool = pool_, i] {
      core::set_thread_name("pc-check-" + std::to_string(i));
      worker_loop(pool);
    }).detach();
  }
}

CheckRunner::~CheckRunner() {
  stop();
}

void CheckRunner::stop() {
  {
    std::lock_guard lock(pool_->deliver_mu);
    pool_->runner = nullptr;
  }
  {
    std::lock_guard lock(pool_->mu);
    pool_->stopping = true;
    pool_->work.clear();
  }
  pool_->cv.notify_all();
  std::lock_guard lock(mu_);
  if (stopping_) return;
  stopping_ = true;
  for (auto& [id, entry] : entries_) timers_.cancel(entry.timer);
  entries_.clear();
}

void CheckRunner::start(const std::string& id, const CheckSpec& spec, core::Duration first_ttl) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  auto it = entries_.find(id);
  if (it != entries_.end()) {
    timers_.cancel(it->second.timer);
    entries_.erase(it);
  }
  if (spec.kind == CheckKind::kManual) return;
  Entry& entry = entries_[id];
  entry.generation = next_generation_++;
  entry.spec = spec;
  if (spec.kind == CheckKind::kTtl) {
    schedule_locked(id, entry, first_ttl.count() > 0 ? std::min(first_ttl, spec.ttl) : spec.ttl);
    return;
  }
  if (spec.kind == CheckKind::kAlias) {
    // Consul's alias runs at once and then follows what it aliases.
    entry.spec.interval = spec.alias_node.empty() ? alias_local_interval : alias_remote_interval;
    schedule_locked(id, entry, core::Duration(0));
    return;
  }
  entry.spec.interval = std::max(spec.interval, kMinCheckInterval);
  // Consul's lib.RandomStagger: the first run lands somewhere within one interval.
  auto interval = static_cast<std::uint64_t>(entry.spec.interval.count());
  schedule_locked(id, entry,
                  core::Duration(static_cast<std::int64_t>(rand_.next_u64() % interval)));
}

void CheckRunner::stop_check(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  timers_.cancel(it->second.timer);
  entries_.erase(it);
}

void CheckRunner::schedule_locked(const std::string& id, Entry& entry, core::Duration delay) {
  std::uint64_t generation = entry.generation;
  entry.timer =
      timers_.schedule(clock_.now() + delay, [this, id, generation] { on_timer(id, generation); });
}

void CheckRunner::on_timer(const std::string& id, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (stopping_ || it == entries_.end() || it->second.generation != generation) return;
  if (it->second.spec.kind == CheckKind::kAlias && it->second.spec.alias_node.empty()) {
    run_local_alias_locked(id, it->second);
    schedule_locked(id, it->second, it->second.spec.interval);
    return;
  }
  if (it->second.spec.kind != CheckKind::kTtl) {
    {
      std::lock_guard pool_lock(pool_->mu);
      pool_->work.push_back(Job{id, generation, it->second.spec});
    }
    pool_->cv.notify_one();
    return;
  }
  // Under the lock: an update that reset the TTL meanwhile changed the generation above.
  // Consul's CheckTTL keeps the application's last word after its own (getExpiredOutput).
  core::log::warn(kModule, "Check {} missed TTL, is now critical", core::go_quote(id));
  std::string output = "TTL expired";
  if (auto last = local_.check(id); last && !last->check.output.empty()) {
    output += " (last output before timeout follows): " + last->check.output;
  }
  local_.update_check(id, state::kHealthCritical, output);
}

void CheckRunner::deliver(const Job& job, const ProbeResult& result) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(job.id);
  if (stopping_ || it == entries_.end() || it->second.generation != job.generation) return;
  // Under the runner's lock, so a restart cannot slip between the generation test and the
  // write; LocalState never calls back into the runner.
  if (result.status != state::kHealthPassing) {
    core::log::debug(kModule, "Check {} is now {}: {}", core::go_quote(job.id), result.status,
                     result.output);
  }
  local_.update_check(job.id, result.status, result.output);
  schedule_locked(job.id, it->second, it->second.spec.interval);
}

void CheckRunner::run_local_alias_locked(const std::string& id, const Entry& entry) {
  AliasTarget target{"", entry.spec.alias_service, id};
  std::vector<state::HealthCheck> checks;
  for (LocalCheck& c : local_.checks()) checks.push_back(std::move(c.check));
  bool exists = false;
  for (const state::Service& s : local_.services()) exists = exists || s.id == target.service_id;
  AliasOutcome out = alias_outcome(target, checks, exists);
  local_.update_check(id, out.status, out.output);
}

ProbeResult CheckRunner::probe_remote_alias(const Pool& pool, const Job& job) {
  const CheckSpec& spec = job.spec;
  if (!pool.node_reader) {
    return ProbeResult{std::string(state::kHealthCritical),
                       "Failure checking aliased node or service: no catalog reader"};
  }
  auto rows = pool.node_reader(spec.alias_node);
  if (!rows) {
    return ProbeResult{std::string(state::kHealthCritical),
                       "Failure checking aliased node or service: " + rows.error().message};
  }
  bool exists = false;
  for (const state::Service& s : rows->services) exists = exists || s.id == spec.alias_service;
  AliasOutcome out =
      alias_outcome(AliasTarget{spec.alias_node, spec.alias_service, job.id}, rows->checks, exists);
  return ProbeResult{std::move(out.status), std::move(out.output)};
}

void CheckRunner::worker_loop(const std::shared_ptr<Pool>& pool) {
  while (true) {
    Job job;
    {
      std::unique_lock lock(pool->mu);
      pool->cv.wait(lock, [&pool] { return pool->stopping || !pool->work.empty(); });
      if (pool->stopping) return;
      job = std::move(pool->work.front());
      pool->work.pop_front();
    }
    ProbeResult result =
        job.spec.kind == CheckKind::kAlias ? probe_remote_alias(*pool, job) : probe_once(job.spec);
    std::lock_guard lock(pool->deliver_mu);
    if (pool->runner != nullptr) pool->runner->deliver(job, result);
  }
}

core::Status CheckRunner::update_ttl(std::string_view id, std::string_view status,
                                     std::string output) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.spec.kind != CheckKind::kTtl) {
    return core::make_error(core::Code::kInternal,
                            "CheckID " + core::go_quote(id) + " does not have associated TTL");
  }
  if (output.size() > kCheckOutputMax) {
    std::size_t total = output.size();
    output.resize(kCheckOutputMax);
    output += " ... (captured " + std::to_string(kCheckOutputMax) + " of " + std::to_string(total) +
              " bytes)";
  }
  timers_.cancel(it->second.timer);
  // A new generation, so an expiry already queued behind this lock is dropped.
  it->second.generation = next_generation_++;
  schedule_locked(std::string(id), it->second, it->second.spec.ttl);
  local_.update_check(id, status, output);
  return core::ok();
}

std::size_t CheckRunner::ttl_checks() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(),
                    [](const auto& e) { return e.second.spec.kind == CheckKind::kTtl; }));
}

std::size_t CheckRunner::monitor_checks() const {
  std::lock_guard lock(mu_);
  return entries_.size() - static_cast<std::size_t>(
                               std::count_if(entries_.begin(), entries_.end(), [](const auto& e) {
                                 return e.second.spec.kind == CheckKind::kTtl;
                               }));
}

}  // namespace pc::agent
