#pragma once
// Consul's initializeACLs on this agent's servers: while ACLs are enabled, the Raft leader
// makes sure the global-management policy, the anonymous token and the configured
// initial_management token exist, proposing one AclInit entry when any is missing (apply
// creates each only if still absent, so a new leader repeating it is harmless). It checks
// every second, so a new leader, or a restore that lost them, is caught up quickly.
//
// Lifecycle: start() once after the log runs; stopping the TimerThread stops it.
// Thread-safe: runs on the timer thread; the proposal's callback on the apply thread.
#include <atomic>
#include <functional>

#include "core/config.h"
#include "core/timer_thread.h"
#include "endpoints/acl_resolver.h"
#include "endpoints/agent_tokens.h"
#include "endpoints/context.h"

namespace pc::daemon {

// The agent's acl block as the resolver takes it.
endpoints::AclSettings acl_settings(const core::AclConfig& config);
// acl.tokens as the agent's token holder starts with them.
endpoints::AgentTokens::Initial agent_tokens_of(const core::AclConfig& config);
// acl.enable_token_persistence: loads <data_dir>/acl-tokens.json over the configured tokens
// and keeps API changes there. Nothing happens without the option or without a data
// directory (-dev keeps nothing on disk). A file that cannot be read is logged and ignored.
void persist_agent_tokens(const core::AgentConfig& config, endpoints::AgentTokens& tokens);

class AclLeaderInit {
 public:
  AclLeaderInit(endpoints::Context& ctx, core::TimerThread& timers, std::function<bool()> leading);
  void start();

 private:
  void check();

  endpoints::Context& ctx_;
  core::TimerThread& timers_;
  const std::function<bool()> leading_;
  std::atomic<bool> in_flight_{false};
};

}  // namespace pc::daemon
