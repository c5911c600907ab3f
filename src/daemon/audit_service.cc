#include "daemon/audit_service.h"

#include <cstdlib>

#include "core/duration.h"
#include "core/log.h"
#include "endpoints/acl_resolver.h"
#include "http/audit_hook.h"
#include "telemetry/audit_log.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "agent";

// The configuration was validated at load (core/config_audit.cc): mode is octal text and the
// duration parses.
telemetry::AuditSinkSpec sink_spec(const core::AuditSinkConfig& c) {
  telemetry::AuditSinkSpec spec;
  spec.name = c.name;
  spec.file.path = c.path;
  spec.file.mode = static_cast<unsigned>(std::strtoul(c.mode.c_str(), nullptr, 8));
  spec.file.rotate_bytes = static_cast<std::uint64_t>(c.rotate_bytes);
  if (!c.rotate_duration.empty()) {
    spec.file.rotate_duration = *core::parse_go_duration(c.rotate_duration);
  }
  spec.file.rotate_max_files = c.rotate_max_files;
  return spec;
}

}  // namespace

AuditService::AuditService() = default;

AuditService::~AuditService() {
  if (log_) log_->stop();
}

core::Status AuditService::start(const core::AgentConfig& config, const endpoints::AclResolver* acl,
                                 const state::Store& store) {
  if (!config.audit.enabled) return core::ok();
  // No resolver or ACLs off: nothing is authenticated to audit (the configuration warned at
  // load). A client agent's resolver asks a server, so its own endpoints are audited too.
  if (acl == nullptr || !acl->enabled()) return core::ok();
  std::vector<telemetry::AuditSinkSpec> sinks;
  for (const core::AuditSinkConfig& c : config.audit.sinks) sinks.push_back(sink_spec(c));
  auto log = std::make_shared<telemetry::AuditLog>(std::move(sinks), core::SystemClock::instance());
  core::Status s = log->start();
  if (!s) return s;
  log_ = std::move(log);
  hook_ = std::make_unique<http::AuditHook>(*acl, store, log_, core::SystemClock::instance());
  for (const core::AuditSinkConfig& c : config.audit.sinks) {
    core::log::info(kModule, "audit: sink \"{}\" writing to {}", c.name, c.path);
  }
  return core::ok();
}

std::function<http::Reply(const http::Request&, http::Reply)> AuditService::wrapper() const {
  if (!hook_) return {};
  return [hook = hook_.get()](const http::Request& req, http::Reply reply) {
    return hook->wrap(req, std::move(reply));
  };
}

void AuditService::reopen() {
  if (log_) log_->reopen();
}

}  // namespace pc::daemon
