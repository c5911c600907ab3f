// Sessions and nodes (agent/consul/state/session_test.go, catalog_test.go in Consul).
#include <gtest/gtest.h>

#include "state/tests/store_test_util.h"

namespace pc::state {
namespace {

using proto::KvOp;
using testing::kv;
using testing::kv_op;
using testing::kv_set;
using testing::node_register;
using testing::session_create;
using testing::session_destroy;
using testing::StoreTest;

constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kNowNs = 1'700'000'000 * kSecondNs;

class SessionTest : public StoreTest {};

TEST_F(SessionTest, CreateRequiresARegisteredNode) {
  ApplyResult r = apply(1, session_create("s1", "node1"));
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(r.status.error().message, "Missing node registration");
  EXPECT_FALSE(snap().session_get("s1").has_value());
  EXPECT_EQ(snap().table_index(Table::kSessions), 0u);
  EXPECT_TRUE(snap().session_list_node("node1").empty());
}

TEST_F(SessionTest, CreateValidatesIdAndBehavior) {
  apply(1, node_register("node1"));
  ApplyResult r = apply(2, session_create("", "node1"));
  EXPECT_EQ(r.status.error().message, "Missing session ID");
  r = apply(3, session_create("s1", "node1", "explode"));
  EXPECT_EQ(r.status.error().message, "Invalid session behavior: explode");
  EXPECT_TRUE(snap().session_list().empty());
  r = apply(4, session_create("s1", "node1", ""));  // Consul's default
  ASSERT_TRUE(r.status);
  EXPECT_EQ(snap().session_get("s1")->behavior, "release");
}

TEST_F(SessionTest, CreateRefusesChecksThatDoNotExist) {
  apply(1, node_register("node1"));
  proto::Command node_check = session_create("s1", "node1", "");
  node_check.mutable_session_create()->mutable_session()->add_node_checks("no-such-check");
  auto r = apply(2, node_check);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Missing check 'no-such-check' registration");
  proto::Command service_check = session_create("s2", "node1", "");
  service_check.mutable_session_create()->mutable_session()->add_service_checks()->set_id("web");
  r = apply(3, service_check);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Missing check 'web' registration");
  EXPECT_TRUE(snap().session_list().empty());
  EXPECT_EQ(snap().table_index(Table::kSessions), 0u);
}

TEST_F(SessionTest, CreateStoresTheSessionWithItsIndexes) {
  proto::Command serf = testing::catalog_register("node1");
  testing::with_check(serf, "serfHealth", "passing");
  apply(1, serf);
  apply(2, node_register("node2"));
  proto::Command c = session_create("s1", "node1", "delete", 5 * kSecondNs);
  auto* s = c.mutable_session_create()->mutable_session();
  s->set_name("my-lock");
  s->set_ttl("30s");
  s->add_node_checks("serfHealth");
  ASSERT_TRUE(apply(3, c).status);
  ASSERT_TRUE(apply(4, session_create("s2", "NODE1")).status);  // node names ignore case
  ASSERT_TRUE(apply(5, session_create("s0", "node2")).status);

  std::optional<Session> got = snap().session_get("s1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->name, "my-lock");
  EXPECT_EQ(got->node, "node1");
  EXPECT_EQ(got->behavior, "delete");
  EXPECT_EQ(got->ttl, "30s");
  EXPECT_EQ(got->lock_delay_ns, 5 * kSecondNs);
  EXPECT_EQ(got->node_checks, std::vector<std::string>{"serfHealth"});
  EXPECT_EQ(got->create_index, 3u);
  EXPECT_EQ(got->modify_index, 3u);
  EXPECT_EQ(snap().table_index(Table::kSessions), 5u);

  std::vector<std::string> ids;
  for (const auto& x : snap().session_list()) ids.push_back(x.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"s0", "s1", "s2"}));
  ids.clear();
  for (const auto& x : snap().session_list_node("Node1")) ids.push_back(x.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(snap().session_list_node("node2").size(), 1u);
  EXPECT_TRUE(snap().session_list_node("node3").empty());
}

TEST_F(SessionTest, NodeIndexKeepsNamesThatShareAPrefixApart) {
  // "a" and "a\0b" must not see each other's sessions through the composite index keys.
  apply(1, node_register("a"));
  apply(2, node_register(std::string("a\0b", 3)));
  apply(3, session_create("s1", "a"));
  apply(4, session_create("s2", std::string("a\0b", 3)));
  ASSERT_EQ(snap().session_list_node("a").size(), 1u);
  EXPECT_EQ(snap().session_list_node("a")[0].id, "s1");
  ASSERT_EQ(snap().session_list_node(std::string("a\0b", 3)).size(), 1u);
  EXPECT_EQ(snap().session_list_node(std::string("a\0b", 3))[0].id, "s2");
}

TEST_F(SessionTest, DestroyUnknownSessionIsANoOp) {
  apply(1, node_register("node1"));
  ApplyResult r = apply(2, session_destroy("nope"));
  EXPECT_TRUE(r.status);
  EXPECT_EQ(snap().table_index(Table::kSessions), 0u);
}

TEST_F(SessionTest, DestroyWithReleaseClearsLocksAndRecordsLockDelay) {
  apply(1, node_register("node1"));
  apply(2, session_create("s1", "node1", "release", 10 * kSecondNs));
  apply(3, session_create("other", "node1"));
  apply(4, kv(kv_op(KvOp::LOCK, "a", "va", 0, "s1")));
  apply(5, kv(kv_op(KvOp::LOCK, "b", "vb", 0, "s1")));
  apply(6, kv(kv_op(KvOp::LOCK, "c", "vc", 0, "other")));
  apply(7, kv_set("free", "x"));
  EXPECT_EQ(snap().session_locked_keys("s1"), (std::vector<std::string>{"a", "b"}));

  ASSERT_TRUE(apply(8, session_destroy("s1", kNowNs)).status);
  EXPECT_FALSE(snap().session_get("s1").has_value());
  EXPECT_TRUE(snap().session_list_node("node1").size() == 1);
  EXPECT_TRUE(snap().session_locked_keys("s1").empty());
  for (const char* k : {"a", "b"}) {
    DirEntry e = get(k);
    EXPECT_EQ(e.session, "") << k;
    EXPECT_EQ(e.lock_index, 1u) << k;
    EXPECT_EQ(e.modify_index, 8u) << k;
    EXPECT_EQ(snap().kv_lock_delay_until_unix_ns(k), kNowNs + 10 * kSecondNs) << k;
  }
  EXPECT_EQ(get("a").value, "va");
  EXPECT_EQ(get("c").session, "other");
  EXPECT_EQ(snap().kv_lock_delay_until_unix_ns("c"), 0);
  EXPECT_EQ(snap().kv_lock_delay_until_unix_ns("free"), 0);
  EXPECT_EQ(snap().table_index(Table::kSessions), 8u);
  EXPECT_EQ(snap().table_index(Table::kKvs), 8u);
  EXPECT_EQ(snap().table_index(Table::kTombstones), 0u);
}

TEST_F(SessionTest, DestroyWithDeleteRemovesHeldKeys) {
  apply(1, node_register("node1"));
  apply(2, session_create("s1", "node1", "delete", 3 * kSecondNs));
  apply(3, kv(kv_op(KvOp::LOCK, "dir/a", "va", 0, "s1")));
  apply(4, kv_set("dir/b", "vb"));
  ASSERT_TRUE(apply(5, session_destroy("s1", kNowNs)).status);
  EXPECT_FALSE(snap().kv_get("dir/a").has_value());
  EXPECT_TRUE(snap().kv_get("dir/b").has_value());
  EXPECT_EQ(snap().kv_graveyard_max_index("dir/"), 5u);
  EXPECT_EQ(snap().table_index(Table::kTombstones), 5u);
  EXPECT_EQ(snap().table_index(Table::kKvs), 5u);
  EXPECT_EQ(snap().kv_lock_delay_until_unix_ns("dir/a"), kNowNs + 3 * kSecondNs);
}

TEST_F(SessionTest, LockDelayIsCappedAndZeroMeansNone) {
  apply(1, node_register("node1"));
  apply(2, session_create("long", "node1", "release", 3600 * kSecondNs));
  apply(3, session_create("none", "node1", "release", 0));
  apply(4, kv(kv_op(KvOp::LOCK, "x", "", 0, "long")));
  apply(5, kv(kv_op(KvOp::LOCK, "y", "", 0, "none")));
  apply(6, session_destroy("long", kNowNs));
  apply(7, session_destroy("none", kNowNs));
  EXPECT_EQ(snap().kv_lock_delay_until_unix_ns("x"), kNowNs + 60 * kSecondNs);  // Consul's max
  EXPECT_EQ(snap().kv_lock_delay_until_unix_ns("y"), 0);
}

TEST_F(SessionTest, LockDelayDoesNotStopApplyFromAcquiring) {
  // The endpoint refuses acquisitions during a lock delay; apply itself must not, or a
  // replica whose clock differs would diverge.
  apply(1, node_register("node1"));
  apply(2, session_create("s1", "node1", "release", 15 * kSecondNs));
  apply(3, session_create("s2", "node1"));
  apply(4, kv(kv_op(KvOp::LOCK, "k", "", 0, "s1")));
  apply(5, session_destroy("s1", kNowNs));
  EXPECT_TRUE(apply(6, kv(kv_op(KvOp::LOCK, "k", "", 0, "s2"), kNowNs)).ok);
  EXPECT_EQ(get("k").lock_index, 2u);
}

TEST_F(SessionTest, NodeRegisterIsIdempotent) {
  ASSERT_TRUE(apply(1, node_register("node1", "10.0.0.1")).status);
  std::optional<Node> n = snap().node_get("node1");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->address, "10.0.0.1");
  EXPECT_EQ(n->datacenter, "dc1");
  EXPECT_EQ(n->create_index, 1u);
  EXPECT_EQ(n->modify_index, 1u);
  EXPECT_EQ(snap().table_index(Table::kNodes), 1u);

  // The same registration again changes nothing.
  apply(2, node_register("node1", "10.0.0.1"));
  EXPECT_EQ(snap().node_get("node1")->modify_index, 1u);
  EXPECT_EQ(snap().table_index(Table::kNodes), 1u);

  // A different address updates in place, keeping CreateIndex.
  proto::Command c = node_register("node1", "10.0.0.2");
  auto* meta = c.mutable_node_register()->add_meta();
  meta->set_key("rack");
  meta->set_value("r1");
  auto* wan = c.mutable_node_register()->add_tagged_addresses();
  wan->set_key("wan");
  wan->set_value("1.2.3.4");
  apply(3, c);
  n = snap().node_get("NODE1");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->address, "10.0.0.2");
  EXPECT_EQ(n->meta.at("rack"), "r1");
  EXPECT_EQ(n->tagged_addresses.at("wan"), "1.2.3.4");
  EXPECT_EQ(n->create_index, 1u);
  EXPECT_EQ(n->modify_index, 3u);
  EXPECT_EQ(snap().table_index(Table::kNodes), 3u);

  apply(4, node_register("alpha"));
  std::vector<std::string> names;
  for (const auto& x : snap().node_list()) names.push_back(x.node);
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "node1"}));

  ApplyResult r = apply(5, node_register(""));
  EXPECT_FALSE(r.status);
  EXPECT_EQ(snap().node_list().size(), 2u);
}

}  // namespace
}  // namespace pc::state
