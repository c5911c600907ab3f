#pragma once
// CheckRunner: runs the agent's checks and writes their results into LocalState.
//
// Interval checks (HTTP, TCP, script) are timers on the shared TimerThread that hand the
// blocking probe to a small pool of worker threads, so a slow probe never delays a timer or
// another check beyond the pool's width. The first run is staggered randomly within the
// interval, as Consul does, so checks registered together do not fire together. TTL checks
// are one timer each, reset by every update; when it runs out the check turns critical with
// "TTL expired".
//
// Alias checks (alias_check.h) are evaluated again every second from LocalState when they
// alias a service of this agent (on the timer thread: an in-memory read), and every
// alias_remote_interval from the catalog when they name an AliasNode (on a worker: a read
// that may go to a server). Consul reacts to local changes at once and watches the catalog
// with a blocking query; polling bounds the delay instead, at one read per interval.
//
// Every (re)start of a check gets a new generation; a probe result or timer of an older
// generation is dropped, so a check replaced or removed mid-probe never sees a stale result.
//
// Thread-safe: all public methods may be called from any thread. stop() (also run by the
// destructor) cancels the timers and returns without waiting for probes in flight (a script
// may run for 30 s): the workers share the pool with the runner, finish their probe, find the
// runner gone and exit.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "agent/catalog_sync.h"
#include "agent/check_spec.h"
#include "agent/local_state.h"
#include "core/rand.h"
#include "core/timer_thread.h"

namespace pc::agent {

struct ProbeResult;

class CheckRunner {
 public:
  struct Options {
    int workers = 4;
    // The catalog's rows of another node, for alias checks with an AliasNode (a store
    // snapshot on a server, a server's answer on a client agent). Unset: such checks are
    // critical with the reason.
    std::function<core::Result<NodeRows>(const std::string& node)> node_reader;
  };

  CheckRunner(LocalState& local, core::TimerThread& timers, const core::Clock& clock,
              core::Rand& rand, Options options);
  ~CheckRunner();
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  // Starts running check `id`, replacing whatever ran under that ID. Manual checks have
  // nothing to run. A TTL check first expires after `first_ttl` when it is positive (what
  // is left of a status restored from disk), otherwise after its TTL.
  void start(const std::string& id, const CheckSpec& spec,
             core::Duration first_ttl = core::Duration::zero());
  void stop_check(std::string_view id);
  void stop();

  // Consul's updateTTLCheck: sets the status and output of a TTL check and restarts its TTL.
  // Output longer than Consul's limit is cut with its "... (captured N of M bytes)" note.
  core::Status update_ttl(std::string_view id, std::string_view status, std::string output);

  std::size_t ttl_checks() const;
  std::size_t monitor_checks() const;

 private:
  struct Entry {
    std::uint64_t generation = 0;
    CheckSpec spec;
    core::TimerThread::TimerId timer = 0;
  };

  struct Job {
    std::string id;
    std::uint64_t generation = 0;
    CheckSpec spec;
  };
  struct Pool;

  void schedule_locked(const std::string& id, Entry& entry, core::Duration delay);
  void run_local_alias_locked(const std::string& id, const Entry& entry);
  static ProbeResult probe_remote_alias(const Pool& pool, const Job& job);
  void on_timer(const std::string& id, std::uint64_t generation);
  void deliver(const Job& job, const ProbeResult& result);
  static void worker_loop(const std::shared_ptr<Pool>& pool);

  LocalState& local_;
  core::TimerThread& timers_;
  const core::Clock& clock_;
  core::Rand& rand_;

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::uint64_t next_generation_ = 1;
  bool stopping_ = false;

  std::shared_ptr<Pool> pool_;
};

// How often alias checks look again (see above).
inline constexpr core::Duration alias_local_interval = std::chrono::seconds(1);
inline constexpr core::Duration alias_remote_interval = std::chrono::seconds(2);

// Runs one probe of an interval check (exposed for tests).
ProbeResult probe_once(const CheckSpec& spec);

}  // namespace pc::agent
