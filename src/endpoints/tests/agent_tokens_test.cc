// The agent's token holder and the expired-token reaper's commands: the names
// /v1/agent/token/ accepts, fallbacks, that a runtime change reaches token resolution, and
// that reaping deletes expired tokens only, in bounded batches, judged by the proposed time.
#include <gtest/gtest.h>

#include <future>

#include "acl/builtin.h"
#include "consensus/runtime/single_node_log.h"
#include "endpoints/acl.h"
#include "endpoints/acl_token_reap.h"
#include "endpoints/agent_tokens.h"
#include "endpoints/tests/test_fsm.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

using namespace std::chrono_literals;
using Kind = AgentTokens::Kind;

TEST(AgentTokens, NamesIncludeConsulsLegacyOnes) {
  EXPECT_EQ(AgentTokens::kind_of("default"), Kind::kDefault);
  EXPECT_EQ(AgentTokens::kind_of("acl_token"), Kind::kDefault);
  EXPECT_EQ(AgentTokens::kind_of("agent"), Kind::kAgent);
  EXPECT_EQ(AgentTokens::kind_of("acl_agent_token"), Kind::kAgent);
  EXPECT_EQ(AgentTokens::kind_of("agent_recovery"), Kind::kAgentRecovery);
  EXPECT_EQ(AgentTokens::kind_of("agent_master"), Kind::kAgentRecovery);
  EXPECT_EQ(AgentTokens::kind_of("acl_agent_master_token"), Kind::kAgentRecovery);
  EXPECT_EQ(AgentTokens::kind_of("replication"), Kind::kReplication);
  EXPECT_EQ(AgentTokens::kind_of("acl_replication_token"), Kind::kReplication);
  EXPECT_EQ(AgentTokens::kind_of("config_file_service_registration"),
            Kind::kConfigFileRegistration);
  EXPECT_EQ(AgentTokens::kind_of("dns"), Kind::kDns);
  EXPECT_EQ(AgentTokens::kind_of("dns_token"), Kind::kDns);
  EXPECT_FALSE(AgentTokens::kind_of("recovery").has_value());  // a CLI name, not an API one
  EXPECT_FALSE(AgentTokens::kind_of("").has_value());
  EXPECT_FALSE(AgentTokens::kind_of("Default").has_value());
}

TEST(AgentTokens, AgentAndDnsFallBackToDefaultAndChangesMoveTheVersion) {
  AgentTokens tokens({.acl_enabled = true, .default_token = "d"});
  EXPECT_TRUE(tokens.acl_enabled());
  EXPECT_EQ(tokens.agent_token(), "d");
  EXPECT_EQ(tokens.dns_token(), "d");
  const std::uint64_t v0 = tokens.version();
  ASSERT_TRUE(tokens.set(Kind::kDns, "n"));
  EXPECT_EQ(tokens.dns_token(), "n");
  EXPECT_EQ(tokens.agent_token(), "d");
  EXPECT_GT(tokens.version(), v0);
  ASSERT_TRUE(tokens.set(Kind::kAgent, "a"));
  ASSERT_TRUE(tokens.set(Kind::kDefault, "d2"));
  EXPECT_EQ(tokens.agent_token(), "a");
  EXPECT_EQ(tokens.default_token(), "d2");
  ASSERT_TRUE(tokens.set(Kind::kDns, ""));  // cleared: back to the default token
  EXPECT_EQ(tokens.dns_token(), "d2");
  ASSERT_TRUE(tokens.set(Kind::kReplication, "r"));
  ASSERT_TRUE(tokens.set(Kind::kAgentRecovery, "rec"));
  EXPECT_EQ(tokens.get(Kind::kReplication), "r");
  EXPECT_EQ(tokens.get(Kind::kAgentRecovery), "rec");
}

class ManualClock final : public core::Clock {
 public:
  core::MonoTime now() const override { return core::MonoTime(wall.time_since_epoch()); }
  core::WallTime wall_now() const override { return wall; }
  core::WallTime wall{std::chrono::seconds(1'900'000'000)};
};

// A default-deny agent on the -dev log, with the builtins and a management token.
class ReapTest : public ::testing::Test {
 protected:
  ReapTest()
      : fsm_(store_),
        log_(fsm_, "127.0.0.1:8300"),
        resolver_(store_, settings(), "dc1", clock_),
        ctx_{store_, log_, clock_, rand_, {}} {
    ctx_.acl = &resolver_;
    log_.start();
    // The builtin objects, then the initial_management token (a second command).
    int rounds = 0;
    while (auto init = acl_init_command(ctx_)) {
      EXPECT_TRUE(apply(*init).has_value());
      ++rounds;
    }
    EXPECT_EQ(rounds, 2);
    root_ = *resolver_.resolve("root");
  }
  ~ReapTest() override { log_.stop(); }

  static AclSettings settings() {
    AclSettings s;
    s.enabled = true;
    s.default_policy = acl::DefaultPolicy::kDeny;
    s.initial_management = "root";
    return s;
  }
  core::Result<state::ApplyResult> apply(proto::Command cmd) {
    std::promise<core::Result<state::ApplyResult>> p;
    submit(ctx_, std::move(cmd),
           [&](core::Result<state::ApplyResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  acl::Token token(std::chrono::nanoseconds ttl, bool local = false) {
    acl::Token t;
    t.expiration_ttl = ttl;
    t.local = local;
    std::promise<core::Result<acl::Token>> p;
    acl_token_create(ctx_, root_, t, [&](core::Result<acl::Token> r) { p.set_value(r); });
    auto made = p.get_future().get();
    EXPECT_TRUE(made.has_value()) << made.error().message;
    return *made;
  }

  ManualClock clock_;
  state::Store store_;
  testing::StoreFsm fsm_;
  consensus::SingleNodeLog log_;
  core::SystemRand rand_{1};
  AclResolver resolver_;
  Context ctx_;
  ResolvedToken root_;
};

TEST_F(ReapTest, DeletesExpiredTokensOnlyAndLeavesTheRest) {
  const acl::Token short_lived = token(2min);
  const acl::Token long_lived = token(20min);
  const acl::Token forever = token(0ns);
  EXPECT_FALSE(acl_token_reap_command(ctx_, true).has_value());  // nothing expired yet
  clock_.wall += 5min;
  auto cmd = acl_token_reap_command(ctx_, true);
  ASSERT_TRUE(cmd.has_value());
  ASSERT_EQ(cmd->acl_token_reap().accessor_ids_size(), 1);
  EXPECT_EQ(cmd->acl_token_reap().accessor_ids(0), short_lived.accessor_id);
  ASSERT_TRUE(apply(*cmd).has_value());
  const state::Snapshot snap = store_.snapshot();
  EXPECT_FALSE(snap.acl_token(short_lived.accessor_id).has_value());
  EXPECT_FALSE(snap.acl_token_by_secret(short_lived.secret_id).has_value());
  EXPECT_TRUE(snap.acl_token(long_lived.accessor_id).has_value());
  EXPECT_TRUE(snap.acl_token(forever.accessor_id).has_value());
  EXPECT_TRUE(snap.acl_token(acl::kAnonymousTokenAccessorId).has_value());
  EXPECT_FALSE(acl_token_reap_command(ctx_, true).has_value());
}

TEST_F(ReapTest, ApplyJudgesExpiryByTheProposedTimeNotTheList) {
  const acl::Token live = token(10min);
  // A command naming a live token (a stale or forged list) leaves it alone, as it does the
  // anonymous token and names that do not exist.
  proto::Command cmd;
  cmd.mutable_acl_token_reap()->add_accessor_ids(live.accessor_id);
  cmd.mutable_acl_token_reap()->add_accessor_ids(std::string(acl::kAnonymousTokenAccessorId));
  cmd.mutable_acl_token_reap()->add_accessor_ids("no-such-accessor");
  const std::uint64_t before = store_.snapshot().acl_index();
  ASSERT_TRUE(apply(cmd).has_value());
  EXPECT_TRUE(store_.snapshot().acl_token(live.accessor_id).has_value());
  EXPECT_EQ(store_.snapshot().acl_index(), before);  // nothing changed, no index moved
  clock_.wall += 11min;
  ASSERT_TRUE(apply(cmd).has_value());
  EXPECT_FALSE(store_.snapshot().acl_token(live.accessor_id).has_value());
  EXPECT_GT(store_.snapshot().acl_index(), before);
  EXPECT_TRUE(store_.snapshot().acl_token(acl::kAnonymousTokenAccessorId).has_value());
}

TEST_F(ReapTest, BatchesAreBoundedAndGlobalTokensWaitForThePrimary) {
  const std::size_t count = kAclTokenReapBatchMax + 3;
  for (std::size_t i = 0; i < count; ++i) token(1min + std::chrono::seconds(i));
  const acl::Token local = token(1min, /*local=*/true);
  clock_.wall += 2h;
  auto only_local = acl_token_reap_command(ctx_, /*include_global=*/false);
  ASSERT_TRUE(only_local.has_value());
  ASSERT_EQ(only_local->acl_token_reap().accessor_ids_size(), 1);
  EXPECT_EQ(only_local->acl_token_reap().accessor_ids(0), local.accessor_id);
  auto first = acl_token_reap_command(ctx_, true);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(static_cast<std::size_t>(first->acl_token_reap().accessor_ids_size()),
            kAclTokenReapBatchMax);
  ASSERT_TRUE(apply(*first).has_value());
  auto second = acl_token_reap_command(ctx_, true);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(static_cast<std::size_t>(second->acl_token_reap().accessor_ids_size()),
            count + 1 - kAclTokenReapBatchMax);
  ASSERT_TRUE(apply(*second).has_value());
  EXPECT_FALSE(acl_token_reap_command(ctx_, true).has_value());
  // Left: the anonymous and the management token.
  EXPECT_EQ(store_.snapshot().acl_tokens().size(), 2u);
}

TEST_F(ReapTest, ARuntimeDefaultTokenStandsForRequestsWithoutOne) {
  AgentTokens tokens({.acl_enabled = true});
  resolver_.set_agent_tokens(&tokens);
  auto anonymous = resolver_.resolve("");
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_EQ(anonymous->accessor_id, acl::kAnonymousTokenAccessorId);
  ASSERT_TRUE(tokens.set(Kind::kDefault, "root"));
  auto root = resolver_.resolve("");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->accessor_id, root_.accessor_id);
  ASSERT_TRUE(tokens.set(Kind::kDefault, "gone"));
  auto gone = resolver_.resolve("");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().message, "ACL not found");
}

}  // namespace
}  // namespace pc::endpoints
