#pragma once
// The agent's own ACL tokens (Consul's token store, agent/token/store.go): the secrets the
// agent uses for requests that carry none (default), for its own work (agent), for DNS (dns,
// else default), and the others Consul keeps. They start from acl.tokens in the agent's
// configuration and change at runtime through PUT /v1/agent/token/<type>; every reader asks
// this holder each time, so a change takes effect on the next request without a restart.
//
// Tokens set at runtime live in memory, and with acl.enable_token_persistence also in
// <data_dir>/acl-tokens.json (enable_persistence()): a token set through the API is written
// there and, at the next start, replaces the configured token of its kind, as Consul's token
// store loads its persisted tokens over the configuration's. Configured tokens are never
// written: the file holds only what the API set.
//
// Thread-safety: every member but enable_persistence() may be called from any thread (one
// mutex, held for a copy; set() also holds a second one across the change and the file
// write, so the file always ends with the latest change). version() moves on every change, so
// a cache of answers built with a token (the DNS answer cache) can tell that they were built
// with an older one.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

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
  // Kinds are 0..kKindCount-1, so an array indexed by Kind holds one entry per kind.
  static constexpr std::size_t kKindCount = static_cast<std::size_t>(Kind::kDns) + 1;

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

  // Replaces one token (a runtime change, as through the API). With persistence on, the
  // file is rewritten and fsynced before returning (so the caller blocks on the disk; token
  // changes are rare); an error means the token is in effect but not saved (kIoError naming
  // the file), as Consul's handler reports it.
  core::Status set(Kind kind, std::string secret);

  // acl.enable_token_persistence: reads `path` (<data_dir>/acl-tokens.json) and lets each
  // token it holds replace the configured one, then makes every set() rewrite the file.
  // Call once, at start, before the holder is shared. A missing file is fine; one that
  // cannot be read or decoded is returned as the error and otherwise ignored: the configured
  // tokens stay, and the next set() replaces the file.
  core::Status enable_persistence(std::string path);

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

  // The file's contents: the secrets set at runtime; the configured ones are not saved.
  std::string encode_runtime_tokens() const;

  const bool acl_enabled_;
  mutable std::mutex mu_;
  Initial tokens_;  // guarded by mu_ (acl_enabled unused here)
  // Which tokens came from the API or the file rather than the configuration (Consul's
  // TokenSourceAPI); guarded by mu_.
  std::array<bool, kKindCount> from_runtime_{};
  // Serializes set() with its file write. persist_path_ is set once before sharing; "" means
  // persistence is off.
  std::mutex persist_mu_;
  std::string persist_path_;
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace pc::endpoints
