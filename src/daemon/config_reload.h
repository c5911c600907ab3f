#pragma once
// Reloading the agent's configuration, as Consul's SIGHUP and PUT /v1/agent/reload do: the
// same flags, files and directories are read again; the services and checks the files define
// are brought up to date on the local agent (daemon/config_services.h); then the settings
// that change at run time take effect (the log level here; DNS settings and TLS files through
// `apply_rest`). Every other setting keeps its start-up value until a restart.
//
// A reload that fails (a file that does not parse, a definition refused) changes nothing:
// the running configuration and registrations stay, and the error is returned (the HTTP
// endpoint answers it as a 500, as Consul does) and logged.
//
// Thread-safe: reload() serializes itself; `config` is replaced under its lock.
#include <functional>
#include <mutex>
#include <string>

#include "core/config.h"
#include "core/result.h"
#include "daemon/config_services.h"

namespace pc::daemon {

class ConfigReloader {
 public:
  using ApplyRest = std::function<void(const core::AgentConfig&)>;
  using TokenSource = std::function<std::string()>;

  // `registration_token` gives acl.tokens.config_file_service_registration as the agent
  // holds it now (it may have been changed through /v1/agent/token/).
  ConfigReloader(core::AgentConfig& config, ConfigServices& services,
                 TokenSource registration_token, ApplyRest apply_rest = {})
      : config_(config),
        services_(services),
        registration_token_(std::move(registration_token)),
        apply_rest_(std::move(apply_rest)) {}

  // Registers the definitions of the configuration the agent started with.
  core::Status register_initial();

  core::Status reload();

  // The hook for DNS and TLS, which start after the first reload may come.
  void set_apply_rest(ApplyRest apply_rest) {
    std::lock_guard lock(mu_);
    apply_rest_ = std::move(apply_rest);
  }

 private:
  std::mutex mu_;
  core::AgentConfig& config_;
  ConfigServices& services_;
  TokenSource registration_token_;
  ApplyRest apply_rest_;
};

}  // namespace pc::daemon
