// The ACL tables (state/acl_commands.cc): tokens by accessor and secret, policies and roles by
// ID and name, links, the builtins' protections, bootstrap and init, snapshots.
#include <gtest/gtest.h>

#include "proto/commands.pb.h"
#include "state/snapshot_io.h"
#include "state/tests/store_test_util.h"

namespace pc::state {
namespace {

constexpr const char* kGm = "00000000-0000-0000-0000-000000000001";
constexpr const char* kAnon = "00000000-0000-0000-0000-000000000002";

proto::Command policy_set(std::string id, std::string name, std::string rules = "") {
  proto::Command c;
  auto* p = c.mutable_acl_policy_set()->mutable_policy();
  p->set_id(std::move(id));
  p->set_name(std::move(name));
  p->set_rules(std::move(rules));
  return c;
}

proto::Command token_set(std::string accessor, std::string secret,
                         std::vector<std::string> policy_ids = {},
                         std::vector<std::string> role_ids = {}) {
  proto::Command c;
  auto* t = c.mutable_acl_token_set()->mutable_token();
  t->set_accessor_id(std::move(accessor));
  t->set_secret_id(std::move(secret));
  for (auto& id : policy_ids) t->add_policies()->set_id(id);
  for (auto& id : role_ids) t->add_roles()->set_id(id);
  return c;
}

proto::Command role_set(std::string id, std::string name, std::vector<std::string> policy_ids) {
  proto::Command c;
  auto* r = c.mutable_acl_role_set()->mutable_role();
  r->set_id(std::move(id));
  r->set_name(std::move(name));
  for (auto& p : policy_ids) r->add_policies()->set_id(p);
  return c;
}

proto::Command token_delete(std::string accessor) {
  proto::Command c;
  c.mutable_acl_token_delete()->set_accessor_id(std::move(accessor));
  return c;
}

proto::Command policy_delete(std::string id) {
  proto::Command c;
  c.mutable_acl_policy_delete()->set_id(std::move(id));
  return c;
}

proto::Command bootstrap(std::string accessor, std::string secret, std::uint64_t reset = 0) {
  proto::Command c;
  auto* t = c.mutable_acl_bootstrap()->mutable_token();
  t->set_accessor_id(std::move(accessor));
  t->set_secret_id(std::move(secret));
  t->add_policies()->set_id(kGm);
  c.mutable_acl_bootstrap()->set_reset_index(reset);
  return c;
}

proto::Command init() {
  proto::Command c;
  auto* p = c.mutable_acl_init()->add_policies();
  p->set_id(kGm);
  p->set_name("global-management");
  p->set_rules("acl = \"write\"");
  auto* t = c.mutable_acl_init()->add_tokens();
  t->set_accessor_id(kAnon);
  t->set_secret_id("anonymous");
  return c;
}

class StoreAclTest : public testing::StoreTest {};

TEST_F(StoreAclTest, TokensByAccessorAndSecret) {
  ASSERT_TRUE(apply(1, policy_set("p1", "ops")).status);
  ASSERT_TRUE(apply(2, token_set("a1", "s1", {"p1"})).status);
  auto t = snap().acl_token("a1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->secret_id, "s1");
  ASSERT_EQ(t->policies.size(), 1u);
  EXPECT_EQ(t->policies[0].name, "ops");  // the link's name is filled from the policy
  EXPECT_EQ(t->create_index, 2u);
  EXPECT_EQ(snap().acl_token_by_secret("s1")->accessor_id, "a1");
  EXPECT_FALSE(snap().acl_token_by_secret("a1"));
  EXPECT_EQ(snap().table_index(Table::kAclTokens), 2u);
  EXPECT_EQ(snap().acl_index(), 2u);

  // An update keeps CreateIndex; the secret cannot change or be taken by another token.
  ASSERT_TRUE(apply(3, token_set("a1", "s1")).status);
  EXPECT_EQ(snap().acl_token("a1")->create_index, 2u);
  EXPECT_EQ(snap().acl_token("a1")->modify_index, 3u);
  auto r = apply(4, token_set("a1", "s2"));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Changing a tokens SecretID is not permitted");
  r = apply(5, token_set("a2", "s1"));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(snap().acl_tokens().size(), 1u);
  EXPECT_EQ(snap().table_index(Table::kAclTokens), 3u);  // refused writes move nothing

  ASSERT_TRUE(apply(6, token_delete("a1")).status);
  EXPECT_FALSE(snap().acl_token("a1"));
  EXPECT_FALSE(snap().acl_token_by_secret("s1"));
  ASSERT_TRUE(apply(7, token_delete("a1")).status);  // missing: a no-op
  EXPECT_EQ(snap().table_index(Table::kAclTokens), 6u);
}

TEST_F(StoreAclTest, LinksMustExist) {
  auto r = apply(1, token_set("a1", "s1", {"nope"}));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "No such policy with ID: nope");
  r = apply(2, token_set("a1", "s1", {}, {"r9"}));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "No such role with ID: r9");
  r = apply(3, role_set("r1", "role", {"nope"}));
  ASSERT_FALSE(r.status);
  ASSERT_TRUE(apply(4, policy_set("p1", "ops")).status);
  ASSERT_TRUE(apply(5, role_set("r1", "role", {"p1"})).status);
  ASSERT_TRUE(apply(6, token_set("a1", "s1", {}, {"r1"})).status);
  EXPECT_EQ(snap().acl_token("a1")->roles[0].name, "role");
  EXPECT_EQ(snap().acl_role_by_name("role")->policies[0].name, "ops");
}

TEST_F(StoreAclTest, PolicyNamesAreUniqueAndRenamesMoveTheIndex) {
  ASSERT_TRUE(apply(1, policy_set("p1", "ops")).status);
  auto r = apply(2, policy_set("p2", "ops"));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Invalid Policy: A Policy with Name \"ops\" already exists");
  ASSERT_TRUE(apply(3, policy_set("p1", "dev")).status);
  EXPECT_FALSE(snap().acl_policy_by_name("ops"));
  EXPECT_EQ(snap().acl_policy_by_name("dev")->id, "p1");
  ASSERT_TRUE(apply(4, policy_set("p2", "ops")).status);
  ASSERT_TRUE(apply(5, policy_delete("p2")).status);
  EXPECT_FALSE(snap().acl_policy_by_name("ops"));
  EXPECT_EQ(snap().acl_policies().size(), 1u);
}

TEST_F(StoreAclTest, BuiltinsAreProtected) {
  ASSERT_TRUE(apply(1, init()).status);
  ASSERT_TRUE(snap().acl_policy(kGm));
  ASSERT_TRUE(snap().acl_token_by_secret("anonymous"));
  // Init again changes nothing (idempotent), even with a renamed builtin.
  ASSERT_TRUE(apply(2, policy_set(kGm, "gm", "acl = \"write\"")).status);
  ASSERT_TRUE(apply(3, init()).status);
  EXPECT_EQ(snap().acl_policy(kGm)->name, "gm");
  EXPECT_EQ(snap().acl_index(), 2u);

  auto r = apply(4, policy_set(kGm, "gm", "key_prefix \"\" { policy = \"read\" }"));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message,
            "Changing the Rules for the builtin global-management policy is not permitted");
  r = apply(5, policy_delete(kGm));
  ASSERT_FALSE(r.status);
  r = apply(6, token_delete(kAnon));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Deletion of the builtin anonymous token is not permitted");
}

TEST_F(StoreAclTest, BootstrapOnceUnlessResetWithItsIndex) {
  ASSERT_TRUE(apply(1, init()).status);
  EXPECT_EQ(snap().acl_bootstrap_index(), 0u);
  ASSERT_TRUE(apply(2, bootstrap("m1", "secret1")).status);
  EXPECT_EQ(snap().acl_bootstrap_index(), 2u);
  EXPECT_EQ(snap().acl_token_by_secret("secret1")->policies[0].name, "global-management");
  auto r = apply(3, bootstrap("m2", "secret2"));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, core::Code::kPermissionDenied);
  EXPECT_EQ(r.status.error().message, "ACL bootstrap no longer allowed (reset index: 2)");
  r = apply(4, bootstrap("m2", "secret2", 3));
  ASSERT_FALSE(r.status);
  ASSERT_TRUE(apply(5, bootstrap("m2", "secret2", 2)).status);
  EXPECT_EQ(snap().acl_bootstrap_index(), 5u);
}

TEST_F(StoreAclTest, WatchOnTheTokenTableFiresOnTokenWritesOnly) {
  ASSERT_TRUE(apply(1, policy_set("p1", "ops")).status);
  WatchSet ws;
  store_.watch_table(ws, Table::kAclTokens);
  ASSERT_TRUE(apply(2, policy_set("p2", "dev")).status);
  EXPECT_FALSE(ws.fired());
  ASSERT_TRUE(apply(3, token_set("a1", "s1")).status);
  EXPECT_TRUE(ws.fired());
}

TEST_F(StoreAclTest, SnapshotRoundTripKeepsEveryAclRowAndIndex) {
  ASSERT_TRUE(apply(1, init()).status);
  ASSERT_TRUE(apply(2, bootstrap("m1", "secret1")).status);
  ASSERT_TRUE(
      apply(3, policy_set("p1", "ops", "key_prefix \"app/\" { policy = \"write\" }")).status);
  ASSERT_TRUE(apply(4, role_set("r1", "role", {"p1"})).status);
  proto::Command t = token_set("a1", "s1", {"p1"}, {"r1"});
  t.mutable_acl_token_set()->mutable_token()->set_has_expiration_time(true);
  t.mutable_acl_token_set()->mutable_token()->set_expiration_time_unix_ns(123);
  auto* si = t.mutable_acl_token_set()->mutable_token()->add_service_identities();
  si->set_service_name("web");
  si->add_datacenters("dc1");
  ASSERT_TRUE(apply(5, t).status);
  std::string bytes;
  ASSERT_TRUE(write_snapshot(snap(), bytes));
  Store restored;
  ASSERT_TRUE(restore_snapshot(restored, bytes));
  EXPECT_EQ(restored.snapshot().dump(), snap().dump());
  EXPECT_EQ(restored.snapshot().acl_token_by_secret("s1"), snap().acl_token("a1"));
  EXPECT_EQ(*restored.snapshot().acl_token("a1")->expiration_time_unix_ns, 123);
  EXPECT_EQ(restored.snapshot().acl_bootstrap_index(), 2u);
  EXPECT_EQ(restored.snapshot().acl_policy_by_name("ops")->id, "p1");
  EXPECT_EQ(restored.snapshot().acl_role_by_name("role")->id, "r1");
  // And the restored store refuses what the original refuses.
  auto r = restored.apply(6, bootstrap("m2", "secret2"));
  EXPECT_FALSE(r.status);
}

}  // namespace
}  // namespace pc::state
