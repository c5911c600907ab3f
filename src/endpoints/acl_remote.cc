#include "endpoints/acl_remote.h"

#include <atomic>
#include <future>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "acl/rules.h"
#include "core/log.h"

namespace pc::endpoints {
namespace {

constexpr std::string_view kModule = "acl";

std::int64_t unix_ns(const core::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.wall_now().time_since_epoch())
      .count();
}

std::shared_ptr<const acl::PolicyRules> parse_policy(const acl::GrantedPolicy& policy) {
  // The server validated the rules when the policy was written; rules this agent cannot
  // parse (a newer version's) grant nothing rather than failing every request.
  auto rules = acl::parse_rules(policy.rules);
  return std::make_shared<const acl::PolicyRules>(rules ? std::move(*rules) : acl::PolicyRules{});
}

std::string_view down_policy_name(DownPolicy policy) {
  switch (policy) {
    case DownPolicy::kAllow: return "allow";
    case DownPolicy::kDeny: return "deny";
    case DownPolicy::kExtendCache: return "extend-cache";
    case DownPolicy::kAsyncCache: return "async-cache";
  }
  return "?";
}

}  // namespace

struct RemoteTokenSource::Entry {
  ResolvedToken token;
  std::optional<std::int64_t> expires_unix_ns;
  core::MonoTime fetched_at;
};

// What the source and its background refreshes share; outlives the source while a fetch is
// pending.
struct RemoteTokenSource::Shared {
  std::mutex mu;
  std::unordered_map<std::string, Entry> cache;  // guarded by mu
  std::unordered_set<std::string> refreshing;    // guarded by mu: async-cache fetches in flight
  std::atomic<std::uint64_t> fetches{0};
  // Set when a resolution found the servers unreachable, cleared by the next answer: the
  // warning is logged once per outage, not once per request.
  std::atomic<bool> down{false};

  // Records a server's answer about `secret` and returns the entry it made (nullopt: the
  // token does not exist, and any cached entry is dropped).
  std::optional<Entry> store(const std::string& secret, const TokenAnswer& answer,
                             const RemoteAclOptions& options, core::MonoTime now) {
    std::optional<Entry> entry;
    if (answer) {
      entry =
          Entry{compile_grants(*answer, options.datacenter, options.default_policy, parse_policy),
                answer->expiration_time_unix_ns, now};
    }
    std::lock_guard lock(mu);
    if (!entry) {
      cache.erase(secret);
      return entry;
    }
    if (cache.size() >= kRemoteTokenCacheMax && cache.find(secret) == cache.end()) cache.clear();
    cache[secret] = *entry;
    return entry;
  }
};

core::Result<DownPolicy> parse_down_policy(std::string_view text) {
  if (text == "allow") return DownPolicy::kAllow;
  if (text == "deny") return DownPolicy::kDeny;
  if (text == "extend-cache") return DownPolicy::kExtendCache;
  if (text == "async-cache") return DownPolicy::kAsyncCache;
  return core::make_error(core::Code::kInvalidArgument,
                          "acl.down_policy: unknown value \"" + std::string(text) + "\"");
}

RemoteTokenSource::RemoteTokenSource(TokenFetch fetch, RemoteAclOptions options,
                                     const core::Clock& clock)
    : fetch_(std::move(fetch)),
      options_(std::move(options)),
      clock_(clock),
      shared_(std::make_shared<Shared>()) {}

RemoteTokenSource::~RemoteTokenSource() = default;

std::uint64_t RemoteTokenSource::fetches_for_test() const {
  return shared_->fetches.load(std::memory_order_relaxed);
}

core::Result<ResolvedToken> RemoteTokenSource::resolve(const std::string& secret) const {
  const core::MonoTime now = clock_.now();
  {
    std::unique_lock lock(shared_->mu);
    auto it = shared_->cache.find(secret);
    if (it != shared_->cache.end()) {
      Entry entry = it->second;
      const bool fresh = now - entry.fetched_at < options_.token_ttl;
      if (fresh) return usable(entry);
      if (options_.down_policy == DownPolicy::kAsyncCache) {
        const bool start = shared_->refreshing.insert(secret).second;
        lock.unlock();
        if (start) refresh_in_background(secret);
        return usable(entry);
      }
    }
  }
  auto answer = fetch_and_wait(secret);
  if (!answer) return answer_down(secret, "no answer from the servers in time");
  if (!*answer) return answer_down(secret, answer->error().message);
  shared_->down.store(false, std::memory_order_relaxed);
  auto entry = shared_->store(secret, **answer, options_, now);
  if (!entry) return acl_not_found();
  return usable(*entry);
}

std::optional<core::Result<TokenAnswer>> RemoteTokenSource::fetch_and_wait(
    const std::string& secret) const {
  shared_->fetches.fetch_add(1, std::memory_order_relaxed);
  auto promise = std::make_shared<std::promise<core::Result<TokenAnswer>>>();
  auto future = promise->get_future();
  fetch_(secret,
         [promise](core::Result<TokenAnswer> answer) { promise->set_value(std::move(answer)); });
  if (future.wait_for(options_.fetch_timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

void RemoteTokenSource::refresh_in_background(const std::string& secret) const {
  shared_->fetches.fetch_add(1, std::memory_order_relaxed);
  fetch_(secret, [shared = shared_, secret, options = options_,
                  &clock = clock_](core::Result<TokenAnswer> answer) {
    // A failed refresh keeps the stale entry: async-cache extends the cache like extend-cache.
    if (answer) {
      shared->down.store(false, std::memory_order_relaxed);
      (void)shared->store(secret, *answer, options, clock.now());
    }
    std::lock_guard lock(shared->mu);
    shared->refreshing.erase(secret);
  });
}

core::Result<ResolvedToken> RemoteTokenSource::answer_down(const std::string& secret,
                                                           const std::string& why) const {
  if (!shared_->down.exchange(true, std::memory_order_relaxed)) {
    core::log::warn(kModule,
                    "cannot resolve tokens through the servers ({}); down_policy {} applies", why,
                    down_policy_name(options_.down_policy));
  }
  switch (options_.down_policy) {
    case DownPolicy::kAllow: return ResolvedToken{"", acl::allow_all()};
    case DownPolicy::kDeny: return ResolvedToken{"", acl::deny_all()};
    case DownPolicy::kExtendCache:
    case DownPolicy::kAsyncCache: break;
  }
  std::optional<Entry> entry;
  {
    std::lock_guard lock(shared_->mu);
    if (auto it = shared_->cache.find(secret); it != shared_->cache.end()) entry = it->second;
  }
  if (!entry) return ResolvedToken{"", acl::deny_all()};
  return usable(*entry);
}

core::Result<ResolvedToken> RemoteTokenSource::usable(const Entry& entry) const {
  // An expired token is not found, whatever the cache holds (Consul checks expiry on use).
  if (entry.expires_unix_ns && *entry.expires_unix_ns < unix_ns(clock_)) return acl_not_found();
  return entry.token;
}

}  // namespace pc::endpoints
