#pragma once
// The audit log's hook at the HTTP edge (Consul Enterprise's audit logging): for every request
// that resolves to a token while ACLs are enabled, an OperationStart event before the handler
// runs and an OperationComplete event with the response status when it is answered.
//
// The server calls wrap() on an I/O thread just before dispatch; the Reply it returns records
// the completion and then passes the outcome on:
//   - a Response completes at once, when the handler calls `reply` (from any thread);
//   - a BlockingRead completes when the server is done with it (answered, timed out, or its
//     client gone), with the status of its last run: the server may run it many times and
//     answers with the last.
// A request whose reply never comes (the server stopped first) completes when the server
// drops it, without a response block. Requests whose token does not resolve (403 "ACL not
// found") are not audited, nor is anything while ACLs are off: there is no token to name.
//
// What is recorded: the operation id (one UUID for both events), the token's accessor id,
// description and creation time, the method, path, query parameters without `token`, remote
// address, Host and User-Agent. Never the secret: it may travel in ?token=, X-Consul-Token or
// Authorization, and none of those is copied.
//
// Lifetime: the hook must outlive the servers that use it; events may finish after it is gone,
// so each holds the AuditLog by shared_ptr. Thread-safety: wrap() may run on any thread.
#include <memory>

#include "core/clock.h"
#include "core/rand.h"
#include "http/handler.h"

namespace pc::endpoints {
class AclResolver;
}
namespace pc::state {
class Store;
}
namespace pc::telemetry {
class AuditLog;
}

namespace pc::http {

class AuditHook {
 public:
  AuditHook(const endpoints::AclResolver& acl, const state::Store& store,
            std::shared_ptr<telemetry::AuditLog> log, const core::Clock& clock);

  // Records the start of `req` and returns the Reply to dispatch it with; returns `reply`
  // unchanged when the request is not audited.
  Reply wrap(const Request& req, Reply reply);

 private:
  const endpoints::AclResolver& acl_;
  const state::Store& store_;
  std::shared_ptr<telemetry::AuditLog> log_;
  const core::Clock& clock_;
  core::SystemRand rand_;  // operation ids
};

}  // namespace pc::http
