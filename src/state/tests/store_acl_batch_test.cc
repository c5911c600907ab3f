// Replication batches (acl_policy_batch, acl_role_batch, acl_token_batch): deletions before
// upserts, builtins and local tokens kept, links to objects not here yet kept, and a refused
// upsert refusing the whole entry.
#include <gtest/gtest.h>

#include "proto/commands.pb.h"
#include "state/tests/store_test_util.h"

namespace pc::state {
namespace {

constexpr const char* kGm = "00000000-0000-0000-0000-000000000001";
constexpr const char* kAnon = "00000000-0000-0000-0000-000000000002";

proto::AclPolicy policy(std::string id, std::string name) {
  proto::AclPolicy p;
  p.set_id(std::move(id));
  p.set_name(std::move(name));
  return p;
}

proto::AclToken token(std::string accessor, std::string secret, bool local = false,
                      std::vector<std::string> policy_ids = {}) {
  proto::AclToken t;
  t.set_accessor_id(std::move(accessor));
  t.set_secret_id(std::move(secret));
  t.set_local(local);
  for (auto& id : policy_ids) t.add_policies()->set_id(id);
  return t;
}

proto::Command policies(std::vector<proto::AclPolicy> upserts, std::vector<std::string> deletes) {
  proto::Command c;
  auto* b = c.mutable_acl_policy_batch();
  for (auto& p : upserts) *b->add_upserts() = p;
  for (auto& d : deletes) b->add_deletes(d);
  return c;
}

proto::Command tokens(std::vector<proto::AclToken> upserts, std::vector<std::string> deletes) {
  proto::Command c;
  auto* b = c.mutable_acl_token_batch();
  for (auto& t : upserts) *b->add_upserts() = t;
  for (auto& d : deletes) b->add_deletes(d);
  return c;
}

class StoreAclBatchTest : public testing::StoreTest {};

TEST_F(StoreAclBatchTest, PolicyBatchDeletesFirstSoANameMovesInOneEntry) {
  ASSERT_TRUE(apply(1, policies({policy("p1", "ops"), policy(kGm, "global-management")}, {})).ok);
  // The primary renamed: p1 gone, p2 now holds the name "ops".
  ASSERT_TRUE(apply(2, policies({policy("p2", "ops")}, {"p1", kGm})).ok);
  EXPECT_FALSE(snap().acl_policy("p1"));
  ASSERT_TRUE(snap().acl_policy_by_name("ops"));
  EXPECT_EQ(snap().acl_policy_by_name("ops")->id, "p2");
  EXPECT_EQ(snap().acl_policy("p2")->create_index, 2u);
  EXPECT_TRUE(snap().acl_policy(kGm)) << "the builtin policy is never deleted by a batch";
  EXPECT_EQ(snap().max_index({Table::kAclPolicies}), 2u);
}

TEST_F(StoreAclBatchTest, RefusedUpsertRefusesTheWholeBatch) {
  ASSERT_TRUE(apply(1, policies({policy("p1", "ops")}, {})).ok);
  // p3 takes a name p1 still holds: the entry changes nothing, p2 included.
  auto r = apply(2, policies({policy("p2", "web"), policy("p3", "ops")}, {}));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(snap().acl_policy("p2"));
  EXPECT_EQ(snap().max_index({Table::kAclPolicies}), 1u);
}

TEST_F(StoreAclBatchTest, TokenBatchKeepsMissingLinksAndLocalTokens) {
  ASSERT_TRUE(apply(1, tokens({token("t1", "s1", false, {"not-yet"})}, {})).ok);
  ASSERT_TRUE(snap().acl_token("t1"));
  ASSERT_EQ(snap().acl_token("t1")->policies.size(), 1u);
  EXPECT_EQ(snap().acl_token("t1")->policies[0].id, "not-yet");

  proto::Command local;
  *local.mutable_acl_token_set()->mutable_token() = token("mine", "s2", true);
  ASSERT_TRUE(apply(2, local).ok);
  // Deleting a local token or the anonymous token through a batch does nothing.
  ASSERT_TRUE(apply(3, tokens({}, {"mine", kAnon, "t1"})).ok);
  EXPECT_TRUE(snap().acl_token("mine"));
  EXPECT_FALSE(snap().acl_token("t1"));
  EXPECT_FALSE(snap().acl_token_by_secret("s1"));
}

TEST_F(StoreAclBatchTest, TokenBatchRefusesLocalTokens) {
  EXPECT_FALSE(apply(1, tokens({token("t1", "s1", true)}, {})).ok);
  proto::Command local;
  *local.mutable_acl_token_set()->mutable_token() = token("mine", "s2", true);
  ASSERT_TRUE(apply(2, local).ok);
  auto r = apply(3, tokens({token("ok", "s3"), token("mine", "s4")}, {}));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(snap().acl_token("ok"));
  EXPECT_EQ(snap().acl_token("mine")->secret_id, "s2");
}

TEST_F(StoreAclBatchTest, ReplicatedTokenMayReplaceTheSecretOfTheSameAccessor) {
  ASSERT_TRUE(apply(1, tokens({token(kAnon, "anonymous")}, {})).ok);
  ASSERT_TRUE(apply(2, tokens({token(kAnon, "other")}, {})).ok);
  EXPECT_FALSE(snap().acl_token_by_secret("anonymous"));
  ASSERT_TRUE(snap().acl_token_by_secret("other"));
  EXPECT_EQ(snap().acl_token(kAnon)->create_index, 1u);
}

TEST_F(StoreAclBatchTest, RoleBatchKeepsMissingPolicyLinks) {
  proto::Command c;
  auto* r = c.mutable_acl_role_batch()->add_upserts();
  r->set_id("r1");
  r->set_name("web");
  r->add_policies()->set_id("later");
  ASSERT_TRUE(apply(1, c).ok);
  ASSERT_TRUE(snap().acl_role("r1"));
  proto::Command del;
  del.mutable_acl_role_batch()->add_deletes("r1");
  ASSERT_TRUE(apply(2, del).ok);
  EXPECT_FALSE(snap().acl_role("r1"));
  EXPECT_FALSE(snap().acl_role_by_name("web"));
}

}  // namespace
}  // namespace pc::state
