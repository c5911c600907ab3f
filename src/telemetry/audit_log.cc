#include "telemetry/audit_log.h"

#include "core/log.h"

namespace pc::telemetry {
namespace {

constexpr std::string_view kLogModule = "audit";
// A failing disk would fail every event: say so on the first failure and then every this many.
constexpr std::uint64_t kFailureLogEvery = 1000;

}  // namespace

AuditLog::AuditLog(std::vector<AuditSinkSpec> sinks, const core::Clock& clock,
                   std::size_t queued_max)
    : clock_(clock), queued_max_(queued_max) {
  for (AuditSinkSpec& spec : sinks) {
    sinks_.push_back(Sink{spec.name, std::make_unique<RotatingFile>(std::move(spec.file), clock)});
  }
}

AuditLog::~AuditLog() {
  stop();
}

core::Status AuditLog::start() {
  for (Sink& sink : sinks_) {
    core::Status s = sink.file->open();
    if (!s) {
      return core::make_error(s.error().code,
                              "audit sink \"" + sink.name + "\": " + s.error().message);
    }
  }
  std::lock_guard lock(mu_);
  running_ = true;
  writer_ = std::thread([this] { run(); });
  return core::ok();
}

void AuditLog::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void AuditLog::record(AuditEvent event) {
  const core::WallTime now = clock_.wall_now();
  {
    std::lock_guard lock(mu_);
    if (!running_ || stopping_ || queue_.size() >= queued_max_) {
      ++stats_.dropped;
      return;
    }
    queue_.push_back(Item{std::move(event), now, false});
    ++enqueued_;
  }
  cv_.notify_one();
}

void AuditLog::reopen() {
  {
    std::lock_guard lock(mu_);
    if (!running_ || stopping_) return;
    queue_.push_back(Item{AuditEvent{}, core::WallTime{}, true});
    ++enqueued_;
  }
  cv_.notify_one();
}

void AuditLog::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = enqueued_;
  done_cv_.wait(lock, [&] { return finished_ >= target || !running_; });
}

AuditLog::Stats AuditLog::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void AuditLog::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) break;  // stopping, and everything queued is written
    Item item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    write_item(item);
    lock.lock();
    ++finished_;
    done_cv_.notify_all();
  }
  running_ = false;
  done_cv_.notify_all();
}

// Runs on the writer thread without mu_, except to count.
void AuditLog::write_item(const Item& item) {
  if (item.reopen) {
    for (Sink& sink : sinks_) {
      core::Status s = sink.file->rotate();
      if (!s) core::log::error(kLogModule, "sink \"{}\": {}", sink.name, s.error().message);
    }
    return;
  }
  const std::string line = render_audit_event(item.event, item.created_at);
  for (Sink& sink : sinks_) {
    core::Status s = sink.file->write(line);
    std::uint64_t failed = 0;
    {
      std::lock_guard lock(mu_);
      if (s) {
        ++stats_.written;
      } else {
        failed = ++stats_.failed;
      }
    }
    if (!s && (failed == 1 || failed % kFailureLogEvery == 0)) {
      core::log::error(kLogModule, "sink \"{}\": event lost ({} so far): {}", sink.name, failed,
                       s.error().message);
    }
  }
}

}  // namespace pc::telemetry
