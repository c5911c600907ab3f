#include "agent/local_agent.h"

#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"

namespace pc::agent {
namespace {

constexpr std::string_view kModule = "agent";
constexpr std::string_view kDefaultNodeMaintReason =
    "Maintenance mode is enabled for this node, but no reason was provided. This is a default "
    "message.";
constexpr std::string_view kDefaultServiceMaintReason =
    "Maintenance mode is enabled for this service, but no reason was provided. This is a "
    "default message.";

core::Error invalid_check(const core::Error& e) {
  return core::make_error(core::Code::kInvalidArgument, "Invalid check: " + e.message);
}

std::string duration_text(core::Duration d) {
  return d.count() > 0 ? core::format_go_duration(d) : std::string();
}

}  // namespace

LocalAgent::LocalAgent(NodeInfo node, NodeReader reader, CommandSink sink,
                       core::TimerThread& timers, const core::Clock& clock, core::Rand& rand,
                       Options options)
    : options_(options),
      clock_(clock),
      timers_(timers),
      persist_(options.data_dir),
      local_(node.name, clock),
      runner_(local_, timers, clock, rand, options.runner),
      sync_(local_, std::move(reader), std::move(node), std::move(sink), clock, options.sync) {
  local_.set_change_hook([this] { sync_.trigger(); });
}

LocalAgent::~LocalAgent() {
  stop();
}

void LocalAgent::start() {
  restore_persisted();
  sync_.start();
  schedule_reap();
}

void LocalAgent::stop() {
  {
    std::lock_guard lock(reap_mu_);
    stopping_ = true;
    timers_.cancel(reap_timer_);
  }
  runner_.stop();
  sync_.stop();
}

void LocalAgent::schedule_reap() {
  std::lock_guard lock(reap_mu_);
  if (stopping_) return;
  reap_timer_ = timers_.schedule(clock_.now() + options_.reap_interval, [this] {
    reap_critical_services();
    schedule_reap();
  });
}

// Fills in what Consul's CheckDefinition.HealthCheck/CheckType derive, and validates.
core::Status LocalAgent::prepare_check(CheckRegistration& reg,
                                       std::string_view service_name) const {
  CheckSpec& spec = reg.spec;
  if (auto st = classify_and_validate(spec); !st) return invalid_check(st.error());
  const bool scripts_allowed = options_.enable_script_checks ||
                               (reg.from_config_file && options_.enable_local_script_checks);
  if (spec.kind == CheckKind::kScript && !scripts_allowed) {
    return core::make_error(core::Code::kInternal,
                            "Scripts are disabled on this agent; to enable, configure "
                            "'enable_script_checks' or 'enable_local_script_checks' to true");
  }
  if (spec.kind != CheckKind::kTtl && spec.kind != CheckKind::kManual &&
      spec.kind != CheckKind::kAlias && spec.interval < kMinCheckInterval) {
    core::log::warn(kModule, "check {} has interval below minimum of {}",
                    core::go_quote(reg.check.check_id),
                    core::format_go_duration(kMinCheckInterval));
    spec.interval = kMinCheckInterval;
  }
  if (spec.deregister_critical_service_after.count() > 0 &&
      spec.deregister_critical_service_after < options_.deregister_interval_min) {
    core::log::warn(kModule, "check {} has deregister interval below minimum of {}",
                    core::go_quote(reg.check.check_id),
                    core::format_go_duration(options_.deregister_interval_min));
    spec.deregister_critical_service_after = options_.deregister_interval_min;
  }
  state::HealthCheck& c = reg.check;
  if (c.name.empty() && !service_name.empty()) {
    c.name = "Service '" + std::string(service_name) + "' check";
  }
  if (c.check_id.empty()) c.check_id = c.name;
  if (c.status.empty()) c.status = state::kHealthCritical;
  c.type = check_type_name(spec.kind);
  if (spec.kind == CheckKind::kManual) c.type = "maintenance";
  c.http = spec.http;
  c.tcp = spec.tcp;
  c.interval = duration_text(spec.interval);
  c.timeout = duration_text(spec.timeout);
  c.deregister_critical_service_after = duration_text(spec.deregister_critical_service_after);
  return core::ok();
}

core::Status LocalAgent::add_check_locked(CheckRegistration reg) {
  // A check registered again at start (restored from its file, or from the configuration)
  // resumes the status its application last reported, if that has not run out yet.
  core::Duration first_ttl = core::Duration::zero();
  if (!reg.persist && reg.spec.kind == CheckKind::kTtl) {
    first_ttl = resume_ttl_state_locked(reg.check);
  }
  std::string id = reg.check.check_id;
  CheckSpec spec = reg.spec;
  state::HealthCheck check = reg.check;
  if (auto st = local_.add_check(std::move(reg.check), reg.spec); !st) return st;
  runner_.start(id, spec, first_ttl);
  if (!reg.persist) return core::ok();
  // A new registration starts from its own status: a TTL state left by the check it replaces
  // must not come back at the next start.
  core::Status st = persist_.save_check(check, spec);
  if (st) st = persist_.purge_check_state(id);
  if (!st) {
    return core::make_error(core::Code::kInternal, "failed persisting check " + core::go_quote(id) +
                                                       ": " + st.error().message);
  }
  return core::ok();
}

// Removes a check that exists from the runner, the local state and the disk.
void LocalAgent::drop_check_locked(const std::string& id) {
  runner_.stop_check(id);
  (void)local_.remove_check(id);
  if (auto st = persist_.purge_check(id); !st) {
    core::log::error(kModule, "failed purging check {}: {}", core::go_quote(id),
                     st.error().message);
  }
}

core::Status LocalAgent::persist_service_locked(const state::Service& service,
                                                const std::string& token) {
  if (auto st = persist_.save_service(service, token); !st) {
    return core::make_error(
        core::Code::kInternal,
        "failed persisting service " + core::go_quote(service.id) + ": " + st.error().message);
  }
  return core::ok();
}

core::Status LocalAgent::add_service(ServiceRegistration reg) {
  state::Service& s = reg.service;
  if (s.id.empty()) s.id = s.service;
  // Consul's service check IDs: "service:<id>", numbered from 1 when there are several.
  for (std::size_t i = 0; i < reg.checks.size(); ++i) {
    auto& c = reg.checks[i].check;
    c.service_id = s.id;
    if (c.check_id.empty()) {
      c.check_id = "service:" + s.id;
      if (reg.checks.size() > 1) c.check_id += ":" + std::to_string(i + 1);
    }
    if (auto st = prepare_check(reg.checks[i], s.service); !st) return st;
  }
  std::lock_guard lock(write_mu_);
  if (reg.replace_existing_checks) {
    for (const auto& id : local_.check_ids_of_service(s.id)) {
      bool kept = std::any_of(reg.checks.begin(), reg.checks.end(),
                              [&id](const CheckRegistration& c) { return c.check.check_id == id; });
      if (kept || id.starts_with(kServiceMaintenancePrefix)) continue;
      drop_check_locked(id);
    }
  }
  local_.add_service(reg.service, reg.token);
  if (reg.persist) {
    if (auto st = persist_service_locked(reg.service, reg.token); !st) return st;
  }
  for (auto& c : reg.checks) {
    c.persist = reg.persist;
    if (auto st = add_check_locked(std::move(c)); !st) return st;
  }
  return core::ok();
}

core::Status LocalAgent::validate(ServiceRegistration reg) const {
  for (CheckRegistration& c : reg.checks) {
    if (auto st = prepare_check(c, reg.service.service); !st) return st;
  }
  return core::ok();
}

core::Status LocalAgent::validate(CheckRegistration reg) const {
  return prepare_check(reg, "");
}

core::Status LocalAgent::remove_service(std::string_view id) {
  std::lock_guard lock(write_mu_);
  std::vector<std::string> checks = local_.check_ids_of_service(id);
  if (auto st = local_.remove_service(id); !st) return st;
  for (const auto& c : checks) drop_check_locked(c);
  if (auto st = persist_.purge_service(id); !st) {
    core::log::error(kModule, "failed purging service {}: {}", core::go_quote(id),
                     st.error().message);
  }
  return core::ok();
}

core::Status LocalAgent::add_check(CheckRegistration reg) {
  if (auto st = prepare_check(reg, ""); !st) return st;
  std::lock_guard lock(write_mu_);
  return add_check_locked(std::move(reg));
}

core::Status LocalAgent::remove_check(std::string_view id) {
  std::lock_guard lock(write_mu_);
  if (!local_.check(id)) return local_.remove_check(id);  // Consul's NotFound text
  drop_check_locked(std::string(id));
  return core::ok();
}

core::Status LocalAgent::update_ttl(std::string_view id, std::string_view status,
                                    std::string output) {
  // Consul vets the check before the update: an unknown one is a 404, a known one without a
  // TTL the runner's 500.
  if (!local_.check(id)) {
    return core::make_error(core::Code::kNotFound,
                            "Unknown check ID " + core::go_quote(id) +
                                ". Ensure that the check ID is passed, not the check name.");
  }
  // Under the write lock, so that two updates reach the disk in the order they took effect.
  std::lock_guard lock(write_mu_);
  if (auto st = runner_.update_ttl(id, status, std::move(output)); !st) return st;
  auto updated = local_.check(id);
  if (!persist_.enabled() || !updated) return core::ok();
  // Good until the TTL runs out, as the runner's timer: a restart within it resumes the status.
  const auto expires = std::chrono::duration_cast<std::chrono::seconds>(
      (clock_.wall_now() + updated->spec.ttl).time_since_epoch());
  PersistedCheckState state{std::string(id), updated->check.status, updated->check.output,
                            expires.count()};
  if (auto st = persist_.save_check_state(state); !st) {
    return core::make_error(
        core::Code::kInternal,
        "failed persisting state for check " + core::go_quote(id) + ": " + st.error().message);
  }
  return core::ok();
}

core::Status LocalAgent::set_node_maintenance(bool enable, std::string_view reason) {
  std::string id(kNodeMaintenanceCheckId);
  std::lock_guard lock(write_mu_);
  bool active = local_.check(id).has_value();
  if (!enable) {
    if (active) {
      drop_check_locked(id);
      core::log::info(kModule, "Node left maintenance mode");
    }
    return core::ok();
  }
  if (active) return core::ok();
  CheckRegistration reg;
  reg.check.check_id = id;
  reg.check.name = "Node Maintenance Mode";
  reg.check.notes = reason.empty() ? std::string(kDefaultNodeMaintReason) : std::string(reason);
  reg.check.status = state::kHealthCritical;
  reg.spec.kind = CheckKind::kManual;
  if (auto st = prepare_check(reg, ""); !st) return st;
  core::log::info(kModule, "Node entered maintenance mode");
  return add_check_locked(std::move(reg));
}

core::Status LocalAgent::set_service_maintenance(std::string_view service_id, bool enable,
                                                 std::string_view reason) {
  std::lock_guard lock(write_mu_);
  if (!local_.service(service_id)) {
    return core::make_error(core::Code::kNotFound,
                            "No service registered with ID " + core::go_quote(service_id));
  }
  std::string id = std::string(kServiceMaintenancePrefix) + std::string(service_id);
  bool active = local_.check(id).has_value();
  if (!enable) {
    if (active) {
      drop_check_locked(id);
      core::log::info(kModule, "Service {} left maintenance mode", core::go_quote(service_id));
    }
    return core::ok();
  }
  if (active) return core::ok();
  CheckRegistration reg;
  reg.check.check_id = id;
  reg.check.name = "Service Maintenance Mode";
  reg.check.notes = reason.empty() ? std::string(kDefaultServiceMaintReason) : std::string(reason);
  reg.check.status = state::kHealthCritical;
  reg.check.service_id = std::string(service_id);
  reg.spec.kind = CheckKind::kManual;
  if (auto st = prepare_check(reg, ""); !st) return st;
  core::log::info(kModule, "Service {} entered maintenance mode", core::go_quote(service_id));
  return add_check_locked(std::move(reg));
}

void LocalAgent::reap_critical_services() {
  core::MonoTime now = clock_.now();
  std::vector<std::pair<std::string, std::string>> reap;  // service ID, check ID
  for (const auto& lc : local_.checks()) {
    const auto timeout = lc.spec.deregister_critical_service_after;
    if (timeout.count() <= 0 || lc.check.service_id.empty() ||
        lc.check.status != state::kHealthCritical || now - lc.critical_since <= timeout) {
      continue;
    }
    reap.emplace_back(lc.check.service_id, lc.check.check_id);
  }
  for (const auto& [service, check] : reap) {
    if (remove_service(service)) {
      core::log::info(kModule,
                      "Check {} for service {} has been critical for too long; deregistered "
                      "service",
                      core::go_quote(check), core::go_quote(service));
    }
  }
}

}  // namespace pc::agent
