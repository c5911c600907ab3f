// The ACL endpoints and token resolution over a real store and the -dev log: bootstrap once,
// validation texts, links by name, permissions, resolution with its cache and invalidation,
// expiry, and that resolution cost does not depend on the number of tokens.
#include <gtest/gtest.h>

#include <future>

#include "acl/builtin.h"
#include "consensus/runtime/single_node_log.h"
#include "endpoints/acl.h"
#include "endpoints/acl_filter.h"
#include "endpoints/acl_replication.h"
#include "endpoints/acl_write.h"
#include "endpoints/agent_tokens.h"
#include "endpoints/query.h"
#include "endpoints/tests/test_fsm.h"
#include "proto/commands.pb.h"
#include "state/tests/store_test_util.h"

namespace pc::endpoints {
namespace {

using namespace std::chrono_literals;

using testing::StoreFsm;

class ManualClock final : public core::Clock {
 public:
  core::MonoTime now() const override { return core::MonoTime(wall.time_since_epoch()); }
  core::WallTime wall_now() const override { return wall; }
  core::WallTime wall{std::chrono::seconds(1'800'000'000)};
};

AclSettings deny_settings() {
  AclSettings s;
  s.enabled = true;
  s.default_policy = acl::DefaultPolicy::kDeny;
  s.initial_management = "root-secret";
  return s;
}

class AclEndpointsTest : public ::testing::Test {
 protected:
  AclEndpointsTest()
      : fsm_(store_),
        log_(fsm_, "127.0.0.1:8300"),
        resolver_(store_, deny_settings(), "dc1", clock_),
        ctx_{store_, log_, clock_, rand_, {}} {
    ctx_.identity.datacenter = "dc1";
    ctx_.acl = &resolver_;
    log_.start();
    // The builtin objects first, then the initial_management token (through a bootstrap).
    int rounds = 0;
    while (auto init = acl_init_command(ctx_)) {
      EXPECT_TRUE(wait(*init).has_value());
      if (++rounds > 2) break;
    }
    EXPECT_EQ(rounds, 2);
    root_ = *resolver_.resolve("root-secret");
  }
  ~AclEndpointsTest() override { log_.stop(); }

  core::Result<state::ApplyResult> wait(proto::Command cmd) {
    std::promise<core::Result<state::ApplyResult>> p;
    submit(ctx_, std::move(cmd),
           [&](core::Result<state::ApplyResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  template <class T, class Fn>
  core::Result<T> call(Fn fn) {
    std::promise<core::Result<T>> p;
    fn([&](core::Result<T> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  core::Result<acl::Policy> make_policy(std::string name, std::string rules) {
    acl::Policy p;
    p.name = std::move(name);
    p.rules = std::move(rules);
    return call<acl::Policy>([&](auto done) { acl_policy_set(ctx_, root_, p, true, done); });
  }
  core::Result<acl::Token> make_token(std::vector<std::string> policy_names) {
    acl::Token t;
    for (auto& n : policy_names) t.policies.push_back({"", n});
    return call<acl::Token>([&](auto done) { acl_token_create(ctx_, root_, t, done); });
  }

  ManualClock clock_;
  state::Store store_;
  StoreFsm fsm_;
  consensus::SingleNodeLog log_;
  core::SystemRand rand_{1};
  AclResolver resolver_;
  Context ctx_;
  ResolvedToken root_;
};

TEST_F(AclEndpointsTest, InitCreatesTheBuiltinsAndTheInitialManagementToken) {
  auto snap = store_.snapshot();
  EXPECT_TRUE(snap.acl_policy(acl::kGlobalManagementPolicyId));
  EXPECT_TRUE(snap.acl_token(acl::kAnonymousTokenAccessorId));
  EXPECT_TRUE(snap.acl_token_by_secret("root-secret"));
  EXPECT_FALSE(acl_init_command(ctx_).has_value());  // nothing left to do
  EXPECT_TRUE(acl::allowed(root_.authz->acl_write()));
}

TEST_F(AclEndpointsTest, TheInitialManagementTokenClosesBootstrap) {
  auto r = call<acl::Token>([&](auto done) { acl_bootstrap(ctx_, done); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::Code::kPermissionDenied);
  EXPECT_EQ(r.error().message, "ACL bootstrap no longer allowed (reset index: " +
                                   std::to_string(store_.snapshot().acl_bootstrap_index()) + ")");
  EXPECT_NE(store_.snapshot().acl_bootstrap_index(), 0u);
}

TEST_F(AclEndpointsTest, BootstrapOnce) {
  // Without initial_management the first bootstrap is the operator's.
  state::Store store;
  StoreFsm fsm(store);
  consensus::SingleNodeLog log(fsm, "127.0.0.1:8300");
  AclSettings settings = deny_settings();
  settings.initial_management.clear();
  AclResolver resolver(store, settings, "dc1", clock_);
  Context ctx{store, log, clock_, rand_, {}};
  ctx.identity.datacenter = "dc1";
  ctx.acl = &resolver;
  log.start();
  auto first = call<acl::Token>([&](auto done) { acl_bootstrap(ctx, done); });
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->description, "Bootstrap Token (Global Management)");
  ASSERT_EQ(first->policies.size(), 1u);
  EXPECT_EQ(first->policies[0].name, "global-management");
  auto again = call<acl::Token>([&](auto done) { acl_bootstrap(ctx, done); });
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, core::Code::kPermissionDenied);
  EXPECT_EQ(again.error().message, "ACL bootstrap no longer allowed (reset index: " +
                                       std::to_string(first->create_index) + ")");
  auto who = resolver.resolve(first->secret_id);
  ASSERT_TRUE(who.has_value());
  EXPECT_TRUE(acl::allowed(who->authz->key_write("anything")));
  log.stop();
}

TEST_F(AclEndpointsTest, DisabledAnswersAclSupportDisabled) {
  AclResolver off(store_, AclSettings{}, "dc1", clock_);
  ctx_.acl = &off;
  auto r = call<acl::Token>([&](auto done) { acl_bootstrap(ctx_, done); });
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(is_acl_disabled(r.error()));
  EXPECT_TRUE(acl::allowed(off.resolve("whatever")->authz->key_write("x")));
}

TEST_F(AclEndpointsTest, PolicyValidationTexts) {
  ASSERT_TRUE(make_policy("ops", "key_prefix \"app/\" { policy = \"write\" }").has_value());
  auto dup = make_policy("ops", "");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().message, "Invalid Policy: A Policy with Name \"ops\" already exists");
  auto bad_name = make_policy("no spaces", "");
  ASSERT_FALSE(bad_name.has_value());
  EXPECT_EQ(bad_name.error().message,
            "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed");
  auto bad_rules = make_policy("bad", "key_prefix \"\" { polcy = \"write\" }");
  ASSERT_FALSE(bad_rules.has_value());
  EXPECT_NE(bad_rules.error().message.find("Failed to parse ACL rules"), std::string::npos);
  auto missing = make_token({"nope"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, "No such ACL policy with name nope");
}

TEST_F(AclEndpointsTest, PermissionsAndDeniedTexts) {
  ASSERT_TRUE(make_policy("app", "key_prefix \"app/\" { policy = \"write\" }").has_value());
  auto token = make_token({"app"});
  ASSERT_TRUE(token.has_value());
  auto who = resolver_.resolve(token->secret_id);
  ASSERT_TRUE(who.has_value());
  proto::KvOp op;
  op.set_key("app/x");
  EXPECT_TRUE(check_kv_op(*who, op));
  op.set_key("other/x");
  auto denied = check_kv_op(*who, op);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().message, "Permission denied: token with AccessorID '" +
                                        token->accessor_id +
                                        "' lacks permission 'key:write' on \"other/x\"");
  // The token may not manage ACLs.
  state::WatchSet ws;
  auto list = acl_policy_list(ctx_, *who, ws);
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().message, "Permission denied: token with AccessorID '" +
                                      token->accessor_id + "' lacks permission 'acl:read'");
  std::vector<state::DirEntry> entries{{"app/a"}, {"other/b"}, {"app/c"}};
  EXPECT_TRUE(filter_kv_entries(*who, entries));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].key, "app/c");
}

TEST_F(AclEndpointsTest, UnknownAndExpiredSecretsAreNotFound) {
  auto r = resolver_.resolve("no-such-secret");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "ACL not found");
  acl::Token t;
  t.expiration_ttl = 5min;
  auto token = call<acl::Token>([&](auto done) { acl_token_create(ctx_, root_, t, done); });
  ASSERT_TRUE(token.has_value()) << token.error().message;
  ASSERT_TRUE(token->expiration_time_unix_ns.has_value());
  EXPECT_TRUE(resolver_.resolve(token->secret_id).has_value());
  clock_.wall += 6min;
  EXPECT_FALSE(resolver_.resolve(token->secret_id).has_value());  // even from the cache
  t.expiration_ttl = 10s;
  auto too_short = call<acl::Token>([&](auto done) { acl_token_create(ctx_, root_, t, done); });
  EXPECT_FALSE(too_short.has_value());
}

TEST_F(AclEndpointsTest, AnUpdateTakesEffectAtOnce) {
  ASSERT_TRUE(make_policy("read-app", "key_prefix \"app/\" { policy = \"read\" }").has_value());
  ASSERT_TRUE(make_policy("write-app", "key_prefix \"app/\" { policy = \"write\" }").has_value());
  auto token = make_token({"read-app"});
  ASSERT_TRUE(token.has_value());
  EXPECT_FALSE(acl::allowed(resolver_.resolve(token->secret_id)->authz->key_write("app/x")));
  acl::Token update = *token;
  update.policies = {{"", "write-app"}};
  auto updated = call<acl::Token>([&](auto done) { acl_token_update(ctx_, root_, update, done); });
  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  EXPECT_TRUE(acl::allowed(resolver_.resolve(token->secret_id)->authz->key_write("app/x")));
  // Deleting the token: the next request with it is refused.
  auto deleted =
      call<bool>([&](auto done) { acl_token_delete(ctx_, root_, "", token->accessor_id, done); });
  ASSERT_TRUE(deleted.has_value());
  EXPECT_FALSE(resolver_.resolve(token->secret_id).has_value());
}

// Resolving one token reads the same rows and parses the same policies whether the store
// holds 5 tokens or 2,000: the SecretID index finds the token, its links find the rest.
TEST_F(AclEndpointsTest, ResolutionCostDoesNotGrowWithTheNumberOfTokens) {
  ASSERT_TRUE(make_policy("app", "key_prefix \"app/\" { policy = \"write\" }").has_value());
  auto measure = [&](const std::string& secret) {
    AclResolver fresh(store_, deny_settings(), "dc1", clock_);
    EXPECT_TRUE(fresh.resolve(secret).has_value());
    auto first = fresh.stats_for_test();
    EXPECT_TRUE(fresh.resolve(secret).has_value());  // cached: no more reads
    auto second = fresh.stats_for_test();
    EXPECT_EQ(second.rows_read, first.rows_read);
    EXPECT_EQ(second.cache_hits, first.cache_hits + 1);
    return first;
  };
  auto token = make_token({"app"});
  ASSERT_TRUE(token.has_value());
  const auto few = measure(token->secret_id);
  for (int i = 0; i < 400; ++i) {
    proto::Command cmd;
    auto* t = cmd.mutable_acl_token_set()->mutable_token();
    t->set_accessor_id("bulk-" + std::to_string(i));
    t->set_secret_id("bulk-secret-" + std::to_string(i));
    ASSERT_TRUE(wait(cmd).has_value());
  }
  ASSERT_GT(store_.snapshot().acl_tokens().size(), 400u);
  const auto many = measure(token->secret_id);
  EXPECT_EQ(many.rows_read, few.rows_read);
  EXPECT_EQ(many.policies_parsed, few.policies_parsed);
  EXPECT_EQ(few.rows_read, 2u);  // the token and its one policy
}

// ---- Across datacenters (endpoints/acl_replication.h) ----

proto::ReplicationRequest fetch(proto::ReplicationRequest::Kind kind, std::string token) {
  proto::ReplicationRequest req;
  req.set_kind(kind);
  req.set_token(std::move(token));
  return req;
}

TEST_F(AclEndpointsTest, ReplicationReadAnswersTheSetForTheReplicationToken) {
  ASSERT_TRUE(make_policy("reader", "acl = \"read\""));
  auto reader = make_token({"reader"});
  ASSERT_TRUE(reader);
  acl::Token local;
  local.local = true;
  auto mine = call<acl::Token>([&](auto done) { acl_token_create(ctx_, root_, local, done); });
  ASSERT_TRUE(mine);

  state::WatchSet ws;
  auto policies =
      replication_read(ctx_, fetch(proto::ReplicationRequest::ACL_POLICIES, reader->secret_id), ws);
  ASSERT_TRUE(policies) << policies.error().message;
  EXPECT_EQ(policies->policies_size(), 2);  // global-management and reader
  EXPECT_EQ(policies->index(), store_.snapshot().max_index({state::Table::kAclPolicies}));
  EXPECT_EQ(ws.size(), 1u) << "a fetch watches its kind's table";

  // Tokens carry secrets: acl:read is not enough.
  auto denied =
      replication_read(ctx_, fetch(proto::ReplicationRequest::ACL_TOKENS, reader->secret_id), ws);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, core::Code::kPermissionDenied);
  auto tokens =
      replication_read(ctx_, fetch(proto::ReplicationRequest::ACL_TOKENS, "root-secret"), ws);
  ASSERT_TRUE(tokens);
  for (const auto& t : tokens->tokens()) {
    EXPECT_FALSE(t.local());
    EXPECT_NE(t.accessor_id(), mine->accessor_id);
  }
  EXPECT_EQ(tokens->tokens_size(), 3);  // anonymous, initial management, reader's

  auto unknown = replication_read(ctx_, fetch(proto::ReplicationRequest::ACL_ROLES, "nope"), ws);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "ACL not found");
  EXPECT_FALSE(
      replication_read(ctx_, fetch(proto::ReplicationRequest::UNKNOWN, "root-secret"), ws));

  auto status = acl_replication_status(ctx_);
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->enabled);  // Consul's primary answers the zero status
  EXPECT_TRUE(status->source_datacenter.empty());
}

struct FixedStatus final : AclReplicationStatusSource {
  AclReplicationStatus acl_replication_status() const override {
    AclReplicationStatus s;
    s.enabled = s.running = true;
    s.source_datacenter = "dc0";
    s.replicated_index = 9;
    return s;
  }
};

TEST_F(AclEndpointsTest, SecondaryKeepsGlobalWritesAndBootstrapForThePrimary) {
  AclSettings settings = deny_settings();
  settings.primary_datacenter = "dc0";
  AclResolver secondary(store_, settings, "dc1", clock_);
  ctx_.acl = &secondary;
  EXPECT_FALSE(acl_in_primary(ctx_));
  EXPECT_EQ(acl_primary_datacenter(ctx_), "dc0");

  auto boot = call<acl::Token>([&](auto done) { acl_bootstrap(ctx_, done); });
  ASSERT_FALSE(boot);
  EXPECT_TRUE(is_acl_disabled(boot.error()));
  acl::Policy p;
  p.name = "here";
  auto policy = call<acl::Policy>([&](auto done) { acl_policy_set(ctx_, root_, p, true, done); });
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().message, "Cannot upsert policies within this datacenter");
  auto global = call<acl::Token>([&](auto done) { acl_token_create(ctx_, root_, {}, done); });
  ASSERT_FALSE(global);
  EXPECT_EQ(global.error().message, "Cannot upsert global tokens within this datacenter");
  acl::Token local;
  local.local = true;
  EXPECT_TRUE(call<acl::Token>([&](auto done) { acl_token_create(ctx_, root_, local, done); }));

  state::WatchSet ws;
  auto read =
      replication_read(ctx_, fetch(proto::ReplicationRequest::ACL_POLICIES, "root-secret"), ws);
  ASSERT_FALSE(read) << "only the primary is a replication source";

  FixedStatus fixed;
  ctx_.acl_replication = &fixed;
  auto status = acl_replication_status(ctx_);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->running);
  EXPECT_EQ(status->replicated_index, 9u);
}

TEST(AclInitInSecondary, MakesTheBuiltinsButNoInitialManagementToken) {
  ManualClock clock;
  state::Store store;
  StoreFsm fsm(store);
  consensus::SingleNodeLog log(fsm, "127.0.0.1:8300");
  core::SystemRand rand{1};
  AclSettings settings = deny_settings();
  settings.primary_datacenter = "dc0";
  AclResolver resolver(store, settings, "dc1", clock);
  Context ctx{store, log, clock, rand, {}};
  ctx.identity.datacenter = "dc1";
  ctx.acl = &resolver;
  auto init = acl_init_command(ctx);
  ASSERT_TRUE(init);
  ASSERT_EQ(init->acl_init().policies_size(), 1);
  EXPECT_EQ(init->acl_init().policies(0).id(), acl::kGlobalManagementPolicyId);
  ASSERT_EQ(init->acl_init().tokens_size(), 1);
  EXPECT_EQ(init->acl_init().tokens(0).accessor_id(), acl::kAnonymousTokenAccessorId);
}

// Executing a prepared query filters its instances with the query's token, else the caller's,
// and says so (X-Consul-Results-Filtered-By-ACLs); no query:read is needed to execute.
TEST_F(AclEndpointsTest, QueryExecuteSaysWhatItsTokenFilteredOut) {
  proto::Command reg = state::testing::catalog_register("n1");
  state::testing::with_service(reg, "web1", "web", {}, 80);
  ASSERT_TRUE(wait(reg));
  state::PreparedQuery q;
  q.name = "web-q";
  q.service.service = "web";
  ASSERT_TRUE(call<std::string>([&](auto done) { query_create(ctx_, root_, q, done); }));
  ASSERT_TRUE(make_policy("svc-only", R"(service "web" { policy = "read" })"));
  ASSERT_TRUE(make_policy("svc-and-node",
                          R"(service "web" { policy = "read" } node "n1" { policy = "read" })"));
  auto svc_only = make_token({"svc-only"});
  auto both = make_token({"svc-and-node"});
  ASSERT_TRUE(svc_only && both);
  auto execute = [&](const std::string& name, const std::string& secret) {
    QueryExecuteOptions o;
    o.secret = secret;
    return call<QueryResult>([&](auto done) { query_execute(ctx_, name, o, done); });
  };
  auto hidden = execute("web-q", svc_only->secret_id);
  ASSERT_TRUE(hidden) << hidden.error().message;
  EXPECT_TRUE(hidden->nodes.empty());
  EXPECT_TRUE(hidden->filtered);
  auto shown = execute("web-q", both->secret_id);
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_EQ(shown->nodes.size(), 1u);
  EXPECT_FALSE(shown->filtered);
  // The query's own token wins over the caller's.
  q.name = "web-q-token";
  q.token = both->secret_id;
  ASSERT_TRUE(call<std::string>([&](auto done) { query_create(ctx_, root_, q, done); }));
  auto own = execute("web-q-token", svc_only->secret_id);
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(own->nodes.size(), 1u);
  EXPECT_FALSE(own->filtered);
}

// A server agent's own writes act for the agent token (else default, else anonymous), as a
// client agent's do on a server; a write's own token wins.
TEST_F(AclEndpointsTest, OwnWritesActForTheAgentToken) {
  proto::Command node = state::testing::catalog_register("server-1");
  AgentTokens tokens(AgentTokens::Initial{.acl_enabled = true});
  ctx_.agent_tokens = &tokens;
  auto anonymous = authorize_own_write(ctx_, node, "");
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code, core::Code::kPermissionDenied);
  EXPECT_NE(anonymous.error().message.find("lacks permission 'node:write' on \"server-1\""),
            std::string::npos)
      << anonymous.error().message;
  ASSERT_TRUE(make_policy("node-writer", R"(node_prefix "" { policy = "write" })"));
  auto writer = make_token({"node-writer"});
  ASSERT_TRUE(writer);
  ASSERT_TRUE(tokens.set(AgentTokens::Kind::kDefault, writer->secret_id));  // the fallback
  EXPECT_TRUE(authorize_own_write(ctx_, node, ""));
  ASSERT_TRUE(
      tokens.set(AgentTokens::Kind::kAgent, "no-such-secret"));  // the agent token comes first
  EXPECT_FALSE(authorize_own_write(ctx_, node, ""));
  ASSERT_TRUE(tokens.set(AgentTokens::Kind::kAgent, writer->secret_id));
  EXPECT_TRUE(authorize_own_write(ctx_, node, ""));
  EXPECT_FALSE(authorize_own_write(ctx_, node, "no-such-secret"));  // its own token wins
  ctx_.agent_tokens = nullptr;
}

}  // namespace
}  // namespace pc::endpoints
