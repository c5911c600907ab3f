#pragma once
// The services and checks of the configuration files (core::AgentConfig's
// service_definitions and check_definitions) on the local agent: decoded and validated as the
// agent API decodes and validates a registration (http/handlers/agent_definition.h,
// agent::LocalAgent::validate), registered at start before the first anti-entropy pass, and
// brought up to date by a reload: what the files no longer define is removed, what changed
// is registered again, what did not change is left alone (its checks keep their status).
// Services and checks registered through the API are not touched.
//
// Errors name the file and the line of the definition:
//   Error parsing /etc/pc/web.json: At 2:14: service "web": Missing service name
// and nothing is applied when any definition is refused.
//
// Token (Consul's order): the definition's own `token`, else
// acl.tokens.config_file_service_registration as the agent holds it when the definition is
// registered, else none (the agent's own token then acts for it, as for a tokenless API
// registration).
//
// Thread-safe: apply() may be called from the signal loop and from HTTP threads.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/local_agent.h"
#include "core/config.h"
#include "core/result.h"

namespace pc::daemon {

// One decoded definition and what identifies its content (the body and the token), so a
// reload can tell what changed.
template <typename Registration>
struct ConfigRegistration {
  Registration reg;
  std::string fingerprint;
  std::string where;  // "Error parsing <file>: At <line>:<column>: " for messages
};

struct ConfigRegistrations {
  std::vector<ConfigRegistration<agent::ServiceRegistration>> services;
  std::vector<ConfigRegistration<agent::CheckRegistration>> checks;
};

// Decodes every definition of `config`; `fallback_token` is what a definition without a
// token of its own acts for.
core::Result<ConfigRegistrations> decode_config_definitions(const core::AgentConfig& config,
                                                            const std::string& fallback_token);

class ConfigServices {
 public:
  explicit ConfigServices(agent::LocalAgent& agent) : agent_(agent) {}

  // Makes the agent's configuration-file services and checks those of `next` (see above).
  core::Status apply(ConfigRegistrations next);

  // IDs currently registered from the files (for tests and logs).
  std::vector<std::string> service_ids() const;
  std::vector<std::string> check_ids() const;

 private:
  core::Status validate(const ConfigRegistrations& next) const;

  agent::LocalAgent& agent_;
  mutable std::mutex mu_;                        // one apply at a time
  std::map<std::string, std::string> services_;  // service ID -> fingerprint
  std::map<std::string, std::string> checks_;    // check ID -> fingerprint
};

}  // namespace pc::daemon
