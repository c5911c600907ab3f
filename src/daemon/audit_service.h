#pragma once
// The agent's audit log (the `audit` stanza): the sinks from the configuration, the writer
// behind them (telemetry/audit_log.h) and the hook the HTTP servers call (http/audit_hook.h).
//
// Only requests resolved to a token are audited, so the log runs where tokens are resolved:
// on servers with ACLs enabled. A client agent forwards requests to servers and resolves no
// token itself; there start() logs a warning and audits nothing.
//
// Lifecycle: start() once before the HTTP servers are built (a sink that cannot be opened is
// a startup error, as a bad configuration is), reopen() on SIGHUP, destroyed after the HTTP
// servers stopped (the destructor writes what is queued). Thread-safety: start() and
// reopen() from the agent's main thread; the wrapper runs on HTTP I/O threads.
#include <functional>
#include <memory>

#include "core/config.h"
#include "core/result.h"
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
class AuditHook;
}

namespace pc::daemon {

class AuditService {
 public:
  AuditService();
  ~AuditService();
  AuditService(const AuditService&) = delete;
  AuditService& operator=(const AuditService&) = delete;

  // `acl` is null on client agents. Error: a sink that cannot be opened.
  core::Status start(const core::AgentConfig& config, const endpoints::AclResolver* acl,
                     const state::Store& store);
  // For http::ServerOptions::wrap_reply; empty when nothing is audited.
  std::function<http::Reply(const http::Request&, http::Reply)> wrapper() const;
  // Every sink starts a new file (SIGHUP), so rotated-away files can be moved or removed.
  void reopen();

 private:
  std::shared_ptr<telemetry::AuditLog> log_;
  std::unique_ptr<http::AuditHook> hook_;
};

}  // namespace pc::daemon
