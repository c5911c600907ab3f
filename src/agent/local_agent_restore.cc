// LocalAgent's start-up half of persistence: registering again what the data directory
// holds (Consul's loadServices/loadChecks for the files the agent API wrote).
#include "agent/local_agent.h"
#include "core/log.h"
#include "core/strings.h"

namespace pc::agent {
namespace {

constexpr std::string_view kModule = "agent";

}  // namespace

void LocalAgent::restore_persisted() {
  if (!persist_.enabled()) return;
  std::lock_guard lock(write_mu_);
  std::size_t services = 0;
  std::size_t checks = 0;
  for (auto& file : persist_.load_services()) {
    state::Service& service = file.value.service;
    if (local_.service(service.id)) {
      // Registered from the configuration already: the configuration wins, as in Consul.
      core::log::debug(kModule, "service {} exists, not restoring from file {}",
                       core::go_quote(service.id), file.path);
      (void)persist_.purge_service(service.id);
      continue;
    }
    core::log::debug(kModule, "restored service {} from file {}", core::go_quote(service.id),
                     file.path);
    local_.add_service(std::move(service), std::move(file.value.token));
    ++services;
  }
  for (auto& file : persist_.load_checks()) {
    const std::string id = file.value.check.check_id;
    if (local_.check(id)) {
      core::log::debug(kModule, "check {} exists, not restoring from file {}", core::go_quote(id),
                       file.path);
      (void)persist_.purge_check(id);
      continue;
    }
    CheckRegistration reg;
    reg.check = std::move(file.value.check);
    if (file.value.spec) {
      reg.spec = std::move(*file.value.spec);
    } else {
      reg.spec.kind = CheckKind::kManual;
    }
    reg.persist = false;  // the file is there already
    if (auto st = restore_check_locked(std::move(reg)); !st) {
      // Its service is gone, or this agent no longer runs its kind (script checks turned
      // off): Consul drops the file too.
      core::log::warn(kModule, "Failed to restore check {} from file {}: {}", core::go_quote(id),
                      file.path, st.error().message);
      (void)persist_.purge_check(id);
      continue;
    }
    ++checks;
  }
  core::log::info(kModule, "Restored {} services and {} checks from the data directory", services,
                  checks);
}

// A restored check starts critical, so that no instance is served as healthy before its
// check has run again (Consul's rule); add_check_locked resumes a TTL check's saved status.
core::Status LocalAgent::restore_check_locked(CheckRegistration reg) {
  reg.check.status = state::kHealthCritical;
  reg.check.output.clear();
  if (auto st = prepare_check(reg, ""); !st) return st;
  return add_check_locked(std::move(reg));
}

// The status and output a TTL check's application last reported, if their TTL has not run
// out (Consul's loadCheckState): they replace `check`'s, and what is left of the TTL is
// returned for the runner's first expiry. Zero when there is nothing to resume.
core::Duration LocalAgent::resume_ttl_state_locked(state::HealthCheck& check) {
  auto saved = persist_.load_check_state(check.check_id);
  if (!saved) return core::Duration::zero();
  const core::WallTime expires{std::chrono::seconds(saved->expires_unix_s)};
  const auto left = std::chrono::duration_cast<core::Duration>(expires - clock_.wall_now());
  if (left.count() <= 0) {
    core::log::debug(kModule, "check state expired for {}, not restoring",
                     core::go_quote(check.check_id));
    (void)persist_.purge_check_state(check.check_id);
    return core::Duration::zero();
  }
  check.status = saved->status;
  check.output = saved->output;
  return left;
}

}  // namespace pc::agent
