#pragma once
// The agent's own ACL tokens (Consul's token store, agent/token/store.go): the secrets the
// agent uses for requests that carry none (default), for its own work (agent), for DNS (dns,
// else default), and the others Consul keeps. They start from acl.tokens in the agent's
// configuration and change at runtime through PUT /v1/agent/token/<type>; every reader asks
// this holder each time, so a change takes effect on the next request without a restart.
//
// Tokens set at runtime live in memory only: acl.enable_token_persistence is accepted but not
// honoured, so a restart goes back to the configured tokens.
//
// Thread-safety: every member may be called from any thread (one mutex, held for a copy).
// version() moves on every change, so a cache of answers built with a token (the DNS answer
// cache) can tell that they were built with an older one.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace pc::endpoints {

class AgentTokens {
 public:
  // Append-only: the order has no meaning beyond this enum.
  enum class Kind : std::uint8_t {
    kDefault,
    kAgent,
    kAgentRecovery,
    kReplication,
    kConfigFileRegistration,
    kDns,
  };

  struct Initial {
    bool acl_enabled = false;
    std::string default_token;
    std::string agent;
    std::string agent_recovery;
    std::string replication;
    std::string config_file_registration;
    std::string dns;
  };

  explicit AgentTokens(Initial initial);

  // The kind a /v1/agent/token/<name> path names, with the older names Consul still takes
  // (acl_token, acl_agent_token, acl_agent_master_token, agent_master,
  // acl_replication_token, dns_token); nullopt for any other name.
  static std::optional<Kind> kind_of(std::string_view name);

  bool acl_enabled() const { return acl_enabled_; }

  void set(Kind kind, std::string secret);
  std::string get(Kind kind) const;

  // Consul's UserToken: what requests without a token speak for ("" then means anonymous).
  std::string default_token() const { return get(Kind::kDefault); }
  // Consul's AgentToken: the agent's own requests; the default token when unset.
  std::string agent_token() const;
  // Consul's DNSToken: what DNS answers are computed with; the default token when unset.
  std::string dns_token() const;

  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  static std::string Initial::*member_of(Kind kind);

  const bool acl_enabled_;
  mutable std::mutex mu_;
  Initial tokens_;  // guarded by mu_ (acl_enabled unused here)
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace pc::endpoints
