// Replication's diff and batching (daemon/replication_plan.h) against a real store, and the
// method 21 decoders.
#include "daemon/replication_plan.h"

#include <gtest/gtest.h>

#include "state/acl_proto.h"

namespace pc::daemon {
namespace {

proto::AclPolicy policy(std::string id, std::string name, std::string rules = "") {
  proto::AclPolicy p;
  p.set_id(std::move(id));
  p.set_name(std::move(name));
  p.set_rules(std::move(rules));
  return p;
}

proto::AclToken token(std::string accessor, bool local = false) {
  proto::AclToken t;
  t.set_accessor_id(accessor);
  t.set_secret_id("secret-" + accessor);
  t.set_local(local);
  return t;
}

class ReplicationPlanTest : public ::testing::Test {
 protected:
  void apply(const proto::Command& c) {
    ASSERT_TRUE(store_.apply(++index_, c).ok);
    store_.publish();
  }
  void apply_all(const ReplicationPlan& plan) {
    for (const auto& c : plan.commands) apply(c);
  }
  void put_token(const proto::AclToken& t) {
    proto::Command c;
    *c.mutable_acl_token_set()->mutable_token() = t;
    apply(c);
  }
  state::Store store_;
  std::uint64_t index_ = 0;
};

TEST_F(ReplicationPlanTest, PoliciesConvergeAndThenNeedNothing) {
  proto::Command local;
  *local.mutable_acl_policy_batch()->add_upserts() = policy("gone", "old");
  *local.mutable_acl_policy_batch()->add_upserts() = policy("same", "keep", "x");
  *local.mutable_acl_policy_batch()->add_upserts() = policy("edit", "edit", "a");
  apply(local);

  proto::ReplicationReply remote;
  remote.set_index(40);
  *remote.add_policies() = policy("same", "keep", "x");
  *remote.add_policies() = policy("edit", "edit", "b");
  *remote.add_policies() = policy("new", "new");
  const ReplicatedKind kind = acl_policies_kind();
  const ReplicationPlan plan = kind.plan(store_.snapshot(), remote, {});
  EXPECT_EQ(plan.upserts, 2u);  // edit, new; "same" differs only in its indexes
  EXPECT_EQ(plan.deletes, 1u);
  ASSERT_EQ(plan.commands.size(), 1u);
  apply_all(plan);
  EXPECT_FALSE(store_.snapshot().acl_policy("gone"));
  EXPECT_EQ(store_.snapshot().acl_policy("edit")->rules, "b");
  EXPECT_TRUE(store_.snapshot().acl_policy("new"));

  const ReplicationPlan again = kind.plan(store_.snapshot(), remote, {});
  EXPECT_TRUE(again.commands.empty());
}

TEST_F(ReplicationPlanTest, TokensLeaveLocalTokensAlone) {
  put_token(token("mine", true));
  put_token(token("stale"));
  proto::ReplicationReply remote;
  *remote.add_tokens() = token("global");
  // The primary's token with the accessor of a local token here is not copied over it.
  proto::AclToken clash = token("mine");
  clash.set_secret_id("other");
  *remote.add_tokens() = clash;
  const ReplicationPlan plan = acl_tokens_kind().plan(store_.snapshot(), remote, {});
  EXPECT_EQ(plan.upserts, 1u);
  EXPECT_EQ(plan.deletes, 1u);
  apply_all(plan);
  const auto snap = store_.snapshot();
  EXPECT_TRUE(snap.acl_token("global"));
  EXPECT_FALSE(snap.acl_token("stale"));
  ASSERT_TRUE(snap.acl_token("mine"));
  EXPECT_TRUE(snap.acl_token("mine")->local);
}

TEST_F(ReplicationPlanTest, LinkNamesDoNotMakeRowsDiffer) {
  proto::AclToken t = token("t");
  t.add_policies()->set_id("p");
  // Replicated earlier, linking to a policy not here: stored with the name it came with ("").
  proto::Command c;
  *c.mutable_acl_token_batch()->add_upserts() = t;
  apply(c);
  proto::ReplicationReply remote;
  t.mutable_policies(0)->set_name("old-name");
  *remote.add_tokens() = t;
  EXPECT_TRUE(acl_tokens_kind().plan(store_.snapshot(), remote, {}).commands.empty());
}

TEST_F(ReplicationPlanTest, LargeSetsSplitIntoBoundedBatches) {
  proto::ReplicationReply remote;
  for (int i = 0; i < 10; ++i) {
    *remote.add_policies() =
        policy("p" + std::to_string(i), "n" + std::to_string(i), std::string(100, 'r'));
  }
  BatchLimits limits;
  limits.upsert_bytes_max = 300;  // two or three policies per batch
  const ReplicationPlan plan = acl_policies_kind().plan(store_.snapshot(), remote, limits);
  ASSERT_GE(plan.commands.size(), 4u);
  for (const auto& c : plan.commands) {
    EXPECT_LE(c.acl_policy_batch().upserts_size(), 3);
    EXPECT_GE(c.acl_policy_batch().upserts_size(), 1);
  }
  apply_all(plan);
  EXPECT_EQ(store_.snapshot().acl_policies().size(), 10u);

  limits.deletes_count_max = 4;
  const ReplicationPlan deletes =
      acl_policies_kind().plan(store_.snapshot(), proto::ReplicationReply(), limits);
  EXPECT_EQ(deletes.deletes, 10u);
  ASSERT_EQ(deletes.commands.size(), 3u);  // 4 + 4 + 2
  apply_all(deletes);
  EXPECT_TRUE(store_.snapshot().acl_policies().empty());
}

TEST(ReplicationCodecTest, RequestsNeedAKnownKind) {
  proto::ReplicationRequest req;
  EXPECT_FALSE(decode_replication_request(req.SerializeAsString()));
  req.set_kind(proto::ReplicationRequest::ACL_ROLES);
  req.set_min_index(7);
  auto back = decode_replication_request(req.SerializeAsString());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->min_index(), 7u);
  EXPECT_FALSE(decode_replication_request("\xff\xff\xff"));
}

TEST(ReplicationCodecTest, RepliesWithLocalTokensAreRefused) {
  proto::ReplicationReply reply;
  *reply.add_tokens() = token("t", true);
  auto r = decode_replication_reply(reply.SerializeAsString());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kCorruption);
  EXPECT_FALSE(decode_replication_reply("\x0a\xff"));
}

}  // namespace
}  // namespace pc::daemon
