// A client agent's token source (endpoints/acl_remote.h) over a fake server: the cache keeps an
// entry for token_ttl and no longer, "not found" is final, expiry is checked on use, and each
// down_policy decides what a request gets while no server answers.
#include <gtest/gtest.h>

#include <deque>
#include <mutex>

#include "endpoints/acl_remote.h"
#include "state/store.h"

namespace pc::endpoints {
namespace {

using namespace std::chrono_literals;

class ManualClock final : public core::Clock {
 public:
  core::MonoTime now() const override { return core::MonoTime(wall.time_since_epoch()); }
  core::WallTime wall_now() const override { return wall; }
  core::WallTime wall{std::chrono::seconds(1'800'000'000)};
};

// A server that knows some secrets. While `down`, every fetch fails as an unreachable server
// does. With `hold`, answers wait in `held` until release() (a slow server).
class FakeServer {
 public:
  std::map<std::string, acl::TokenGrantsText> tokens;
  bool down = false;
  bool hold = false;
  std::vector<std::string> asked;

  TokenFetch fetcher() {
    return [this](const std::string& secret, TokenFetchDone done) {
      std::unique_lock lock(mu_);
      asked.push_back(secret);
      core::Result<TokenAnswer> answer = TokenAnswer();
      if (down) {
        answer = core::make_error(core::Code::kUnavailable, "No known Consul servers");
      } else if (auto it = tokens.find(secret); it != tokens.end()) {
        answer = TokenAnswer(it->second);
      }
      if (hold) {
        held_.emplace_back(std::move(done), std::move(answer));
        return;
      }
      lock.unlock();
      done(std::move(answer));
    };
  }
  void release() {
    std::unique_lock lock(mu_);
    auto held = std::move(held_);
    lock.unlock();
    for (auto& [done, answer] : held) done(std::move(answer));
  }

 private:
  std::mutex mu_;
  std::deque<std::pair<TokenFetchDone, core::Result<TokenAnswer>>> held_;
};

acl::TokenGrantsText grants(std::string accessor, std::string rules) {
  acl::TokenGrantsText g;
  g.accessor_id = std::move(accessor);
  g.policies.push_back({"policy-" + g.accessor_id, 1, std::move(rules)});
  return g;
}

class RemoteTokenSourceTest : public ::testing::Test {
 protected:
  RemoteTokenSourceTest() {
    server_.tokens["s1"] = grants("a1", R"(key_prefix "app/" { policy = "write" })");
  }
  RemoteTokenSource source(DownPolicy down, core::Duration ttl = 30s) {
    RemoteAclOptions o;
    o.datacenter = "dc1";
    o.default_policy = acl::DefaultPolicy::kDeny;
    o.down_policy = down;
    o.token_ttl = ttl;
    o.fetch_timeout = 2s;
    return RemoteTokenSource(server_.fetcher(), o, clock_);
  }
  static bool can_write(const core::Result<ResolvedToken>& who, std::string_view key) {
    return who.has_value() && acl::allowed(who->authz->key_write(key));
  }

  ManualClock clock_;
  FakeServer server_;
};

TEST_F(RemoteTokenSourceTest, CachesForTokenTtlThenAsksAgain) {
  auto src = source(DownPolicy::kExtendCache, 30s);
  auto who = src.resolve("s1");
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->accessor_id, "a1");
  EXPECT_TRUE(can_write(who, "app/x"));
  EXPECT_FALSE(can_write(who, "other"));  // the agent's default_policy deny
  // A policy change on the servers is not seen while the entry is fresh...
  server_.tokens["s1"] = grants("a1", R"(key_prefix "" { policy = "write" })");
  clock_.wall += 29s;
  EXPECT_FALSE(can_write(src.resolve("s1"), "other"));
  EXPECT_EQ(src.fetches_for_test(), 1u);
  // ...and is once token_ttl has passed.
  clock_.wall += 2s;
  EXPECT_TRUE(can_write(src.resolve("s1"), "other"));
  EXPECT_EQ(src.fetches_for_test(), 2u);
}

TEST_F(RemoteTokenSourceTest, ZeroTtlAsksEveryTime) {
  auto src = source(DownPolicy::kExtendCache, 0s);
  EXPECT_TRUE(src.resolve("s1").has_value());
  EXPECT_TRUE(src.resolve("s1").has_value());
  EXPECT_EQ(src.fetches_for_test(), 2u);
}

TEST_F(RemoteTokenSourceTest, UnknownSecretIsAclNotFoundAndDropsTheEntry) {
  auto src = source(DownPolicy::kExtendCache, 10s);
  auto none = src.resolve("nope");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, core::Code::kPermissionDenied);
  EXPECT_EQ(none.error().message, "ACL not found");
  ASSERT_TRUE(src.resolve("s1").has_value());
  server_.tokens.erase("s1");  // deleted on the servers
  clock_.wall += 11s;
  EXPECT_EQ(src.resolve("s1").error().message, "ACL not found");
  // Gone from the cache too: with the servers down, extend-cache has nothing to extend.
  server_.down = true;
  auto after = src.resolve("s1");
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(can_write(after, "app/x"));
}

TEST_F(RemoteTokenSourceTest, ExpiredTokenIsNotFoundEvenWhenCached) {
  server_.tokens["s1"].expiration_time_unix_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>((clock_.wall + 5s).time_since_epoch())
          .count();
  auto src = source(DownPolicy::kExtendCache, 60s);
  EXPECT_TRUE(src.resolve("s1").has_value());
  clock_.wall += 6s;
  EXPECT_EQ(src.resolve("s1").error().message, "ACL not found");
  EXPECT_EQ(src.fetches_for_test(), 1u);
}

TEST_F(RemoteTokenSourceTest, DownPolicyAllowAllowsEverything) {
  auto src = source(DownPolicy::kAllow, 10s);
  ASSERT_TRUE(src.resolve("s1").has_value());
  server_.down = true;
  clock_.wall += 11s;
  EXPECT_TRUE(can_write(src.resolve("s1"), "other"));
  EXPECT_TRUE(can_write(src.resolve("never-seen"), "anything"));
}

TEST_F(RemoteTokenSourceTest, DownPolicyDenyDeniesEvenWhatIsCached) {
  auto src = source(DownPolicy::kDeny, 10s);
  ASSERT_TRUE(can_write(src.resolve("s1"), "app/x"));
  server_.down = true;
  clock_.wall += 11s;
  auto who = src.resolve("s1");
  ASSERT_TRUE(who.has_value());
  EXPECT_FALSE(can_write(who, "app/x"));
  // While the entry is fresh no server is asked, so the deny applies only past the TTL.
}

TEST_F(RemoteTokenSourceTest, DownPolicyExtendCacheUsesStaleEntriesAndDeniesTheRest) {
  auto src = source(DownPolicy::kExtendCache, 10s);
  ASSERT_TRUE(can_write(src.resolve("s1"), "app/x"));
  server_.down = true;
  clock_.wall += 1h;
  EXPECT_TRUE(can_write(src.resolve("s1"), "app/x"));
  EXPECT_FALSE(can_write(src.resolve("s1"), "other"));
  auto unseen = src.resolve("s2");
  ASSERT_TRUE(unseen.has_value());
  EXPECT_FALSE(can_write(unseen, "app/x"));
  // Servers back: the next resolution past the TTL asks again.
  server_.down = false;
  server_.tokens["s1"] = grants("a1", R"(key_prefix "" { policy = "write" })");
  EXPECT_TRUE(can_write(src.resolve("s1"), "other"));
}

TEST_F(RemoteTokenSourceTest, DownPolicyAsyncCacheAnswersStaleWhileRefreshing) {
  auto src = source(DownPolicy::kAsyncCache, 10s);
  ASSERT_TRUE(can_write(src.resolve("s1"), "app/x"));
  server_.tokens["s1"] = grants("a1", R"(key_prefix "" { policy = "write" })");
  server_.hold = true;  // the refresh does not come back yet
  clock_.wall += 11s;
  // Answered at once from the stale entry; one refresh is in flight, not one per request.
  EXPECT_FALSE(can_write(src.resolve("s1"), "other"));
  EXPECT_FALSE(can_write(src.resolve("s1"), "other"));
  EXPECT_EQ(src.fetches_for_test(), 2u);
  server_.release();
  EXPECT_TRUE(can_write(src.resolve("s1"), "other"));
  // A refresh that finds the servers down keeps the stale entry.
  server_.down = true;
  clock_.wall += 11s;
  EXPECT_TRUE(can_write(src.resolve("s1"), "other"));
  server_.release();
  EXPECT_TRUE(can_write(src.resolve("s1"), "other"));
  // An unseen secret still waits for the servers, then is denied.
  server_.hold = false;
  EXPECT_FALSE(can_write(src.resolve("s2"), "app/x"));
}

TEST_F(RemoteTokenSourceTest, ServerTooSlowCountsAsDown) {
  RemoteAclOptions o;
  o.down_policy = DownPolicy::kDeny;
  o.fetch_timeout = 10ms;
  RemoteTokenSource src(server_.fetcher(), o, clock_);
  server_.hold = true;
  auto who = src.resolve("s1");
  ASSERT_TRUE(who.has_value());
  EXPECT_FALSE(can_write(who, "app/x"));
  server_.release();  // a late answer finds nobody waiting and changes nothing
}

TEST(AclResolverWithSource, PutsTheDefaultTokenInAndHonoursDisabled) {
  FakeServer server;
  server.tokens["anonymous"] = grants("anon", R"(key "pub" { policy = "write" })");
  server.tokens["dflt"] = grants("d", R"(key "d" { policy = "write" })");
  ManualClock clock;
  RemoteAclOptions o;
  o.default_policy = acl::DefaultPolicy::kDeny;
  AclSettings settings;
  settings.enabled = true;
  settings.default_policy = acl::DefaultPolicy::kDeny;
  AclResolver anonymous(settings, std::make_unique<RemoteTokenSource>(server.fetcher(), o, clock));
  EXPECT_EQ(anonymous.resolve("")->accessor_id, "anon");
  settings.default_token = "dflt";
  AclResolver with_default(settings,
                           std::make_unique<RemoteTokenSource>(server.fetcher(), o, clock));
  EXPECT_EQ(with_default.resolve("")->accessor_id, "d");
  settings.enabled = false;
  AclResolver off(settings, std::make_unique<RemoteTokenSource>(server.fetcher(), o, clock));
  EXPECT_TRUE(acl::allowed(off.resolve("x")->authz->key_write("anything")));
  EXPECT_EQ(server.asked, (std::vector<std::string>{"anonymous", "dflt"}));
}

// A secondary datacenter's server without token replication: what its tables lack is asked
// of the primary through the fallback; with no fallback it stays unknown.
TEST(AclResolverWithRemoteFallback, AsksThePrimaryForSecretsItsTablesLack) {
  state::Store store;  // no tokens here, not even the anonymous one
  ManualClock clock;
  FakeServer primary;
  primary.tokens["global-1"] = grants("g1", R"(key "app" { policy = "write" })");
  AclSettings settings;
  settings.enabled = true;
  settings.default_policy = acl::DefaultPolicy::kDeny;
  AclResolver alone(store, settings, "dc2", clock);
  EXPECT_FALSE(alone.resolve("global-1").has_value());

  AclResolver resolver(store, settings, "dc2", clock);
  RemoteAclOptions o;
  o.default_policy = acl::DefaultPolicy::kDeny;
  resolver.set_remote_fallback(std::make_unique<RemoteTokenSource>(primary.fetcher(), o, clock));
  auto who = resolver.resolve("global-1");
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->accessor_id, "g1");
  EXPECT_TRUE(acl::allowed(who->authz->key_write("app")));
  EXPECT_FALSE(acl::allowed(who->authz->key_write("other")));
  auto unknown = resolver.resolve("no-such-secret");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message, "ACL not found");
  EXPECT_EQ(primary.asked, (std::vector<std::string>{"global-1", "no-such-secret"}));
}

TEST(ParseDownPolicy, KnowsConsulsValues) {
  EXPECT_EQ(*parse_down_policy("allow"), DownPolicy::kAllow);
  EXPECT_EQ(*parse_down_policy("deny"), DownPolicy::kDeny);
  EXPECT_EQ(*parse_down_policy("extend-cache"), DownPolicy::kExtendCache);
  EXPECT_EQ(*parse_down_policy("async-cache"), DownPolicy::kAsyncCache);
  EXPECT_FALSE(parse_down_policy("maybe").has_value());
}

}  // namespace
}  // namespace pc::endpoints
