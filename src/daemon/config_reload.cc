#include "daemon/config_reload.h"

#include "core/log.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "agent";

}  // namespace

core::Status ConfigReloader::register_initial() {
  std::lock_guard lock(mu_);
  auto regs = decode_config_definitions(config_, registration_token_());
  if (!regs) return regs.error();
  return services_.apply(std::move(*regs));
}

core::Status ConfigReloader::reload() {
  std::lock_guard lock(mu_);
  auto fail = [](const core::Error& e) -> core::Status {
    core::log::error(kModule, "Failed to reload configuration: {}", e.message);
    return e;
  };
  auto next = core::reload_agent_config(config_);
  if (!next) return fail(next.error());
  auto regs = decode_config_definitions(*next, registration_token_());
  if (!regs) return fail(regs.error());
  if (auto st = services_.apply(std::move(*regs)); !st) return fail(st.error());
  // Consul reloads the log level in place; the caller's hook does DNS and TLS.
  if (auto level = core::log::parse_level(next->log_level)) core::log::set_level(*level);
  config_ = std::move(*next);
  if (apply_rest_) apply_rest_(config_);
  core::log::info(kModule,
                  "Reloaded configuration (log_level={}, {} services and {} checks "
                  "from config files)",
                  config_.log_level, config_.service_definitions.size(),
                  config_.check_definitions.size());
  return core::ok();
}

}  // namespace pc::daemon
