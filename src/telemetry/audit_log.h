#pragma once
// The audit log (Consul Enterprise's `audit` stanza): events from the HTTP edge go to every
// configured sink, each a RotatingFile of JSON lines.
//
// Delivery is Consul's "best-effort": record() only queues the event and returns, so a slow
// or failing disk never holds a request. One writer thread renders and writes the queue in
// order. When audit_events_queued_max events are already waiting, the new one is dropped; a
// failed write is logged and the event is lost for that sink. Both are counted in stats().
//
// Lifecycle: construct, start() once (opens every sink; an error leaves nothing running),
// record()/reopen()/flush() from any thread, stop() once (writes what is queued, then joins;
// the destructor stops too). record() after stop() drops the event.
// Thread-safety: every public member may be called from any thread.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/limits.h"
#include "core/result.h"
#include "telemetry/audit_event.h"
#include "telemetry/rotating_file.h"

namespace pc::telemetry {

struct AuditSinkSpec {
  std::string name;  // the sink's name in the configuration, for log messages
  FileSinkOptions file;
};

class AuditLog {
 public:
  AuditLog(std::vector<AuditSinkSpec> sinks, const core::Clock& clock,
           std::size_t queued_max = core::limits::audit_events_queued_max);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  core::Status start();
  void stop();

  // Queues `event`; its line's created_at is the time of this call.
  void record(AuditEvent event);
  // Every sink closes its file and starts a new one (after what is queued now).
  void reopen();
  // Returns once every event recorded before the call has been written or has failed.
  void flush();

  struct Stats {
    std::uint64_t written = 0;  // lines written, counted once per sink
    std::uint64_t dropped = 0;  // events refused because the queue was full or stopped
    std::uint64_t failed = 0;   // lines a sink could not write
  };
  Stats stats() const;

 private:
  struct Item {
    AuditEvent event;
    core::WallTime created_at;
    bool reopen = false;  // a marker: rotate every sink here instead of writing
  };
  struct Sink {
    std::string name;
    std::unique_ptr<RotatingFile> file;
  };

  void run();
  void write_item(const Item& item);

  const core::Clock& clock_;
  const std::size_t queued_max_;
  std::vector<Sink> sinks_;  // used by the writer thread only once started

  mutable std::mutex mu_;
  std::condition_variable cv_;       // the writer waits for work
  std::condition_variable done_cv_;  // flush() waits for progress
  std::deque<Item> queue_;
  std::uint64_t enqueued_ = 0;  // items ever queued
  std::uint64_t finished_ = 0;  // items ever handled by the writer
  bool running_ = false;
  bool stopping_ = false;
  Stats stats_;
  std::thread writer_;
};

}  // namespace pc::telemetry
