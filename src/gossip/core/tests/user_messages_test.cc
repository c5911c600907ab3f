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

// Hands every push-pull in `from`'s Ready to `to` (TCP only: the datagrams that would carry
// broadcasts are dropped, as if lost) and returns how many it delivered.
int deliver_push_pulls(Memberlist& from, const std::string& from_addr, Memberlist& to,
                       std::uint64_t now_ms) {
  int delivered = 0;
  for (const Packet& p : from.take_ready().packets) {
    if (p.channel != Channel::kTcp || p.messages[0].kind != MessageKind::kPushPull) continue;
    EXPECT_TRUE(to.receive(from_addr, Channel::kTcp, p.messages, now_ms));
    ++delivered;
  }
  return delivered;
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
  EXPECT_EQ(reply->messages[0].events.size(), 5u);  // a's recent events, for a member that
  ASSERT_TRUE(b.receive("a:8301", Channel::kTcp, reply->messages, 3));  // missed them ...
  EXPECT_EQ(b.event_time(), 5u);
  EXPECT_TRUE(b.take_ready().user_events.empty());  // ... but they predate b's join
  // One of a's old events, still being gossiped, reaches b: not b's to deliver.
  Message old;
  old.kind = MessageKind::kUserEvent;
  old.ltime = 3;
  old.topic = "old";
  old.payload = "3";
  ASSERT_TRUE(b.receive("a:8301", Channel::kUdp, {old}, 4));
  EXPECT_TRUE(b.take_ready().user_events.empty());
  // The join's reply carried the five, refused as old too; this is the sixth.
  EXPECT_EQ(b.stats().user_messages_old, 6u);
  auto t = a.fire_event("new", "", 5);
  ASSERT_TRUE(t);
  Message fresh = old;
  fresh.ltime = *t;
  fresh.topic = "new";
  fresh.payload = "";
  ASSERT_TRUE(b.receive("a:8301", Channel::kUdp, {fresh}, 6));
  EXPECT_EQ(b.take_ready().user_events.size(), 1u);
  // A later push-pull (not b's join) brings neither the old events back nor "new" again;
  // an event fired after the join whose broadcast b missed comes with it.
  ASSERT_TRUE(a.fire_event("missed", "x", 7));
  (void)a.take_ready();
  a.join({"b:8301"}, 8);
  ASSERT_EQ(deliver_push_pulls(a, "a:8301", b, 8), 1);
  Ready after = b.take_ready();
  ASSERT_EQ(after.user_events.size(), 1u);
  EXPECT_EQ(after.user_events[0].name, "missed");
}

// LAN timing but a push-pull every second and probes far apart: the tests below drop every
// datagram (as if each broadcast were lost), and a probe that then failed must not make a
// member declare the other dead before the push-pulls are done.
Config quiet_config(const std::string& name) {
  Config c = lan_config(name, name + ":8301");
  c.push_pull_interval_ms = 1'000;
  c.probe_interval_ms = 600'000;
  return c;
}

// Ticks `from` in 100 ms steps until its periodic push-pull goes out (within two
// intervals), hands it to `to` and returns the time it was sent at.
std::uint64_t tick_until_push_pull(Memberlist& from, const std::string& from_addr, Memberlist& to,
                                   std::uint64_t now_ms) {
  const std::uint64_t end_ms = now_ms + 2 * quiet_config("x").push_pull_interval_ms;
  while (now_ms < end_ms) {
    now_ms += 100;
    from.tick(now_ms);
    if (deliver_push_pulls(from, from_addr, to, now_ms) > 0) return now_ms;
  }
  ADD_FAILURE() << "no push-pull within two intervals";
  return now_ms;
}

// a and b, joined by b: the join's push-pulls delivered both ways.
void join_pair(Memberlist& a, Memberlist& b, std::uint64_t now_ms) {
  b.join({"a:8301"}, now_ms);
  ASSERT_EQ(deliver_push_pulls(b, "b:8301", a, now_ms), 1);
  ASSERT_EQ(deliver_push_pulls(a, "a:8301", b, now_ms), 1);
  (void)a.take_ready();
  (void)b.take_ready();
}

TEST(UserEvents, AMemberThatMissedTheBroadcastGetsTheEventFromAPushPullOnce) {
  Memberlist a(quiet_config("a"), 0);
  Memberlist b(quiet_config("b"), 0);
  join_pair(a, b, 1);
  auto t = a.fire_event("deploy", "v7", 10);
  ASSERT_TRUE(t);
  (void)a.take_ready();  // the event's broadcasts are never delivered to b
  // a's periodic push-pull (within one interval, to its only peer) carries the event.
  std::uint64_t now = tick_until_push_pull(a, "a:8301", b, 10);
  Ready rb = b.take_ready();
  ASSERT_EQ(rb.user_events.size(), 1u);
  EXPECT_EQ(rb.user_events[0].ltime, *t);
  EXPECT_EQ(rb.user_events[0].name, "deploy");
  EXPECT_EQ(rb.user_events[0].payload, "v7");
  EXPECT_EQ(b.stats().user_events_from_push_pull, 1u);
  // serf does not re-broadcast what a push-pull brought: the push-pulls spread it. b's
  // reply was built before it merged a's state (memberlist's order), so it carries nothing.
  int replies = 0;
  for (const Packet& p : rb.packets) {
    for (const Message& m : p.messages) EXPECT_NE(m.kind, MessageKind::kUserEvent);
    if (p.channel != Channel::kTcp) continue;
    EXPECT_TRUE(p.messages[0].events.empty());
    ASSERT_TRUE(a.receive("b:8301", Channel::kTcp, p.messages, now));
    ++replies;
  }
  ASSERT_EQ(replies, 1);
  // b's own periodic push-pull carries the event back to a, which has it: a duplicate.
  now = tick_until_push_pull(b, "b:8301", a, now);
  EXPECT_EQ(a.stats().user_messages_duplicate, 1u);
  ASSERT_EQ(deliver_push_pulls(a, "a:8301", b, now), 1);  // a's reply: b's duplicate
  EXPECT_EQ(b.stats().user_messages_duplicate, 1u);
  // a's next periodic one delivers nothing more either.
  now = tick_until_push_pull(a, "a:8301", b, now);
  ASSERT_EQ(deliver_push_pulls(b, "b:8301", a, now), 1);
  EXPECT_TRUE(a.take_ready().user_events.empty());
  EXPECT_TRUE(b.take_ready().user_events.empty());
  EXPECT_EQ(a.stats().user_events_delivered, 1u);
  EXPECT_EQ(b.stats().user_events_delivered, 1u);
  EXPECT_GE(b.stats().user_messages_duplicate, 1u);
}

TEST(UserEvents, APushPullCarriesOnlyTheNewestEventsThatFit) {
  Memberlist a(lan_config("a", "a:8301"), 0);
  (void)a.take_ready();
  // More events than one push-pull carries, several per Lamport time (fired with the same
  // time by different members, as happens in a cluster).
  const std::size_t total = kPushPullEventsMax + 10;
  for (std::size_t i = 0; i < total; ++i) {
    Message e;
    e.kind = MessageKind::kUserEvent;
    e.ltime = 1 + i / 4;
    e.topic = "e";
    e.payload = std::to_string(i);
    ASSERT_TRUE(a.receive("b:8301", Channel::kUdp, {e}, 1));
  }
  EXPECT_EQ(a.take_ready().user_events.size(), total);
  a.join({"b:8301"}, 2);
  Ready ra = a.take_ready();
  ASSERT_EQ(ra.packets.size(), 1u);
  const std::vector<EventRecord>& events = ra.packets[0].messages[0].events;
  ASSERT_EQ(events.size(), kPushPullEventsMax);
  EXPECT_EQ(events.back().ltime, 1 + (total - 1) / 4);  // the newest kept
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_LE(events[i - 1].ltime, events[i].ltime);
  EXPECT_EQ(events.back().name, "e");
}

}  // namespace
}  // namespace pc::gossip
