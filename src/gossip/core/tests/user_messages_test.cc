// serf's user events and queries in the core: the Lamport clocks, the de-duplication ring,
// and the rules of fire_event / query / respond on a lone core and on small simulated
// clusters.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "gossip/core/memberlist.h"

namespace pc::gossip {
namespace {

TEST(LamportClock, WitnessMovesPastWhatItSawAndNeverBack) {
  LamportClock c;
  EXPECT_EQ(c.time(), 0u);
  c.witness(5);
  EXPECT_EQ(c.time(), 6u);
  c.witness(3);
  EXPECT_EQ(c.time(), 6u);
  c.witness(6);
  EXPECT_EQ(c.time(), 7u);
  EXPECT_EQ(c.increment(), 8u);
  c.witness(UINT64_MAX);  // only a hostile peer sends it: ignored, not wrapped
  EXPECT_EQ(c.time(), 8u);
}

TEST(RecentBuffer, NewOnceThenDuplicateAndTooOldPastTheWindow) {
  RecentBuffer b(4);
  EXPECT_EQ(b.record(3, "a", 3), RecentBuffer::Seen::kNew);
  EXPECT_EQ(b.record(3, "a", 3), RecentBuffer::Seen::kDuplicate);
  EXPECT_EQ(b.record(3, "b", 3), RecentBuffer::Seen::kNew);
  // Slot 3 % 4 is taken over by time 7: time 3's ids are forgotten there ...
  EXPECT_EQ(b.record(7, "a", 7), RecentBuffer::Seen::kNew);
  // ... which is why anything more than the window behind the clock is refused.
  EXPECT_EQ(b.record(2, "z", 7), RecentBuffer::Seen::kTooOld);
  EXPECT_EQ(b.record(3, "a", 7), RecentBuffer::Seen::kNew);
}

TEST(RecentBuffer, OneLamportTimeHoldsABoundedNumberOfIds) {
  RecentBuffer b(4);
  for (std::size_t i = 0; i < kUserMessagesPerLtimeMax; ++i) {
    EXPECT_EQ(b.record(1, std::to_string(i), 1), RecentBuffer::Seen::kNew);
  }
  EXPECT_EQ(b.record(1, "one more", 1), RecentBuffer::Seen::kDuplicate);
}

TEST(UserEvents, FireDeliversLocallyStampsAndAdvancesTheClock) {
  Memberlist m(lan_config("a", "a:8301"), 0);
  (void)m.take_ready();
  auto t0 = m.fire_event("deploy", "v1", 1);
  ASSERT_TRUE(t0) << t0.error().message;
  EXPECT_EQ(*t0, 0u);
  auto t1 = m.fire_event("deploy", "v2", 2);
  ASSERT_TRUE(t1);
  EXPECT_EQ(*t1, 1u);
  EXPECT_EQ(m.event_time(), 2u);
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.user_events.size(), 2u);
  EXPECT_EQ(rd.user_events[0].name, "deploy");
  EXPECT_EQ(rd.user_events[1].payload, "v2");
}

TEST(UserEvents, RefusesEmptyNamesOversizeAndAfterLeave) {
  Memberlist m(lan_config("a", "a:8301"), 0);
  EXPECT_EQ(m.fire_event("", "x", 1).error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(m.fire_event("n", std::string(kUserEventSizeMax, 'x'), 1).error().code,
            core::Code::kTooLarge);
  EXPECT_TRUE(m.fire_event("n", std::string(kUserEventSizeMax - 1, 'x'), 1));
  m.leave(2);
  EXPECT_EQ(m.fire_event("n", "", 3).error().code, core::Code::kUnavailable);
}

TEST(UserEvents, AReceivedEventIsDeliveredOnceAndWitnessed) {
  Memberlist m(lan_config("a", "a:8301"), 0);
  (void)m.take_ready();
  Message e;
  e.kind = MessageKind::kUserEvent;
  e.ltime = 41;
  e.topic = "deploy";
  e.payload = "p";
  ASSERT_TRUE(m.receive("b:8301", Channel::kUdp, {e, e}, 1));
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.user_events.size(), 1u);
  EXPECT_EQ(rd.user_events[0].ltime, 41u);
  EXPECT_EQ(m.event_time(), 42u);
  EXPECT_EQ(m.stats().user_messages_duplicate, 1u);
  // The same name and time with another payload is another event.
  e.payload = "q";
  ASSERT_TRUE(m.receive("b:8301", Channel::kUdp, {e}, 2));
  EXPECT_EQ(m.take_ready().user_events.size(), 1u);
}

TEST(UserMessages, MalformedOnesAreRefusedByTheCore) {
  Memberlist m(lan_config("a", "a:8301"), 0);
  Message e;
  e.kind = MessageKind::kUserEvent;  // no name
  EXPECT_FALSE(m.receive("b:8301", Channel::kUdp, {e}, 1));
  Message q;
  q.kind = MessageKind::kQuery;
  q.topic = "x";
  q.from = "b";
  q.addr = "b:8301";
  q.timeout_ms = 0;  // no timeout
  EXPECT_FALSE(m.receive("b:8301", Channel::kUdp, {q}, 1));
  q.timeout_ms = 100;
  q.relay_factor = kQueryRelayFactorMax + 1;
  EXPECT_FALSE(m.receive("b:8301", Channel::kUdp, {q}, 1));
  Message ping;
  ping.kind = MessageKind::kPing;
  ping.payload = "smuggled";
  EXPECT_FALSE(m.receive("b:8301", Channel::kUdp, {ping}, 1));
  Message r;
  r.kind = MessageKind::kQueryResponse;
  r.from = "b";
  r.payload = std::string(kQueryResponseSizeMax + 1, 'x');
  EXPECT_FALSE(m.receive("b:8301", Channel::kUdp, {r}, 1));
}

TEST(Queries, ALoneMemberAnswersItsOwnQueryThenItIsDone) {
  Memberlist m(lan_config("a", "a:8301"), 0);
  (void)m.take_ready();
  EXPECT_EQ(m.default_query_timeout_ms(), 200u * 16 * 1);
  auto started = m.query("_serf_list-keys", "", 0, 0, 10);
  ASSERT_TRUE(started) << started.error().message;
  EXPECT_EQ(started->deadline_ms, 10u + 3200);
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.queries.size(), 1u);
  EXPECT_EQ(rd.queries[0].origin, "a");
  ASSERT_TRUE(m.respond(rd.queries[0], "mine", 20));
  rd = m.take_ready();
  ASSERT_EQ(rd.query_responses.size(), 1u);
  EXPECT_EQ(rd.query_responses[0].from, "a");
  EXPECT_EQ(rd.query_responses[0].payload, "mine");
  // A second answer from the same member counts once.
  QueryRequest again{started->id, started->ltime, "_serf_list-keys", "", "a", "a:8301", 0, 5000};
  ASSERT_TRUE(m.respond(again, "again", 30));
  EXPECT_TRUE(m.take_ready().query_responses.empty());
  EXPECT_LE(m.next_deadline_ms(), started->deadline_ms);
  m.tick(started->deadline_ms - 1);
  EXPECT_TRUE(m.take_ready().queries_done.empty());
  m.tick(started->deadline_ms);
  rd = m.take_ready();
  ASSERT_EQ(rd.queries_done.size(), 1u);
  EXPECT_EQ(rd.queries_done[0], started->id);
}

TEST(Queries, RespondRefusesPastTheDeadlineAndOversize) {
  Memberlist m(lan_config("a", "a:8301"), 0);
  QueryRequest q{7, 1, "n", "", "b", "b:8301", 0, 100};
  EXPECT_EQ(m.respond(q, std::string(kQueryResponseSizeMax + 1, 'x'), 50).error().code,
            core::Code::kTooLarge);
  EXPECT_EQ(m.respond(q, "", 101).error().code, core::Code::kTimeout);
  EXPECT_EQ(m.query("n", "", 0, kQueryRelayFactorMax + 1, 101).error().code,
            core::Code::kInvalidArgument);
  EXPECT_EQ(m.query("n", std::string(kQueryPayloadSizeMax + 1, 'x'), 0, 0, 101).error().code,
            core::Code::kTooLarge);
}

TEST(Queries, AResponseGoesToTheOriginAndThroughRelaysWithItsAddress) {
  Memberlist m(lan_config("a", "a:8301"), 0);
  QueryRequest q{7, 1, "n", "", "b", "b:8301", 2, 1000};
  ASSERT_TRUE(m.respond(q, "ok", 10));
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.packets.size(), 1u);  // alone: no relays to pick
  EXPECT_EQ(rd.packets[0].to, "b:8301");
  EXPECT_EQ(rd.packets[0].messages[0].kind, MessageKind::kQueryResponse);
  EXPECT_TRUE(rd.packets[0].messages[0].addr.empty());
  // A relayed response for someone else is forwarded once, without the address.
  Message r = rd.packets[0].messages[0];
  r.addr = "c:8301";
  ASSERT_TRUE(m.receive("d:8301", Channel::kUdp, {r}, 20));
  rd = m.take_ready();
  ASSERT_EQ(rd.packets.size(), 1u);
  EXPECT_EQ(rd.packets[0].to, "c:8301");
  EXPECT_TRUE(rd.packets[0].messages[0].addr.empty());
  EXPECT_EQ(m.stats().query_responses_relayed, 1u);
}

TEST(UserEvents, AJoinerIgnoresEventsFromBeforeItJoined) {
  Memberlist a(lan_config("a", "a:8301"), 0);
  Memberlist b(lan_config("b", "b:8301"), 0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a.fire_event("old", std::to_string(i), 0));
  (void)a.take_ready();
  (void)b.take_ready();
  // b joins a: one push-pull each way, carrying the clocks.
  b.join({"a:8301"}, 1);
  Ready rb = b.take_ready();
  ASSERT_EQ(rb.packets.size(), 1u);
  ASSERT_TRUE(a.receive("b:8301", Channel::kTcp, rb.packets[0].messages, 2));
  Ready ra = a.take_ready();
  const Packet* reply = nullptr;
  for (const Packet& p : ra.packets) {
    if (p.channel == Channel::kTcp) reply = &p;
  }
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->messages[0].ltime, 5u);
  ASSERT_TRUE(b.receive("a:8301", Channel::kTcp, reply->messages, 3));
  EXPECT_EQ(b.event_time(), 5u);
  (void)b.take_ready();
  // One of a's old events, still being gossiped, reaches b: not b's to deliver.
  Message old;
  old.kind = MessageKind::kUserEvent;
  old.ltime = 3;
  old.topic = "old";
  old.payload = "3";
  ASSERT_TRUE(b.receive("a:8301", Channel::kUdp, {old}, 4));
  EXPECT_TRUE(b.take_ready().user_events.empty());
  EXPECT_EQ(b.stats().user_messages_old, 1u);
  auto t = a.fire_event("new", "", 5);
  ASSERT_TRUE(t);
  Message fresh = old;
  fresh.ltime = *t;
  fresh.topic = "new";
  fresh.payload = "";
  ASSERT_TRUE(b.receive("a:8301", Channel::kUdp, {fresh}, 6));
  EXPECT_EQ(b.take_ready().user_events.size(), 1u);
}

}  // namespace
}  // namespace pc::gossip
