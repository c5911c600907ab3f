#pragma once
// One replicated kind copied from the primary datacenter into this one (Consul's
// replicateACLType / the leader's ACL replication routines; docs/decisions/0015).
//
// On this datacenter's Raft leader only, a loop: ask a server of the primary for the kind's
// set above the index last replicated (the primary holds the call until its index moves or
// `max_wait` passes, so a change arrives within about a round trip), diff it against the
// local state (replication_plan.h) and write the difference through the log in batches.
// A failure is kept as the last error and retried after a backoff that doubles from
// backoff_initial to backoff_max; the local state stays as last replicated meanwhile.
// Losing leadership stops the loop's passes and forgets the index, so a new term starts with
// a full comparison.
//
// Lifecycle: start() once, stop() once (joins the thread; the destructor stops too).
// Thread-safe: status() from any thread. Thread: one (pc-repl-<kind>) per replicator.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/result.h"
#include "daemon/replication_plan.h"

namespace pc::daemon {

// Calls `method` on a server of datacenter `dc` (federation::DcCaller::call's shape); `done`
// runs once, from any thread.
using RemoteCallFn = std::function<void(const std::string& dc, std::uint16_t method,
                                        std::string payload, std::chrono::nanoseconds timeout,
                                        std::function<void(core::Result<std::string>)> done)>;

struct ReplicatorDeps {
  std::string primary_datacenter;
  std::string local_datacenter;
  std::string token;                       // acl.tokens.replication
  RemoteCallFn remote;                     // to the primary
  std::function<state::Snapshot()> local;  // this datacenter's state
  // Writes one command through the log and waits for it to apply.
  std::function<core::Status(proto::Command)> submit;
  std::function<bool()> leading;
  std::function<std::int64_t()> unix_now_ns;
};

struct ReplicatorOptions {
  std::chrono::milliseconds max_wait{std::chrono::seconds(10)};   // the primary's blocking wait
  std::chrono::milliseconds call_slack{std::chrono::seconds(5)};  // beyond max_wait for a reply
  std::chrono::milliseconds backoff_initial{std::chrono::milliseconds(250)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(10)};
  std::chrono::milliseconds leader_check{std::chrono::milliseconds(250)};  // when not leading
  BatchLimits limits;
};

struct ReplicationKindStatus {
  bool running = false;
  std::uint64_t replicated_index = 0;  // the primary's index last copied
  std::optional<std::int64_t> last_success_unix_ns;
  std::optional<std::int64_t> last_error_unix_ns;
  std::string last_error_message;
};

class Replicator {
 public:
  Replicator(ReplicatedKind kind, ReplicatorDeps deps, ReplicatorOptions options = {});
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  void start();
  void stop();

  ReplicationKindStatus status() const;
  const std::string& name() const { return kind_.name; }

  // One pass, on the caller's thread: fetch above `min_index` (0: at once), apply the plan.
  // Returns the primary's index the local state now reflects. Records status as the loop
  // does. For the loop and for tests.
  core::Result<std::uint64_t> pass(std::uint64_t min_index);

 private:
  void run();
  core::Result<std::string> fetch(std::uint64_t min_index);
  // Waits `d` or until stop(); false when stopping.
  bool sleep_for(std::chrono::milliseconds d);
  void record_error(const core::Error& e);

  const ReplicatedKind kind_;
  const ReplicatorDeps deps_;
  const ReplicatorOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  ReplicationKindStatus status_;
  std::thread thread_;
};

}  // namespace pc::daemon
