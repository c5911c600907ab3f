#pragma once
// A client agent's token source (Consul's client-side ACL resolver): it holds no ACL tables,
// so it asks a server what a secret grants (acl::TokenGrantsText, over daemon/client_rpc.h's
// kRpcClientAclResolve), compiles the authorizer itself and keeps it for acl.token_ttl.
//
// Staleness is bounded by token_ttl: a policy or token change reaches the agent when its
// cached entry ages out, not at once as on servers. When no server answers, acl.down_policy
// decides (Consul's values):
//   allow         every request is allowed everything;
//   deny          every request is denied everything;
//   extend-cache  a cached entry is used however old it is; an uncached secret is denied;
//   async-cache   as extend-cache, and in addition an expired entry is answered at once
//                 while it is refreshed in the background (callers never wait on a server
//                 for a secret seen before).
// An answer "no such token" is final: the entry is dropped and the caller gets Consul's
// "ACL not found". An expired token is "ACL not found" too, whatever is cached.
//
// Cost: one server round trip per secret per token_ttl (async-cache: none on the caller's
// path once cached); the cache holds at most kRemoteTokenCacheMax secrets.
//
// Thread-safety: resolve() from any thread. The fetch callback may run on any thread, also
// after this object is gone: the cache it updates is shared with it.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "acl/token_grants.h"
#include "core/clock.h"
#include "core/result.h"
#include "endpoints/acl_resolver.h"

namespace pc::endpoints {

enum class DownPolicy : std::uint8_t { kAllow, kDeny, kExtendCache, kAsyncCache };

// The config text ("allow", "deny", "extend-cache", "async-cache"); anything else is
// InvalidArgument (the config loader has already refused it).
core::Result<DownPolicy> parse_down_policy(std::string_view text);

// What a server said about a secret: its grants, or nullopt for "no such token".
using TokenAnswer = std::optional<acl::TokenGrantsText>;
using TokenFetchDone = std::function<void(core::Result<TokenAnswer>)>;
// Asks a server; `done` runs exactly once, from any thread, with the answer or with why no
// server gave one (any error counts as "servers unreachable" for down_policy).
using TokenFetch = std::function<void(const std::string& secret, TokenFetchDone done)>;

struct RemoteAclOptions {
  std::string datacenter;
  acl::DefaultPolicy default_policy = acl::DefaultPolicy::kAllow;
  DownPolicy down_policy = DownPolicy::kExtendCache;
  core::Duration token_ttl = std::chrono::seconds(30);  // 0: every resolution asks a server
  // How long a caller waits for a server before down_policy applies.
  core::Duration fetch_timeout = std::chrono::seconds(10);
};

inline constexpr std::size_t kRemoteTokenCacheMax = 10 * 1024;

class RemoteTokenSource final : public TokenSource {
 public:
  RemoteTokenSource(TokenFetch fetch, RemoteAclOptions options, const core::Clock& clock);
  ~RemoteTokenSource() override;

  core::Result<ResolvedToken> resolve(const std::string& secret) const override;

  // Fetches made so far (each a server round trip), for tests of the TTL.
  std::uint64_t fetches_for_test() const;

 private:
  struct Shared;
  struct Entry;
  // Asks a server and waits up to fetch_timeout; nullopt when none answered in time.
  std::optional<core::Result<TokenAnswer>> fetch_and_wait(const std::string& secret) const;
  void refresh_in_background(const std::string& secret) const;
  core::Result<ResolvedToken> answer_down(const std::string& secret, const std::string& why) const;
  core::Result<ResolvedToken> usable(const Entry& entry) const;

  const TokenFetch fetch_;
  const RemoteAclOptions options_;
  const core::Clock& clock_;
  const std::shared_ptr<Shared> shared_;
};

}  // namespace pc::endpoints
