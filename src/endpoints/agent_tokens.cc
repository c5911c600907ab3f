#include "endpoints/agent_tokens.h"

#include <utility>

#include "core/file_io.h"
#include "core/log.h"
#include "endpoints/agent_tokens_file.h"

namespace pc::endpoints {
namespace {

constexpr std::string_view kModule = "acl";
// The file holds secrets: readable by the agent's user alone, as Consul writes it.
constexpr unsigned kTokensFileMode = 0600;

// The name of a kind in the file and in warnings (the API's current name).
std::string_view name_of(AgentTokens::Kind kind) {
  switch (kind) {
    case AgentTokens::Kind::kDefault: return "default";
    case AgentTokens::Kind::kAgent: return "agent";
    case AgentTokens::Kind::kAgentRecovery: return "agent_recovery";
    case AgentTokens::Kind::kReplication: return "replication";
    case AgentTokens::Kind::kConfigFileRegistration: return "config_file_service_registration";
    case AgentTokens::Kind::kDns: return "dns";
  }
  return "unknown";  // unreachable: every kind is listed
}

}  // namespace

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

core::Status AgentTokens::set(Kind kind, std::string secret) {
  std::lock_guard persist(persist_mu_);
  {
    std::lock_guard lock(mu_);
    tokens_.*member_of(kind) = std::move(secret);
    from_runtime_[static_cast<std::size_t>(kind)] = true;
  }
  // After the store: whoever sees the new version reads the new token.
  version_.fetch_add(1, std::memory_order_acq_rel);
  if (persist_path_.empty()) return core::ok();
  // Fsynced: a token the API acknowledged should survive a crash right after the answer.
  return core::write_file_atomic(persist_path_, encode_runtime_tokens(), kTokensFileMode,
                                 core::FileSync::kFull);
}

std::string AgentTokens::encode_runtime_tokens() const {
  PersistedAgentTokens saved;
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < kKindCount; ++i) {
    if (from_runtime_[i]) saved[i] = tokens_.*member_of(static_cast<Kind>(i));
  }
  return encode_agent_tokens_file(saved);
}

core::Status AgentTokens::enable_persistence(std::string path) {
  std::lock_guard persist(persist_mu_);
  persist_path_ = std::move(path);
  auto data = core::read_small_file(persist_path_, kAgentTokensFileSizeMax);
  if (!data) return data.error();
  if (!*data) return core::ok();  // nothing was ever set through the API
  auto saved = decode_agent_tokens_file(**data);
  if (!saved) return saved.error();
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < kKindCount; ++i) {
      if ((*saved)[i].empty()) continue;
      const Kind kind = static_cast<Kind>(i);
      std::string& current = tokens_.*member_of(kind);
      if (!current.empty()) {
        core::log::warn(kModule,
                        "The \"{}\" token is set in both the configuration and {}; the saved "
                        "one is used",
                        name_of(kind), persist_path_);
      }
      current = std::move((*saved)[i]);
      from_runtime_[i] = true;
      changed = true;
    }
  }
  if (changed) version_.fetch_add(1, std::memory_order_acq_rel);
  return core::ok();
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
