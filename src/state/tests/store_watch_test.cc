// Watch precision: a write wakes exactly the watches on what it changed, and only once the
// change is published.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

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
using testing::txn;

class WatchTest : public StoreTest {
 protected:
  std::unique_ptr<WatchSet> key(std::string_view k) {
    auto ws = std::make_unique<WatchSet>();
    store_.watch_kv_key(*ws, k);
    return ws;
  }
  std::unique_ptr<WatchSet> prefix(std::string_view p) {
    auto ws = std::make_unique<WatchSet>();
    store_.watch_kv_prefix(*ws, p);
    return ws;
  }
  std::unique_ptr<WatchSet> table(Table t) {
    auto ws = std::make_unique<WatchSet>();
    store_.watch_table(*ws, t);
    return ws;
  }
  // Node n1, sessions s1 and s2, "k" = "v" held by s1, "other" = "v"; indexes 1-5.
  void make_store_with_lock_holder() {
    ASSERT_TRUE(apply(1, node_register("n1")).status);
    ASSERT_TRUE(apply(2, session_create("s1", "n1")).status);
    ASSERT_TRUE(apply(3, session_create("s2", "n1")).status);
    ASSERT_TRUE(apply(4, kv(kv_op(KvOp::LOCK, "k", "v", 0, "s1"))).ok);
    apply(5, kv_set("other", "v"));
  }
};

TEST_F(WatchTest, KeyWatchFiresOnThatKeyOnly) {
  auto on_ax = key("a/x");
  auto on_a = key("a");
  auto on_axy = key("a/xy");
  auto on_b = key("b");
  apply(1, kv_set("a/x", "1"));
  EXPECT_TRUE(on_ax->fired());
  EXPECT_FALSE(on_a->fired());
  EXPECT_FALSE(on_axy->fired());
  EXPECT_FALSE(on_b->fired());
}

TEST_F(WatchTest, PrefixWatchFiresOnKeysUnderItOnly) {
  auto under_a = prefix("a/");
  auto under_ax = prefix("a/x");
  auto under_b = prefix("b/");
  auto under_ay = prefix("a/y");
  auto everything = prefix("");
  auto longer = prefix("a/x/deeper");
  apply(1, kv_set("a/x", "1"));
  EXPECT_TRUE(under_a->fired());
  EXPECT_TRUE(under_ax->fired());  // a key equal to the prefix is under it
  EXPECT_TRUE(everything->fired());
  EXPECT_FALSE(under_b->fired());
  EXPECT_FALSE(under_ay->fired());
  EXPECT_FALSE(longer->fired());

  auto under_a_again = prefix("a/");
  apply(2, kv_set("a", "1"));  // "a" is not under "a/"
  EXPECT_FALSE(under_a_again->fired());
}

TEST_F(WatchTest, TableWatchFiresOnAnyChangeOfThatTable) {
  auto kvs = table(Table::kKvs);
  auto nodes = table(Table::kNodes);
  auto sessions = table(Table::kSessions);
  auto tombstones = table(Table::kTombstones);
  apply(1, kv_set("anything/at/all", "1"));
  EXPECT_TRUE(kvs->fired());
  EXPECT_FALSE(nodes->fired());
  EXPECT_FALSE(sessions->fired());
  EXPECT_FALSE(tombstones->fired());

  apply(2, node_register("n1"));
  EXPECT_TRUE(nodes->fired());
  EXPECT_FALSE(sessions->fired());
  apply(3, session_create("s1", "n1"));
  EXPECT_TRUE(sessions->fired());
  apply(4, kv(kv_op(KvOp::DELETE, "anything/at/all")));
  EXPECT_TRUE(tombstones->fired());
}

TEST_F(WatchTest, FiresOnlyAfterPublishAndTheChangeIsVisibleThen) {
  auto ws = key("k");
  bool saw_value = false;
  ws->notify_once([&] { saw_value = store_.snapshot().kv_get("k").has_value(); });
  (void)store_.apply(1, kv_set("k", "v"));
  EXPECT_FALSE(ws->fired());
  EXPECT_FALSE(store_.snapshot().kv_get("k").has_value());  // not published yet
  store_.publish();
  EXPECT_TRUE(ws->fired());
  EXPECT_TRUE(saw_value);
}

TEST_F(WatchTest, BatchedAppliesFireEachWatchOnce) {
  auto ws = prefix("p/");
  int calls = 0;
  ws->notify_once([&] { ++calls; });
  for (std::uint64_t i = 1; i <= 10; ++i)
    (void)store_.apply(i, kv_set("p/" + std::to_string(i), "v"));
  store_.publish();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(snap().applied_index(), 10u);
}

TEST_F(WatchTest, AFiredChannelIsReplacedForLaterReaders) {
  auto first = key("k");
  apply(1, kv_set("k", "1"));
  EXPECT_TRUE(first->fired());
  auto second = key("k");
  EXPECT_FALSE(second->fired());
  apply(2, kv_set("k", "2"));
  EXPECT_TRUE(second->fired());
}

TEST_F(WatchTest, WritesThatChangeNothingWakeNothing) {
  make_store_with_lock_holder();
  auto on_k = key("k");
  auto on_other = key("other");
  auto kvs = table(Table::kKvs);
  auto sessions = table(Table::kSessions);
  // Identical (a plain set on the held "k" would not be: it resets LockIndex, as in Consul).
  apply(10, kv_set("other", "v"));
  apply(11, kv(kv_op(KvOp::DELETE, "absent")));                      // nothing to delete
  apply(12, kv(kv_op(KvOp::CAS, "k", "x", 999)));                    // CAS mismatch
  apply(13, kv(kv_op(KvOp::LOCK, "k", "x", 0, "s2")));               // held by s1
  apply(14, kv(kv_op(KvOp::LOCK, "k", "x", 0, "no-such-session")));  // error
  apply(15, kv(kv_op(KvOp::DELETE_TREE, "nothing/")));
  apply(16, txn({kv_op(KvOp::SET, "k", "changed"), kv_op(KvOp::GET, "absent")}));  // rolled back
  apply(17, session_destroy("no-such-session"));
  apply(18, node_register("n1"));  // identical
  EXPECT_FALSE(on_k->fired());
  EXPECT_FALSE(on_other->fired());
  EXPECT_FALSE(kvs->fired());
  EXPECT_FALSE(sessions->fired());
  EXPECT_EQ(get("k").value, "v");
}

TEST_F(WatchTest, DeleteTreeWakesWatchesOnDeletedKeysAndPrefixesAboveThem) {
  apply(1, kv_set("t/a/1", "v"));
  apply(2, kv_set("t/b", "v"));
  apply(3, kv_set("u", "v"));
  auto key_a1 = key("t/a/1");
  auto under_ta = prefix("t/a/");
  auto under_t = prefix("t");
  auto under_tc = prefix("t/c/");  // nothing was there, nothing changed there
  auto key_u = key("u");
  apply(4, kv(kv_op(KvOp::DELETE_TREE, "t/")));
  EXPECT_TRUE(key_a1->fired());
  EXPECT_TRUE(under_ta->fired());
  EXPECT_TRUE(under_t->fired());
  EXPECT_FALSE(under_tc->fired());
  EXPECT_FALSE(key_u->fired());
}

TEST_F(WatchTest, SessionDestroyWakesWatchesOnReleasedKeys) {
  make_store_with_lock_holder();
  auto on_k = key("k");
  auto on_other = key("other");
  apply(10, session_destroy("s1"));
  EXPECT_TRUE(on_k->fired());
  EXPECT_FALSE(on_other->fired());
}

TEST_F(WatchTest, LiveWatchesSurviveTheSweepOfAbandonedOnes) {
  auto keep = key("keep");
  auto keep_prefix = prefix("keep/");
  for (int i = 0; i < 5000; ++i) {
    WatchSet ws;  // a read that timed out: registered, then dropped
    store_.watch_kv_key(ws, "gone/" + std::to_string(i));
    store_.watch_kv_prefix(ws, "gone/" + std::to_string(i) + "/");
  }
  apply(1, kv_set("keep/x", "v"));
  apply(2, kv_set("keep", "v"));
  EXPECT_TRUE(keep->fired());
  EXPECT_TRUE(keep_prefix->fired());
}

// The blocking-query protocol across threads: register, snapshot, wait; the writer's publish
// wakes the reader, whose next snapshot has the change.
TEST_F(WatchTest, BlockingReaderOnAnotherThreadSeesTheWrite) {
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  std::atomic<bool> registered{false};
  std::string seen;
  std::thread reader([&] {
    for (;;) {
      WatchSet ws;
      store_.watch_kv_key(ws, "k");
      Snapshot s = store_.snapshot();
      if (auto e = s.kv_get("k")) {
        seen = e->value;
        return;
      }
      ws.notify_once([&] {
        std::lock_guard lock(mu);
        woken = true;
        cv.notify_all();
      });
      registered = true;
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return woken; });
      woken = false;
    }
  });
  while (!registered) std::this_thread::yield();
  (void)store_.apply(1, kv_set("k", "hello"));
  store_.publish();
  reader.join();
  EXPECT_EQ(seen, "hello");
}

}  // namespace
}  // namespace pc::state

namespace pc::state {
namespace {

TEST(SessionWatch, FiresForThatSessionOnly) {
  Store store;
  auto apply = [&](std::uint64_t index, const proto::Command& c) {
    auto r = store.apply(index, c);
    store.publish();
    return r;
  };
  ASSERT_TRUE(apply(1, testing::node_register("n1")).status);
  WatchSet on_s1, on_s2;
  store.watch_session(on_s1, "s1");
  store.watch_session(on_s2, "s2");
  ASSERT_TRUE(apply(2, testing::session_create("s1", "n1")).status);
  EXPECT_TRUE(on_s1.fired());
  EXPECT_FALSE(on_s2.fired()) << "another session's create woke a watch on s2";
  WatchSet again;
  store.watch_session(again, "s1");
  ASSERT_TRUE(apply(3, testing::session_destroy("s1")).status);
  EXPECT_TRUE(again.fired());
  EXPECT_FALSE(on_s2.fired());
}

}  // namespace
}  // namespace pc::state
