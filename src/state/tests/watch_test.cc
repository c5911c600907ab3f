// WatchChannel and WatchSet: a set fires once, on the first of its channels to fire, and a
// destroyed set leaves nothing attached.
#include "state/watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

namespace pc::state {
namespace {

TEST(WatchSet, NotifyOnceRunsOnceForManyChannels) {
  auto a = std::make_shared<WatchChannel>();
  auto b = std::make_shared<WatchChannel>();
  WatchSet ws;
  ws.add(a);
  ws.add(b);
  EXPECT_EQ(ws.size(), 2u);
  int calls = 0;
  ws.notify_once([&] { ++calls; });
  EXPECT_FALSE(ws.fired());
  a->fire();
  b->fire();
  a->fire();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(ws.fired());
  EXPECT_TRUE(a->fired());
}

TEST(WatchSet, FiredBeforeNotifyRunsCallbackAtOnce) {
  auto a = std::make_shared<WatchChannel>();
  WatchSet ws;
  ws.add(a);
  a->fire();
  EXPECT_TRUE(ws.fired());
  int calls = 0;
  ws.notify_once([&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(WatchSet, AddingAnAlreadyFiredChannelFiresTheSet) {
  auto a = std::make_shared<WatchChannel>();
  a->fire();
  WatchSet ws;
  int calls = 0;
  ws.notify_once([&] { ++calls; });
  ws.add(a);
  EXPECT_TRUE(ws.fired());
  EXPECT_EQ(calls, 1);
}

TEST(WatchSet, UnfiredSetDoesNotNotify) {
  auto a = std::make_shared<WatchChannel>();
  auto other = std::make_shared<WatchChannel>();
  WatchSet ws;
  ws.add(a);
  int calls = 0;
  ws.notify_once([&] { ++calls; });
  other->fire();
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(ws.fired());
}

TEST(WatchSet, DestructionDetaches) {
  auto a = std::make_shared<WatchChannel>();
  int calls = 0;
  {
    WatchSet ws;
    ws.add(a);
    ws.notify_once([&] { ++calls; });
  }
  // The set is gone: only the channel's own reference remains, and firing reaches nobody.
  EXPECT_EQ(a.use_count(), 1);
  a->fire();
  EXPECT_EQ(calls, 0);
}

TEST(WatchSet, ConcurrentFireAndNotifyRunCallbackExactlyOnce) {
  for (int round = 0; round < 200; ++round) {
    auto a = std::make_shared<WatchChannel>();
    auto b = std::make_shared<WatchChannel>();
    WatchSet ws;
    ws.add(a);
    ws.add(b);
    std::atomic<int> calls{0};
    std::thread t1([&] { a->fire(); });
    std::thread t2([&] { b->fire(); });
    ws.notify_once([&] { calls.fetch_add(1); });
    t1.join();
    t2.join();
    EXPECT_EQ(calls.load(), 1);
  }
}

}  // namespace
}  // namespace pc::state

namespace pc::state {
namespace {

TEST(WatchSetNotCollecting, IgnoresChannelsSoPlainReadsRegisterNothing) {
  WatchSet ws(/*collecting=*/false);
  auto channel = std::make_shared<WatchChannel>();
  ws.add(channel);
  EXPECT_EQ(ws.size(), 0u);
  EXPECT_FALSE(ws.collecting());
  channel->fire();
  EXPECT_FALSE(ws.fired());
}

}  // namespace
}  // namespace pc::state
