#include "daemon/acl_init.h"

#include <filesystem>

#include "core/log.h"
#include "endpoints/acl.h"
#include "endpoints/agent_tokens_file.h"

namespace pc::daemon {
namespace {
constexpr auto kCheckInterval = std::chrono::seconds(1);
}  // namespace

endpoints::AclSettings acl_settings(const core::AclConfig& config) {
  endpoints::AclSettings s;
  s.enabled = config.enabled;
  s.default_policy =
      config.default_policy == "deny" ? acl::DefaultPolicy::kDeny : acl::DefaultPolicy::kAllow;
  s.down_policy = config.down_policy;
  s.initial_management = config.initial_management;
  s.default_token = config.default_token;
  s.agent_token = config.agent;
  s.enable_token_replication = config.enable_token_replication;
  s.replication_token = config.replication;
  return s;
}

endpoints::AgentTokens::Initial agent_tokens_of(const core::AclConfig& config) {
  endpoints::AgentTokens::Initial t;
  t.acl_enabled = config.enabled;
  t.default_token = config.default_token;
  t.agent = config.agent;
  t.agent_recovery = config.agent_recovery;
  t.replication = config.replication;
  t.dns = config.dns;
  t.config_file_registration = config.config_file_service_registration;
  return t;
}

void persist_agent_tokens(const core::AgentConfig& config, endpoints::AgentTokens& tokens) {
  if (!config.acl.enable_token_persistence || config.dev || config.data_dir.empty()) return;
  const std::string path =
      (std::filesystem::path(config.data_dir) / endpoints::kAgentTokensFileName).string();
  if (auto loaded = tokens.enable_persistence(path); !loaded) {
    // Consul starts with the configured tokens then too; the next API change rewrites it.
    core::log::warn("acl", "Unable to load persisted tokens from {}, using the configured ones: {}",
                    path, loaded.error().message);
  }
}

AclLeaderInit::AclLeaderInit(endpoints::Context& ctx, core::TimerThread& timers,
                             std::function<bool()> leading)
    : ctx_(ctx), timers_(timers), leading_(std::move(leading)) {}

void AclLeaderInit::start() {
  check();
}

void AclLeaderInit::check() {
  if (leading_() && !in_flight_.load()) {
    if (auto cmd = endpoints::acl_init_command(ctx_)) {
      in_flight_ = true;
      endpoints::submit(ctx_, std::move(*cmd), [this](core::Result<state::ApplyResult> r) {
        if (!r) core::log::warn("acl", "initializing ACLs failed: {}", r.error().message);
        in_flight_ = false;
      });
    }
  }
  timers_.schedule(std::chrono::steady_clock::now() + kCheckInterval, [this] { check(); });
}

}  // namespace pc::daemon
