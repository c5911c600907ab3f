#pragma once
// Token resolution (Consul's ACLResolver, agent/consul/acl.go): a request's secret becomes an
// authorizer built from the token's policies, its roles' policies and every identity they
// carry, merged by acl/'s rules and ending in the agent's default_policy.
//
// Cost: resolving a secret reads the token through the store's SecretID index, then each of
// its roles and policies by ID: the work depends on what the token links to, never on how many
// tokens, policies or roles exist. Results are cached per secret. The cache is keyed by the
// store's ACL index (the highest index of the token, policy and role tables): any ACL write
// moves it, and the next resolution on any server rebuilds from the new state, so an update
// takes effect at once everywhere the write has been applied. Parsed policy rules are kept per
// policy ID and ModifyIndex, so a token change does not re-parse the policies it links to.
//
// A client agent holds no ACL tables: its resolver asks a server instead, through a
// TokenSource (endpoints/acl_remote.h) with its own cache (acl.token_ttl, acl.down_policy).
// Both kinds answer through this class, so every check written against ctx.acl runs
// unchanged on servers and client agents.
//
// Thread-safety: resolve() may be called from any thread; one mutex guards the caches and is
// never held while reading the store or compiling.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "acl/authorizer.h"
#include "acl/token_grants.h"
#include "acl/types.h"
#include "core/clock.h"
#include "core/result.h"
#include "state/store.h"

namespace pc::endpoints {

class AgentTokens;

// The agent's `acl` configuration block.
struct AclSettings {
  bool enabled = false;
  acl::DefaultPolicy default_policy = acl::DefaultPolicy::kAllow;
  std::string down_policy = "extend-cache";
  // acl.tokens.*: secrets. initial_management is created by the leader as a management token;
  // default answers requests that carry no token (else the anonymous token does); agent is
  // what the agent uses for its own requests and DNS answers (else default).
  std::string initial_management;
  std::string default_token;
  std::string agent_token;
  // Federation: the datacenter that owns ACLs ("" or this datacenter's name: this one);
  // secondaries copy global tokens only with enable_token_replication, presenting
  // replication_token to the primary.
  std::string primary_datacenter;
  bool enable_token_replication = false;
  std::string replication_token;
};

// Who is asking and what they may do.
struct ResolvedToken {
  std::string accessor_id;  // for Consul's permission-denied texts; "" with ACLs disabled
  acl::AuthorizerPtr authz;
};

// Where a resolver outside the servers' tables gets tokens from (a client agent's server).
// `secret` is never empty: the resolver has already put the default or anonymous token in.
// Thread-safety: resolve() is called from any thread.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual core::Result<ResolvedToken> resolve(const std::string& secret) const = 0;
};

class AclResolver {
 public:
  // Resolves against `store`'s replicated ACL tables (a server).
  AclResolver(const state::Store& store, AclSettings settings, std::string datacenter,
              const core::Clock& clock);
  // Resolves through `source` (a client agent); `source` owns its caching.
  AclResolver(AclSettings settings, std::unique_ptr<const TokenSource> source);

  bool enabled() const { return settings_.enabled; }
  const AclSettings& settings() const { return settings_; }

  // The agent's token holder: its default token then stands for requests without a token,
  // in place of settings().default_token, so PUT /v1/agent/token/default takes effect. Set
  // once before the first resolve(); `tokens` must outlive the resolver.
  void set_agent_tokens(const AgentTokens* tokens) { tokens_ = tokens; }

  // A secondary datacenter without token replication (Consul's legacy mode): a secret its
  // tables do not hold is asked of `fallback` (the primary, endpoints/acl_remote.h), which
  // owns its caching and down_policy; the tables' own tokens (local ones) answer first. Set
  // once before the first resolve().
  void set_remote_fallback(std::unique_ptr<const TokenSource> fallback) {
    fallback_ = std::move(fallback);
  }

  // The authorizer for `secret` ("" means the default token, then the anonymous token). With
  // ACLs disabled every secret is allowed everything. An unknown or expired secret is
  // PermissionDenied "ACL not found" (Consul's acl.ErrNotFound, answered 403).
  core::Result<ResolvedToken> resolve(std::string_view secret) const;

  // What resolution has done so far, for tests that check cost does not depend on the number
  // of tokens: rows read from the store and policies parsed.
  struct Stats {
    std::uint64_t rows_read = 0;
    std::uint64_t policies_parsed = 0;
    std::uint64_t cache_hits = 0;
  };
  Stats stats_for_test() const;

 private:
  struct Cached {
    ResolvedToken token;
    std::optional<std::int64_t> expires_unix_ns;
  };
  struct ParsedPolicy {
    std::uint64_t modify_index = 0;
    std::shared_ptr<const acl::PolicyRules> rules;
  };

  core::Result<Cached> build(const state::Snapshot& snap, std::string_view secret) const;
  std::shared_ptr<const acl::PolicyRules> parsed(const acl::GrantedPolicy& policy) const;

  const state::Store* store_ = nullptr;  // null with a source_
  const AclSettings settings_;
  const std::string datacenter_;
  const core::Clock* clock_ = nullptr;
  const std::unique_ptr<const TokenSource> source_;
  const AgentTokens* tokens_ = nullptr;
  std::unique_ptr<const TokenSource> fallback_;  // a secondary's primary; may be null

  mutable std::mutex mu_;
  mutable std::uint64_t cache_index_ = 0;
  mutable std::unordered_map<std::string, Cached> cache_;
  mutable std::unordered_map<std::string, ParsedPolicy> policies_;
  mutable Stats stats_;
};

// What `secret` grants in `datacenter`, read from `snap` (a server's tables): PermissionDenied
// "ACL not found" when no token has it. Expiry is the caller's to check. Adds the rows it
// read to `*rows_read` when given.
core::Result<acl::TokenGrantsText> describe_token(const state::Snapshot& snap,
                                                  std::string_view secret,
                                                  std::string_view datacenter,
                                                  std::uint64_t* rows_read = nullptr);

// Compiles `grants` into the token's authorizer, parsing each policy through `parse` (which
// may cache), ending in `default_policy`.
using ParsePolicyFn =
    std::function<std::shared_ptr<const acl::PolicyRules>(const acl::GrantedPolicy&)>;
ResolvedToken compile_grants(const acl::TokenGrantsText& grants, std::string_view datacenter,
                             acl::DefaultPolicy default_policy, const ParsePolicyFn& parse);

// Consul's PermissionDeniedByACL text: "token with AccessorID '<id>' lacks permission
// '<resource>:<access>' on \"<name>\"" (without the " on ..." for resources that have no
// name), as PermissionDenied; the HTTP edge prefixes "Permission denied: ".
core::Error permission_denied(const ResolvedToken& who, std::string_view resource,
                              std::string_view access, std::optional<std::string_view> name);

// Consul's acl.ErrNotFound.
core::Error acl_not_found();

}  // namespace pc::endpoints
