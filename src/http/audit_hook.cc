#include "http/audit_hook.h"

#include <mutex>
#include <optional>

#include "endpoints/acl_resolver.h"
#include "http/acl_auth.h"
#include "state/store.h"
#include "state/watch.h"
#include "telemetry/audit_log.h"

namespace pc::http {
namespace {

// One audited request, shared by its wrapped Reply and, for a blocking read, its wrapped run.
// The completion is recorded once: explicitly for a Response, else when the last holder lets
// go (the server finished the blocking read, or dropped a request it never answered).
class Operation {
 public:
  Operation(std::shared_ptr<telemetry::AuditLog> log, telemetry::AuditEvent start,
            const core::Clock& clock)
      : log_(std::move(log)), event_(std::move(start)), clock_(clock) {}
  ~Operation() { complete(std::nullopt); }
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  // Remembers the status of a blocking read's latest run.
  void note_status(int status) {
    std::lock_guard lock(mu_);
    last_status_ = status;
  }

  // Records the completion with `status` (else the last noted one); later calls do nothing.
  void complete(std::optional<int> status) {
    telemetry::AuditEvent done;
    {
      std::lock_guard lock(mu_);
      if (completed_) return;
      completed_ = true;
      done = event_;
      done.status = status ? status : last_status_;
    }
    done.stage = telemetry::AuditStage::kOperationComplete;
    done.timestamp = clock_.wall_now();
    log_->record(std::move(done));
  }

 private:
  const std::shared_ptr<telemetry::AuditLog> log_;
  const telemetry::AuditEvent event_;
  const core::Clock& clock_;
  std::mutex mu_;
  bool completed_ = false;
  std::optional<int> last_status_;
};

std::string header_or_empty(const Request& req, std::string_view name) {
  const std::string* v = req.header(name);
  return v != nullptr ? *v : std::string();
}

}  // namespace

AuditHook::AuditHook(const endpoints::AclResolver& acl, const state::Store& store,
                     std::shared_ptr<telemetry::AuditLog> log, const core::Clock& clock)
    : acl_(acl), store_(store), log_(std::move(log)), clock_(clock) {}

Reply AuditHook::wrap(const Request& req, Reply reply) {
  if (!acl_.enabled()) return reply;
  // Resolution is cached per secret, so the handler's own resolution right after is a hit.
  auto who = acl_.resolve(request_token(req));
  if (!who) return reply;

  telemetry::AuditEvent e;
  e.id = core::make_uuid(rand_);
  e.timestamp = clock_.wall_now();
  e.accessor_id = who->accessor_id;
  if (auto token = store_.snapshot().acl_token(who->accessor_id)) {
    e.description = token->description;
    e.token_create_time_unix_ns = token->create_time_unix_ns;
  }
  e.operation = req.method;
  e.endpoint = req.path;
  e.remote_addr = req.remote_addr;
  e.user_agent = header_or_empty(req, "user-agent");
  e.host = header_or_empty(req, "host");
  for (const auto& [k, v] : req.query) {
    if (k != "token") e.query_params.emplace_back(k, v);
  }
  log_->record(e);

  auto op = std::make_shared<Operation>(log_, std::move(e), clock_);
  return [op = std::move(op), reply = std::move(reply)](Outcome outcome) mutable {
    if (auto* response = std::get_if<Response>(&outcome)) {
      op->complete(response->status);
    } else if (auto* read = std::get_if<BlockingRead>(&outcome)) {
      read->run = [op, run = std::move(read->run)](state::WatchSet& ws) {
        ReadOutcome out = run(ws);
        op->note_status(out.response.status);
        return out;
      };
    }
    op.reset();  // from here the blocking read, if any, holds the operation
    reply(std::move(outcome));
  };
}

}  // namespace pc::http
