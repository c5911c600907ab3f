// KV semantics of the store, checked against Consul's state store behaviour with an explicit
// log index per write (agent/consul/state/kvs_test.go, txn_test.go).
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
using testing::StoreTest;
using testing::tombstone_reap;
using testing::txn;

class KvTest : public StoreTest {
 protected:
  // A node and two sessions for lock tests, at indexes 1-3.
  void make_sessions() {
    ASSERT_TRUE(apply(1, node_register("node1")).status);
    ASSERT_TRUE(apply(2, session_create("s1", "node1")).status);
    ASSERT_TRUE(apply(3, session_create("s2", "node1")).status);
  }
};

TEST_F(KvTest, SetCreatesThenUpdatesKeepingCreateIndex) {
  EXPECT_FALSE(snap().kv_get("foo").has_value());
  ApplyResult r = apply(1, kv_set("foo", "bar", 7));
  EXPECT_TRUE(r.status);
  EXPECT_TRUE(r.ok);
  DirEntry e = get("foo");
  EXPECT_EQ(e.value, "bar");
  EXPECT_EQ(e.flags, 7u);
  EXPECT_EQ(e.create_index, 1u);
  EXPECT_EQ(e.modify_index, 1u);
  EXPECT_EQ(e.lock_index, 0u);
  EXPECT_EQ(snap().table_index(Table::kKvs), 1u);

  apply(2, kv_set("foo", "baz"));
  e = get("foo");
  EXPECT_EQ(e.value, "baz");
  EXPECT_EQ(e.flags, 0u);
  EXPECT_EQ(e.create_index, 1u);
  EXPECT_EQ(e.modify_index, 2u);
  EXPECT_EQ(snap().table_index(Table::kKvs), 2u);
  EXPECT_EQ(snap().applied_index(), 2u);
}

TEST_F(KvTest, IdenticalSetChangesNothing) {
  // Consul's kvsSetTxn skips a write that would not change the entry: no index moves.
  apply(1, kv_set("foo", "bar", 1));
  apply(2, kv_set("foo", "bar", 1));
  EXPECT_EQ(get("foo").modify_index, 1u);
  EXPECT_EQ(snap().table_index(Table::kKvs), 1u);
  EXPECT_EQ(snap().applied_index(), 2u);
  apply(3, kv_set("foo", "bar", 2));  // flags differ: a change
  EXPECT_EQ(get("foo").modify_index, 3u);
}

TEST_F(KvTest, CasCreatesOnlyIfAbsentWithIndexZero) {
  EXPECT_TRUE(apply(1, kv(kv_op(KvOp::CAS, "foo", "a", 0))).ok);
  EXPECT_EQ(get("foo").value, "a");
  EXPECT_FALSE(apply(2, kv(kv_op(KvOp::CAS, "foo", "b", 0))).ok);
  EXPECT_EQ(get("foo").value, "a");
  EXPECT_EQ(snap().table_index(Table::kKvs), 1u);
}

TEST_F(KvTest, CasUpdatesOnlyOnMatchingModifyIndex) {
  apply(1, kv_set("foo", "a"));
  EXPECT_FALSE(apply(2, kv(kv_op(KvOp::CAS, "foo", "b", 5))).ok);
  EXPECT_FALSE(apply(3, kv(kv_op(KvOp::CAS, "missing", "b", 1))).ok);
  EXPECT_FALSE(snap().kv_get("missing").has_value());
  EXPECT_TRUE(apply(4, kv(kv_op(KvOp::CAS, "foo", "b", 1))).ok);
  DirEntry e = get("foo");
  EXPECT_EQ(e.value, "b");
  EXPECT_EQ(e.modify_index, 4u);
  EXPECT_EQ(e.create_index, 1u);
}

TEST_F(KvTest, DeleteRecordsTombstoneAndBumpsBothIndexes) {
  apply(1, kv_set("foo/bar", "x"));
  apply(2, kv_set("foo/baz", "y"));
  apply(3, kv(kv_op(KvOp::DELETE, "foo/bar")));
  EXPECT_FALSE(snap().kv_get("foo/bar").has_value());
  EXPECT_EQ(snap().table_index(Table::kKvs), 3u);
  EXPECT_EQ(snap().table_index(Table::kTombstones), 3u);
  EXPECT_EQ(snap().kv_graveyard_max_index("foo/"), 3u);
  EXPECT_EQ(snap().kv_graveyard_max_index("foo/bar"), 3u);
  EXPECT_EQ(snap().kv_graveyard_max_index("foo/baz"), 0u);
  EXPECT_EQ(snap().kv_graveyard_max_index("other"), 0u);
  EXPECT_EQ(snap().max_index({Table::kKvs, Table::kTombstones}), 3u);
}

TEST_F(KvTest, DeleteOfMissingKeyChangesNothing) {
  apply(1, kv_set("foo", "x"));
  EXPECT_TRUE(apply(2, kv(kv_op(KvOp::DELETE, "nope"))).ok);
  EXPECT_EQ(snap().table_index(Table::kKvs), 1u);
  EXPECT_EQ(snap().table_index(Table::kTombstones), 0u);
  EXPECT_EQ(snap().kv_graveyard_max_index(""), 0u);
}

TEST_F(KvTest, DeleteCas) {
  apply(1, kv_set("foo", "x"));
  EXPECT_TRUE(apply(2, kv(kv_op(KvOp::DELETE_CAS, "absent", "", 9))).ok);  // nothing to do
  EXPECT_EQ(snap().table_index(Table::kTombstones), 0u);
  EXPECT_FALSE(apply(3, kv(kv_op(KvOp::DELETE_CAS, "foo", "", 2))).ok);
  EXPECT_TRUE(snap().kv_get("foo").has_value());
  EXPECT_TRUE(apply(4, kv(kv_op(KvOp::DELETE_CAS, "foo", "", 1))).ok);
  EXPECT_FALSE(snap().kv_get("foo").has_value());
  EXPECT_EQ(snap().kv_graveyard_max_index("foo"), 4u);
}

TEST_F(KvTest, DeleteTreeLeavesOneTombstoneAtThePrefix) {
  apply(1, kv_set("a/1", "x"));
  apply(2, kv_set("a/2/3", "x"));
  apply(3, kv_set("ab", "x"));
  apply(4, kv_set("b", "x"));
  apply(5, kv(kv_op(KvOp::DELETE_TREE, "a/")));
  EXPECT_FALSE(snap().kv_get("a/1").has_value());
  EXPECT_FALSE(snap().kv_get("a/2/3").has_value());
  EXPECT_TRUE(snap().kv_get("ab").has_value());
  EXPECT_TRUE(snap().kv_get("b").has_value());
  EXPECT_EQ(snap().kv_graveyard_max_index("a/"), 5u);
  EXPECT_EQ(snap().kv_graveyard_max_index("a"), 5u);
  EXPECT_EQ(snap().kv_graveyard_max_index("a/2/"), 0u);  // the one tombstone is at "a/"
  EXPECT_EQ(snap().table_index(Table::kKvs), 5u);
  EXPECT_EQ(snap().table_index(Table::kTombstones), 5u);

  // A tree with nothing in it: no tombstone, no index change.
  apply(6, kv(kv_op(KvOp::DELETE_TREE, "zzz/")));
  EXPECT_EQ(snap().table_index(Table::kKvs), 5u);
  EXPECT_EQ(snap().kv_graveyard_max_index("zzz/"), 0u);

  // The whole tree: everything goes, and no tombstone at "" (the table index covers it).
  apply(7, kv(kv_op(KvOp::DELETE_TREE, "")));
  int left = 0;
  snap().kv_scan("", [&](const DirEntry&) { return ++left > 0; });
  EXPECT_EQ(left, 0);
  EXPECT_EQ(snap().table_index(Table::kKvs), 7u);
  EXPECT_EQ(snap().table_index(Table::kTombstones), 5u);
}

TEST_F(KvTest, ScanReturnsKeysUnderPrefixInOrder) {
  for (std::uint64_t i = 1; const char* k : {"b/2", "a", "b/1", "b", "c", "b/10"}) {
    apply(i++, kv_set(k, k));
  }
  std::vector<std::string> keys;
  snap().kv_scan("b/", [&](const DirEntry& e) {
    keys.push_back(e.key);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"b/1", "b/10", "b/2"}));
}

TEST_F(KvTest, TombstoneReapDropsOldTombstonesWithoutMovingIndexes) {
  apply(1, kv_set("a", "x"));
  apply(2, kv_set("b", "x"));
  apply(3, kv(kv_op(KvOp::DELETE, "a")));
  apply(4, kv(kv_op(KvOp::DELETE, "b")));
  apply(5, tombstone_reap(3));
  EXPECT_EQ(snap().kv_graveyard_max_index("a"), 0u);
  EXPECT_EQ(snap().kv_graveyard_max_index("b"), 4u);
  EXPECT_EQ(snap().kv_graveyard_max_index(""), 4u);
  EXPECT_EQ(snap().table_index(Table::kTombstones), 4u);  // as Consul: reaping moves nothing
  apply(6, tombstone_reap(4));
  EXPECT_EQ(snap().kv_graveyard_max_index(""), 0u);
  EXPECT_EQ(snap().applied_index(), 6u);
}

TEST_F(KvTest, LockRequiresAnExistingSession) {
  make_sessions();
  ApplyResult r = apply(4, kv(kv_op(KvOp::LOCK, "k", "v", 0, "nope")));
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(r.status.error().message, "invalid session \"nope\"");
  EXPECT_FALSE(snap().kv_get("k").has_value());

  r = apply(5, kv(kv_op(KvOp::LOCK, "k", "v", 0, "")));
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "missing session");
  EXPECT_EQ(snap().table_index(Table::kKvs), 0u);
}

TEST_F(KvTest, LockUnlockAndLockIndex) {
  make_sessions();
  // Acquire a new key.
  EXPECT_TRUE(apply(4, kv(kv_op(KvOp::LOCK, "k", "v1", 0, "s1", 3))).ok);
  DirEntry e = get("k");
  EXPECT_EQ(e.session, "s1");
  EXPECT_EQ(e.lock_index, 1u);
  EXPECT_EQ(e.flags, 3u);
  EXPECT_EQ(e.create_index, 4u);
  EXPECT_EQ(e.modify_index, 4u);
  EXPECT_EQ(snap().session_locked_keys("s1"), std::vector<std::string>{"k"});

  // Another session cannot take it.
  EXPECT_FALSE(apply(5, kv(kv_op(KvOp::LOCK, "k", "v2", 0, "s2"))).ok);
  EXPECT_EQ(get("k").session, "s1");
  EXPECT_EQ(get("k").modify_index, 4u);

  // The holder re-acquiring updates the value; the lock count stays.
  EXPECT_TRUE(apply(6, kv(kv_op(KvOp::LOCK, "k", "v3", 0, "s1"))).ok);
  e = get("k");
  EXPECT_EQ(e.value, "v3");
  EXPECT_EQ(e.lock_index, 1u);
  EXPECT_EQ(e.modify_index, 6u);

  // A plain SET keeps the holder; like Consul's, it carries no LockIndex and resets it.
  apply(7, kv_set("k", "v4"));
  e = get("k");
  EXPECT_EQ(e.value, "v4");
  EXPECT_EQ(e.session, "s1");
  EXPECT_EQ(e.lock_index, 0u);

  // Only the holder may release.
  EXPECT_FALSE(apply(8, kv(kv_op(KvOp::UNLOCK, "k", "x", 0, "s2"))).ok);
  EXPECT_FALSE(apply(9, kv(kv_op(KvOp::UNLOCK, "absent", "x", 0, "s1"))).ok);
  EXPECT_FALSE(snap().kv_get("absent").has_value());
  EXPECT_TRUE(apply(10, kv(kv_op(KvOp::UNLOCK, "k", "v5", 0, "s1"))).ok);
  e = get("k");
  EXPECT_EQ(e.session, "");
  EXPECT_EQ(e.value, "v5");
  EXPECT_EQ(e.lock_index, 0u);
  EXPECT_EQ(e.modify_index, 10u);
  EXPECT_TRUE(snap().session_locked_keys("s1").empty());

  // A new acquisition counts.
  EXPECT_TRUE(apply(11, kv(kv_op(KvOp::LOCK, "k", "v6", 0, "s2"))).ok);
  EXPECT_EQ(get("k").lock_index, 1u);
  EXPECT_EQ(get("k").create_index, 4u);
  EXPECT_EQ(snap().session_locked_keys("s2"), std::vector<std::string>{"k"});

  // Deleting a held key drops it from the holder's locks.
  apply(12, kv(kv_op(KvOp::DELETE, "k")));
  EXPECT_TRUE(snap().session_locked_keys("s2").empty());
}

TEST_F(KvTest, OldSnapshotsAreUnchangedByLaterWrites) {
  apply(1, kv_set("a", "1"));
  apply(2, kv_set("b", "1"));
  Snapshot old = snap();
  const std::string old_dump = old.dump();
  apply(3, kv_set("a", "2"));
  apply(4, kv(kv_op(KvOp::DELETE, "b")));
  apply(5, kv_set("c", "1"));
  apply(6, node_register("n"));
  EXPECT_EQ(old.kv_get("a")->value, "1");
  EXPECT_TRUE(old.kv_get("b").has_value());
  EXPECT_FALSE(old.kv_get("c").has_value());
  EXPECT_EQ(old.applied_index(), 2u);
  EXPECT_EQ(old.table_index(Table::kKvs), 2u);
  EXPECT_EQ(old.kv_graveyard_max_index(""), 0u);
  EXPECT_TRUE(old.node_list().empty());
  EXPECT_EQ(old.dump(), old_dump);
  EXPECT_EQ(snap().kv_get("a")->value, "2");
}

TEST_F(KvTest, DefaultSnapshotIsEmpty) {
  Snapshot s;
  EXPECT_EQ(s.applied_index(), 0u);
  EXPECT_FALSE(s.kv_get("a").has_value());
  EXPECT_TRUE(s.session_list().empty());
  EXPECT_FALSE(s.dump().empty());
}

TEST_F(KvTest, ReadsAndChecksAreNotStandaloneCommands) {
  ApplyResult r = apply(1, kv(kv_op(KvOp::GET, "a")));
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(snap().applied_index(), 1u);
}

TEST_F(KvTest, CommandWithoutBodyIsInvalid) {
  proto::Command empty;
  ApplyResult r = apply(1, empty);
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, core::Code::kInvalidArgument);
}

// ---- Txn ----

TEST_F(KvTest, TxnResultsFollowConsul) {
  apply(1, kv_set("a", "va"));
  apply(2, kv_set("t/1", "v1"));
  apply(3, kv_set("t/2", "v2"));
  ApplyResult r = apply(4, txn({
                               kv_op(KvOp::SET, "b", "vb"),           // entry, no value
                               kv_op(KvOp::GET, "a"),                 // entry with value
                               kv_op(KvOp::DELETE, "t/1"),            // nothing
                               kv_op(KvOp::CHECK_INDEX, "a", "", 1),  // entry, no value
                               kv_op(KvOp::GET_TREE, "t/"),           // one per key
                               kv_op(KvOp::CHECK_NOT_EXISTS, "zz"),   // nothing
                               kv_op(KvOp::GET, "b"),                 // sees the txn's write
                               kv_op(KvOp::CAS, "a", "va2", 1),       // entry, no value
                           }));
  ASSERT_TRUE(r.status);
  ASSERT_TRUE(r.ok);
  ASSERT_TRUE(r.txn_errors.empty());
  ASSERT_EQ(r.txn_results.size(), 6u);
  EXPECT_EQ(r.txn_results[0]->key, "b");
  EXPECT_EQ(r.txn_results[0]->value, "");
  EXPECT_EQ(r.txn_results[0]->create_index, 4u);
  EXPECT_EQ(r.txn_results[0]->modify_index, 4u);
  EXPECT_EQ(r.txn_results[1]->value, "va");
  EXPECT_EQ(r.txn_results[2]->key, "a");
  EXPECT_EQ(r.txn_results[2]->value, "");
  EXPECT_EQ(r.txn_results[3]->key, "t/2");  // t/1 was deleted earlier in the txn
  EXPECT_EQ(r.txn_results[3]->value, "v2");
  EXPECT_EQ(r.txn_results[4]->key, "b");
  EXPECT_EQ(r.txn_results[4]->value, "vb");
  EXPECT_EQ(r.txn_results[5]->key, "a");
  EXPECT_EQ(r.txn_results[5]->value, "");
  EXPECT_EQ(r.txn_results[5]->modify_index, 4u);
  for (const auto& res : r.txn_results) EXPECT_TRUE(res.has_value());
  EXPECT_EQ(get("a").value, "va2");
  EXPECT_FALSE(snap().kv_get("t/1").has_value());
  EXPECT_EQ(snap().kv_graveyard_max_index("t/"), 4u);
}

TEST_F(KvTest, TxnIsAllOrNothingAndReportsEveryError) {
  apply(1, kv_set("a", "va"));
  ApplyResult r = apply(2, txn({
                               kv_op(KvOp::SET, "new", "x"),
                               kv_op(KvOp::DELETE, "a"),
                               kv_op(KvOp::CAS, "a", "y", 0),
                               kv_op(KvOp::GET, "missing"),
                           }));
  EXPECT_TRUE(r.status);  // a failed txn is an answer, not an apply error
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.txn_results.empty());
  ASSERT_EQ(r.txn_errors.size(), 1u);
  EXPECT_EQ(r.txn_errors[0].op_index, 3u);
  EXPECT_EQ(r.txn_errors[0].what, "key \"missing\" doesn't exist");
  // Nothing of the txn stayed: not the set, not the delete, not its tombstone.
  EXPECT_FALSE(snap().kv_get("new").has_value());
  EXPECT_EQ(get("a").value, "va");
  EXPECT_EQ(snap().kv_graveyard_max_index(""), 0u);
  EXPECT_EQ(snap().table_index(Table::kKvs), 1u);
  EXPECT_EQ(snap().applied_index(), 2u);
}

TEST_F(KvTest, TxnErrorTextsMatchConsul) {
  make_sessions();
  apply(4, kv_set("a", "va"));                            // modify index 4
  apply(5, kv(kv_op(KvOp::LOCK, "held", "x", 0, "s1")));  // held by s1
  ApplyResult r = apply(6, txn({
                               kv_op(KvOp::GET, "nope"),
                               kv_op(KvOp::CAS, "a", "x", 3),
                               kv_op(KvOp::DELETE_CAS, "a", "", 3),
                               kv_op(KvOp::LOCK, "held", "x", 0, "s2"),
                               kv_op(KvOp::UNLOCK, "held", "x", 0, "s2"),
                               kv_op(KvOp::CHECK_INDEX, "a", "", 5),
                               kv_op(KvOp::CHECK_INDEX, "nope", "", 5),
                               kv_op(KvOp::CHECK_SESSION, "held", "", 0, "s2"),
                               kv_op(KvOp::CHECK_SESSION, "nope", "", 0, "s2"),
                               kv_op(KvOp::CHECK_NOT_EXISTS, "a"),
                               kv_op(KvOp::LOCK, "k", "x", 0, "bogus"),
                               kv_op(KvOp::LOCK, "k", "x", 0, ""),
                               kv_op(KvOp::GET, "we\"ird\n\x01\xff\xc3\xa9"),
                               kv_op(static_cast<KvOp::Verb>(99), "k"),
                           }));
  EXPECT_FALSE(r.ok);
  std::vector<std::string> want = {
      "key \"nope\" doesn't exist",
      "failed to set key \"a\", index is stale",
      "failed to delete key \"a\", index is stale",
      "failed to lock key \"held\", lock is already held",
      "failed to unlock key \"held\", lock isn't held, or is held by another session",
      "failed index check for key \"a\", current modify index 4 != 5",
      "failed to check index, key \"nope\" doesn't exist",
      "failed session check for key \"held\", current session \"s1\" != \"s2\"",
      "failed to check session, key \"nope\" doesn't exist",
      "key \"a\" exists",
      "invalid session \"bogus\"",
      "missing session",
      "key \"we\\\"ird\\n\\x01\\xffé\" doesn't exist",
      "unknown KV verb \"99\"",
  };
  ASSERT_EQ(r.txn_errors.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.txn_errors[i].op_index, i);
    EXPECT_EQ(r.txn_errors[i].what, want[i]);
  }
  EXPECT_EQ(get("held").session, "s1");
}

TEST_F(KvTest, TxnLockAndChecksSucceedWithResults) {
  make_sessions();
  ApplyResult r = apply(4, txn({
                               kv_op(KvOp::LOCK, "l", "v", 0, "s1"),
                               kv_op(KvOp::CHECK_SESSION, "l", "", 0, "s1"),
                               kv_op(KvOp::UNLOCK, "l", "w", 0, "s1"),
                           }));
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.txn_results.size(), 3u);
  EXPECT_EQ(r.txn_results[0]->session, "s1");
  EXPECT_EQ(r.txn_results[0]->lock_index, 1u);
  EXPECT_EQ(r.txn_results[0]->value, "");
  EXPECT_EQ(r.txn_results[1]->session, "s1");
  EXPECT_EQ(r.txn_results[2]->session, "");
  DirEntry e = get("l");
  EXPECT_EQ(e.value, "w");
  EXPECT_EQ(e.lock_index, 1u);
  EXPECT_TRUE(snap().session_locked_keys("s1").empty());
}

TEST_F(KvTest, EmptyTxnSucceeds) {
  ApplyResult r = apply(1, txn({}));
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.txn_results.empty());
}

}  // namespace
}  // namespace pc::state
