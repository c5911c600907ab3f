#include "endpoints/agent_tokens.h"

#include <utility>

namespace pc::endpoints {

AgentTokens::AgentTokens(Initial initial)
    : acl_enabled_(initial.acl_enabled), tokens_(std::move(initial)) {}

std::optional<AgentTokens::Kind> AgentTokens::kind_of(std::string_view name) {
  if (name == "default" || name == "acl_token") return Kind::kDefault;
  if (name == "agent" || name == "acl_agent_token") return Kind::kAgent;
  if (name == "agent_recovery" || name == "agent_master" || name == "acl_agent_master_token") {
    return Kind::kAgentRecovery;
  }
  if (name == "replication" || name == "acl_replication_token") return Kind::kReplication;
  if (name == "config_file_service_registration") return Kind::kConfigFileRegistration;
  if (name == "dns" || name == "dns_token") return Kind::kDns;
  return std::nullopt;
}

std::string AgentTokens::Initial::*AgentTokens::member_of(Kind kind) {
  switch (kind) {
    case Kind::kDefault: return &Initial::default_token;
    case Kind::kAgent: return &Initial::agent;
    case Kind::kAgentRecovery: return &Initial::agent_recovery;
    case Kind::kReplication: return &Initial::replication;
    case Kind::kConfigFileRegistration: return &Initial::config_file_registration;
    case Kind::kDns: return &Initial::dns;
  }
  return &Initial::default_token;  // unreachable: every kind is listed
}

void AgentTokens::set(Kind kind, std::string secret) {
  {
    std::lock_guard lock(mu_);
    tokens_.*member_of(kind) = std::move(secret);
  }
  // After the store: whoever sees the new version reads the new token.
  version_.fetch_add(1, std::memory_order_acq_rel);
}

std::string AgentTokens::get(Kind kind) const {
  std::lock_guard lock(mu_);
  return tokens_.*member_of(kind);
}

std::string AgentTokens::agent_token() const {
  std::lock_guard lock(mu_);
  return tokens_.agent.empty() ? tokens_.default_token : tokens_.agent;
}

std::string AgentTokens::dns_token() const {
  std::lock_guard lock(mu_);
  return tokens_.dns.empty() ? tokens_.default_token : tokens_.dns;
}

}  // namespace pc::endpoints
