// The gossip core's rules, one behaviour per test, on small clusters in the deterministic
// simulation (no loss unless a test says so) or on a lone core fed by hand.
#include "gossip/core/memberlist.h"

#include <gtest/gtest.h>

#include <limits>

#include "gossip/core/tests/simulation.h"

namespace pc::gossip {
namespace {

using sim::SimOptions;
using sim::Simulation;

SimOptions small(int members, std::uint64_t seed = 7) {
  SimOptions o;
  o.seed = seed;
  o.members = members;
  o.latency_min_ms = 1;
  o.latency_max_ms = 5;
  return o;
}

Message alive(const std::string& node, Incarnation inc, std::string meta = "") {
  Message m;
  m.kind = MessageKind::kAlive;
  m.node = node;
  m.addr = node;
  m.incarnation = inc;
  m.meta = std::move(meta);
  return m;
}

Message rumour(MessageKind kind, const std::string& node, Incarnation inc,
               const std::string& from) {
  Message m;
  m.kind = kind;
  m.node = node;
  m.incarnation = inc;
  m.from = from;
  return m;
}

TEST(Memberlist, StartsAloneAliveAtIncarnationOne) {
  Memberlist m(lan_config("a", "a:8301"), 0);
  EXPECT_EQ(m.incarnation(), 1u);
  EXPECT_EQ(m.live_count(), 1u);
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.events.size(), 1u);
  EXPECT_EQ(rd.events[0].kind, EventKind::kJoin);
  // Alone, there is nobody to probe or gossip to: ticks send nothing.
  for (std::uint64_t t = 0; t <= 60'000; t += 10) m.tick(t);
  EXPECT_TRUE(m.take_ready().packets.empty());
}

TEST(Memberlist, JoinIsAPushPullOverTcpAndBothSidesLearnEachOther) {
  Simulation s(small(3));
  auto took = s.bootstrap(10'000);
  ASSERT_TRUE(took) << took.error().message;
  EXPECT_TRUE(s.converged());
  EXPECT_EQ(s.member(2).live_count(), 3u);
  EXPECT_GE(s.stats().tcp_sent, 4u);  // two joins and their replies
  EXPECT_TRUE(s.check());
}

TEST(Memberlist, AStoppedMemberIsSuspectedThenDeclaredDead) {
  Simulation s(small(5));
  ASSERT_TRUE(s.bootstrap(10'000));
  s.stop(4);
  auto suspected = s.run_until([&] { return !s.all_see(4, MemberState::kAlive); }, 10'000, 10);
  ASSERT_TRUE(suspected);
  // Five members: min = 4 * 1 * 1 s = 4 s, max = 24 s, k = 2 confirmations expected.
  auto dead = s.run_until([&] { return s.all_see(4, MemberState::kDead); }, 60'000, 10);
  ASSERT_TRUE(dead);
  EXPECT_GE(*suspected + *dead, 4'000u) << "never before the minimum suspicion timeout";
  EXPECT_EQ(s.stats().false_failures, 0u);
  EXPECT_TRUE(s.check());
}

TEST(Memberlist, ASuspectedMemberRefutesWithAHigherIncarnation) {
  Memberlist m(lan_config("a", "a"), 0);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 1)}, 0));
  (void)m.take_ready();
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {rumour(MessageKind::kSuspect, "a", 5, "b")}, 1));
  EXPECT_EQ(m.incarnation(), 6u) << "past the accused incarnation";
  EXPECT_EQ(m.health_score(), 1) << "Lifeguard: a refutation is a sign of poor local health";
  // The refutation is a broadcast: the next packet out carries alive(a, 6).
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {Message{MessageKind::kPing, 9}}, 2));
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.packets.size(), 1u);
  bool refuted = false;
  for (const Message& msg : rd.packets[0].messages) {
    refuted |= msg.kind == MessageKind::kAlive && msg.node == "a" && msg.incarnation == 6;
  }
  EXPECT_TRUE(refuted);
  // A dead rumour about us is refuted too; an older one is ignored.
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {rumour(MessageKind::kDead, "a", 3, "b")}, 3));
  EXPECT_EQ(m.incarnation(), 6u);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {rumour(MessageKind::kDead, "a", 6, "b")}, 4));
  EXPECT_EQ(m.incarnation(), 7u);
  EXPECT_EQ(m.member("a")->state, MemberState::kAlive);
}

TEST(Memberlist, IncarnationRulesForOthers) {
  Memberlist m(lan_config("a", "a"), 0);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 3)}, 0));
  // An older alive, and an alive of the same incarnation, change nothing.
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 2, "x")}, 1));
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 3, "x")}, 1));
  EXPECT_EQ(m.member("b")->meta, "");
  // Older suspicion: ignored. Current: suspect. Dead: dead.
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kSuspect, "b", 2, "c")}, 2));
  EXPECT_EQ(m.member("b")->state, MemberState::kAlive);
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kSuspect, "b", 3, "c")}, 3));
  EXPECT_EQ(m.member("b")->state, MemberState::kSuspect);
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kDead, "b", 3, "c")}, 4));
  EXPECT_EQ(m.member("b")->state, MemberState::kDead);
  // Back to alive only with a higher incarnation.
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 3)}, 5));
  EXPECT_EQ(m.member("b")->state, MemberState::kDead);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 4, "new")}, 6));
  EXPECT_EQ(m.member("b")->state, MemberState::kAlive);
  Ready rd = m.take_ready();
  std::vector<EventKind> kinds;
  for (const Event& e : rd.events) {
    if (e.member.name == "b") kinds.push_back(e.kind);
  }
  EXPECT_EQ(kinds, (std::vector<EventKind>{EventKind::kJoin, EventKind::kFail, EventKind::kJoin}));
}

TEST(Memberlist, ReapedMembersAreReportedAsForgottenOnce) {
  Config c = lan_config("a", "a");
  c.reconnect_interval_ms = 0;  // no reconnect dials: only the reaper acts
  c.reconnect_timeout_ms = 5'000;
  c.tombstone_timeout_ms = 8'000;
  Memberlist m(c, 0);
  for (const char* name : {"b", "d"}) {
    ASSERT_TRUE(m.receive(name, Channel::kUdp, {alive(name, 1)}, 0));
  }
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kDead, "b", 1, "c")}, 1));
  ASSERT_TRUE(m.receive("d", Channel::kUdp, {rumour(MessageKind::kDead, "d", 1, "d")}, 1));
  ASSERT_EQ(m.member("d")->state, MemberState::kLeft);
  std::vector<std::string> forgotten;
  for (std::uint64_t now = 2; now <= 20'000; now += 50) {
    m.tick(now);
    for (std::string& name : m.take_ready().forgotten) forgotten.push_back(std::move(name));
  }
  // The failed member past the reconnect timeout, then the one that left past the
  // tombstone timeout; each once.
  EXPECT_EQ(forgotten, (std::vector<std::string>{"b", "d"}));
  EXPECT_FALSE(m.member("b"));
  EXPECT_FALSE(m.member("d"));
  // A pruning force-leave is reported too.
  ASSERT_TRUE(m.receive("e", Channel::kUdp, {alive("e", 1)}, 20'001));
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kDead, "e", 1, "c")}, 20'001));
  ASSERT_TRUE(m.force_leave("e", true, 20'002));
  EXPECT_EQ(m.take_ready().forgotten, (std::vector<std::string>{"e"}));
}

TEST(Memberlist, AnAliveFromAnotherAddressDoesNotTakeOverALiveMember) {
  Memberlist m(lan_config("a", "a"), 0);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 1)}, 0));
  Message impostor = alive("b", 9);
  impostor.addr = "elsewhere";
  ASSERT_TRUE(m.receive("x", Channel::kUdp, {impostor}, 1));
  EXPECT_EQ(m.member("b")->addr, "b");
  EXPECT_EQ(m.stats().address_conflicts, 1u);
}

TEST(Memberlist, ConfirmationsFromIndependentMembersShortenTheSuspicion) {
  Memberlist m(lan_config("a", "a"), 0);
  for (const char* n : {"b", "c", "d", "e", "f", "g"}) {
    ASSERT_TRUE(m.receive(n, Channel::kUdp, {alive(n, 1)}, 0));
  }
  // Seven live members: min = 4 * max(1, log10(7)) s = 4 s, max = 6 * min, k = 2.
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kSuspect, "b", 1, "c")}, 0));
  auto s = m.suspicion("b");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->expected, 2);
  EXPECT_EQ(s->deadline_ms, 6u * 4000);
  ASSERT_TRUE(m.receive("d", Channel::kUdp, {rumour(MessageKind::kSuspect, "b", 1, "d")}, 10));
  ASSERT_TRUE(m.receive("d", Channel::kUdp, {rumour(MessageKind::kSuspect, "b", 1, "d")}, 10));
  EXPECT_EQ(m.suspicion("b")->confirmations, 1);
  ASSERT_TRUE(m.receive("e", Channel::kUdp, {rumour(MessageKind::kSuspect, "b", 1, "e")}, 20));
  EXPECT_EQ(m.suspicion("b")->deadline_ms, 4000u);
  m.tick(3999);
  EXPECT_EQ(m.member("b")->state, MemberState::kSuspect);
  m.tick(4000);
  EXPECT_EQ(m.member("b")->state, MemberState::kDead);
  EXPECT_EQ(m.stats().deaths_declared, 1u);
}

TEST(Memberlist, IndirectProbesThroughPeersSaveAMemberBehindABrokenLink) {
  Simulation s(small(4));
  ASSERT_TRUE(s.bootstrap(10'000));
  // Member 0 and member 3 cannot exchange datagrams directly (either way), nor TCP.
  s.set_link_filter(
      [](int from, int to, Channel) { return (from == 0 && to == 3) || (from == 3 && to == 0); });
  s.run_for(60'000);
  EXPECT_GT(s.member(0).stats().indirect_probes, 0u);
  EXPECT_EQ(s.stats().false_suspicions, 0u) << "acks came back through the relays";
  EXPECT_TRUE(s.all_see(3, MemberState::kAlive));
  EXPECT_TRUE(s.check());
}

TEST(Memberlist, TheTcpPingSavesAMemberWhoseDatagramsAreAllLost) {
  Simulation s(small(4));
  ASSERT_TRUE(s.bootstrap(10'000));
  // Nobody's datagrams reach member 3 (a firewall for UDP only); its own get out.
  s.set_link_filter([](int, int to, Channel c) { return to == 3 && c == Channel::kUdp; });
  s.run_for(60'000);
  EXPECT_GT(s.member(0).stats().tcp_pings, 0u);
  EXPECT_EQ(s.stats().false_suspicions, 0u);
  EXPECT_TRUE(s.all_see(3, MemberState::kAlive));
}

TEST(Memberlist, WithoutTheTcpPingSuchAMemberIsDeclaredDead) {
  SimOptions o = small(4);
  o.base.tcp_ping_fallback = false;
  o.base.reconnect_interval_ms = 0;
  Simulation s(o);
  ASSERT_TRUE(s.bootstrap(10'000));
  s.set_link_filter([](int, int to, Channel c) { return to == 3 && c == Channel::kUdp; });
  auto dead = s.run_until([&] { return s.all_see(3, MemberState::kDead); }, 120'000);
  EXPECT_TRUE(dead) << "the control case: the tests above must be able to fail";
}

TEST(Memberlist, NacksKeepAHealthyProberFromBlamingItself) {
  Simulation s(small(5));
  ASSERT_TRUE(s.bootstrap(10'000));
  s.stop(4);
  s.run_for(2'000);
  // Member 4 is down: relays answer with nacks, so probers' health stays good.
  int nacked = 0;
  for (int i = 0; i < 4; ++i) {
    nacked += s.member(i).stats().nacks_received > 0 ? 1 : 0;
    EXPECT_EQ(s.member(i).health_score(), 0) << "member " << i;
  }
  EXPECT_GT(nacked, 0);
}

TEST(Memberlist, AProberWhoseRepliesAreLostLowersItsOwnHealth) {
  Simulation s(small(5));
  ASSERT_TRUE(s.bootstrap(10'000));
  // Nothing reaches member 0 any more (its inbound link is broken): no acks, no nacks.
  s.set_link_filter([](int, int to, Channel) { return to == 0; });
  s.run_for(3'000);
  EXPECT_GT(s.member(0).health_score(), 0);
}

TEST(Memberlist, AGracefulLeaveIsLeftNotDead) {
  Simulation s(small(4));
  ASSERT_TRUE(s.bootstrap(10'000));
  s.leave(2);
  auto done = s.run_until([&] { return s.member(2).leave_broadcast_done(); }, 10'000, 10);
  ASSERT_TRUE(done);
  s.stop(2);
  auto left = s.run_until([&] { return s.all_see(2, MemberState::kLeft); }, 10'000, 10);
  ASSERT_TRUE(left);
  s.run_for(60'000);
  EXPECT_TRUE(s.all_see(2, MemberState::kLeft)) << "left stays left, never dead";
  EXPECT_EQ(s.stats().fail_events, 0u);
  EXPECT_TRUE(s.check());
}

TEST(Memberlist, NewMetaIsAnUpdateEverywhere) {
  Simulation s(small(4));
  ASSERT_TRUE(s.bootstrap(10'000));
  Incarnation before = s.member(1).incarnation();
  ASSERT_TRUE(s.member(1).set_meta("role=server", s.now_ms()));
  EXPECT_EQ(s.member(1).incarnation(), before + 1);
  auto seen = s.run_until(
      [&] {
        for (int i = 0; i < 4; ++i) {
          if (s.member(i).member(s.name(1))->meta != "role=server") return false;
        }
        return true;
      },
      10'000, 10);
  EXPECT_TRUE(seen);
  EXPECT_FALSE(s.member(1).set_meta(std::string(kMetaSizeMax + 1, 'x'), s.now_ms()));
}

TEST(Memberlist, BroadcastsArePiggybackedAtMostTheRetransmitLimit) {
  Memberlist m(lan_config("a", "a"), 0);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 1)}, 0));
  (void)m.take_ready();
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kSuspect, "c", 1, "x")}, 0));
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 2)}, 0));
  // Two live members besides us: limit = 4 * ceil(log10(3 + 1)) = 4.
  int carried = 0;
  for (SeqNo seq = 1; seq <= 20; ++seq) {
    ASSERT_TRUE(m.receive("b", Channel::kUdp, {Message{MessageKind::kPing, seq}}, seq));
    for (const Packet& p : m.take_ready().packets) {
      for (const Message& msg : p.messages) {
        carried += msg.kind == MessageKind::kAlive && msg.node == "b" ? 1 : 0;
      }
    }
  }
  EXPECT_EQ(carried, 4);
}

TEST(Memberlist, QueueDepthsByKindAndMembersByStateForTheStats) {
  Memberlist m(lan_config("a", "a"), 0);
  const std::size_t own = m.queued_broadcasts(MessageKind::kAlive);  // our own alive, if queued
  EXPECT_EQ(own, m.queued_broadcasts());
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 1), alive("c", 1), alive("d", 1)}, 0));
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kDead, "c", 1, "x")}, 0));
  ASSERT_TRUE(m.receive("d", Channel::kUdp, {rumour(MessageKind::kDead, "d", 1, "d")}, 0));
  ASSERT_TRUE(m.fire_event("deploy", "v1", 1));
  ASSERT_TRUE(m.query("q", "", 0, 0, 1));
  EXPECT_EQ(m.member_count(), 4u);
  EXPECT_EQ(m.count_in_state(MemberState::kAlive), 2u);
  EXPECT_EQ(m.count_in_state(MemberState::kDead), 1u);
  EXPECT_EQ(m.count_in_state(MemberState::kLeft), 1u);
  // One broadcast per member news (b alive, c dead, d left; the first alives were replaced)
  // besides our own, one event, one query: each kind counted apart, summing to the queue.
  const std::size_t membership = m.queued_broadcasts(MessageKind::kAlive) +
                                 m.queued_broadcasts(MessageKind::kSuspect) +
                                 m.queued_broadcasts(MessageKind::kDead);
  EXPECT_EQ(membership, own + 3);
  EXPECT_EQ(m.queued_broadcasts(MessageKind::kUserEvent), 1u);
  EXPECT_EQ(m.queued_broadcasts(MessageKind::kQuery), 1u);
  EXPECT_EQ(membership + 2, m.queued_broadcasts());
  // Sent to the retransmit limit, they leave the queue and the counts with it.
  for (SeqNo seq = 1; seq <= 40; ++seq) {
    ASSERT_TRUE(m.receive("b", Channel::kUdp, {Message{MessageKind::kPing, seq}}, 1 + seq));
    (void)m.take_ready();
  }
  EXPECT_EQ(m.queued_broadcasts(), 0u);
  EXPECT_EQ(m.queued_broadcasts(MessageKind::kUserEvent), 0u);
  EXPECT_EQ(m.queued_broadcasts(MessageKind::kDead), 0u);
}

TEST(Memberlist, MalformedMessagesAreRefusedWholeAndNothingIsApplied) {
  Memberlist m(lan_config("a", "a"), 0);
  Message bad = alive("", 1);
  EXPECT_FALSE(m.receive("b", Channel::kUdp, {alive("b", 1), bad}, 0));
  EXPECT_FALSE(m.member("b")) << "the good message of a bad packet is not applied either";
  Message pp;
  pp.kind = MessageKind::kPushPull;
  EXPECT_FALSE(m.receive("b", Channel::kUdp, {pp}, 0)) << "push-pull only over TCP";
  EXPECT_TRUE(m.receive("b", Channel::kTcp, {pp}, 0));
  EXPECT_FALSE(
      m.receive("b", Channel::kUdp, {alive("b", 1, std::string(kMetaSizeMax + 1, 'm'))}, 0));
  EXPECT_EQ(m.stats().rejected_messages, 3u);
}

TEST(Memberlist, APingForAnotherMemberIsNotAnswered) {
  Memberlist m(lan_config("a", "a"), 0);
  Message ping{MessageKind::kPing, 5};
  ping.node = "someone-else";
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {ping}, 0));
  (void)m.take_ready();
  ping.node = "a";
  ASSERT_TRUE(m.receive("b", Channel::kTcp, {ping}, 0));
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.packets.size(), 1u);
  EXPECT_EQ(rd.packets[0].channel, Channel::kTcp) << "a TCP ping is answered on TCP";
  EXPECT_EQ(rd.packets[0].messages[0].kind, MessageKind::kAck);
}

TEST(Memberlist, ProbesVisitEveryMemberOncePerRound) {
  Memberlist m(lan_config("a", "a"), 0);
  for (const char* n : {"b", "c", "d", "e"}) {
    ASSERT_TRUE(m.receive(n, Channel::kUdp, {alive(n, 1)}, 0));
  }
  (void)m.take_ready();
  std::map<std::string, int> probed;
  for (std::uint64_t t = 0; t < 8'000; t += 10) {
    m.tick(t);
    for (const Packet& p : m.take_ready().packets) {
      for (const Message& msg : p.messages) {
        if (msg.kind != MessageKind::kPing || p.channel != Channel::kUdp) continue;
        ++probed[msg.node];
        ASSERT_TRUE(m.receive(p.to, Channel::kUdp, {Message{MessageKind::kAck, msg.seq}}, t));
      }
    }
  }
  // Eight probe intervals, four members: each probed exactly twice (randomized round robin).
  ASSERT_EQ(probed.size(), 4u);
  for (const auto& [name, count] : probed) EXPECT_EQ(count, 2) << name;
}

TEST(Memberlist, AcksCarryOurCoordinate) {
  Memberlist m(lan_config("a", "a"), 0);
  Coordinate ours{{0.001, -0.002}, 0.4, 0.0001, 1e-5};
  ASSERT_TRUE(m.set_coordinate(ours));
  Coordinate broken = ours;
  broken.vec[0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(m.set_coordinate(broken)) << "refused, the previous one stays";
  Message ping{MessageKind::kPing, 5};
  ping.node = "a";
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {ping}, 0));
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.packets.size(), 1u);
  EXPECT_EQ(rd.packets[0].messages[0].kind, MessageKind::kAck);
  EXPECT_EQ(rd.packets[0].messages[0].coordinate, ours);
  // A TCP ping's ack is never an RTT sample: no coordinate (as memberlist's).
  ASSERT_TRUE(m.receive("b", Channel::kTcp, {ping}, 0));
  rd = m.take_ready();
  ASSERT_EQ(rd.packets.size(), 1u);
  EXPECT_FALSE(rd.packets[0].messages[0].coordinate.has_value());
  ASSERT_TRUE(m.set_coordinate(std::nullopt));
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {ping}, 0));
  rd = m.take_ready();
  ASSERT_EQ(rd.packets.size(), 1u);
  EXPECT_FALSE(rd.packets[0].messages[0].coordinate.has_value());
}

TEST(Memberlist, ADirectAckWithACoordinateIsAnRttSample) {
  Memberlist m(lan_config("a", "a"), 0);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 1)}, 0));
  (void)m.take_ready();
  const Coordinate theirs{{0.003, 0.0}, 0.2, 0.0, 1e-5};
  // Runs the core until it probes b, then answers after `delay_ms` with `ack`.
  std::uint64_t t = 0;
  auto probe_and_answer = [&](std::uint64_t delay_ms, std::optional<Coordinate> coordinate) {
    std::optional<SeqNo> seq;
    for (int i = 0; i < 500 && !seq; ++i, t += 10) {
      m.tick(t);
      for (const Packet& p : m.take_ready().packets) {
        for (const Message& msg : p.messages) {
          if (msg.kind == MessageKind::kPing && p.channel == Channel::kUdp) seq = msg.seq;
        }
      }
    }
    EXPECT_TRUE(seq.has_value());
    for (std::uint64_t end = t + delay_ms; t < end; t += 10) m.tick(t);
    Message ack{MessageKind::kAck, *seq};
    ack.coordinate = coordinate;
    EXPECT_TRUE(m.receive("b", Channel::kUdp, {ack}, t));
    return std::pair{*seq, m.take_ready()};
  };

  auto [seq, rd] = probe_and_answer(10, theirs);
  ASSERT_EQ(rd.ack_samples.size(), 1u);
  EXPECT_EQ(rd.ack_samples[0].node, "b");
  EXPECT_EQ(rd.ack_samples[0].seq, seq);
  EXPECT_EQ(rd.ack_samples[0].coordinate, theirs);
  // No coordinate, no sample; the probe succeeds all the same.
  EXPECT_TRUE(probe_and_answer(10, std::nullopt).second.ack_samples.empty());
  // Past the probe timeout (500 ms) the ack still saves b but is no RTT sample.
  EXPECT_TRUE(probe_and_answer(600, theirs).second.ack_samples.empty());
  EXPECT_EQ(m.stats().probe_failures, 0u);
  EXPECT_EQ(m.member("b")->state, MemberState::kAlive);
}

TEST(Config, ProfilesAreValidAndBadValuesAreErrors) {
  EXPECT_TRUE(validate(lan_config("a", "a:8301")));
  EXPECT_TRUE(validate(wan_config("a", "a:8302")));
  EXPECT_TRUE(validate(local_config("a", "a:8301")));
  Config c = lan_config("a", "a:8301");
  c.probe_timeout_ms = 2'000;
  EXPECT_FALSE(validate(c));
  EXPECT_FALSE(validate(lan_config("", "a:8301")));
  Config wan = wan_config("a", "a");
  EXPECT_EQ(wan.probe_interval_ms, 5'000u);
  EXPECT_EQ(wan.suspicion_mult, 6);
  EXPECT_EQ(wan.gossip_nodes, 4);
}

TEST(TransitionCheck, CatchesEachBrokenRule) {
  Transition t;
  t.name = "b";
  t.from_state = MemberState::kDead;
  t.from_incarnation = 4;
  t.to_state = MemberState::kAlive;
  t.to_incarnation = 4;
  EXPECT_NE(sim::check_transition("a", t, false), "") << "dead to alive at the same incarnation";
  t.to_incarnation = 5;
  EXPECT_EQ(sim::check_transition("a", t, false), "");
  t.from_state = MemberState::kSuspect;
  t.to_incarnation = 3;
  EXPECT_NE(sim::check_transition("a", t, false), "") << "incarnation going back";
  t.name = "a";
  t.from_state = MemberState::kAlive;
  t.to_state = MemberState::kDead;
  t.to_incarnation = 4;
  EXPECT_NE(sim::check_transition("a", t, false), "") << "a member marking itself dead";
  t.to_state = MemberState::kLeft;
  EXPECT_EQ(sim::check_transition("a", t, true), "");
}

// serf's force-leave (Memberlist::force_leave) and the receiving rule behind it: a leave in
// a failed member's name turns it left.

// Five members, member 4 crashed and declared dead by everyone.
void kill_last(Simulation& s) {
  ASSERT_TRUE(s.bootstrap(10'000));
  s.stop(4);
  ASSERT_TRUE(s.run_until([&] { return s.all_see(4, MemberState::kDead); }, 60'000));
}

TEST(ForceLeave, AFailedMemberBecomesLeftEverywhere) {
  Simulation s(small(5, 11));
  kill_last(s);
  auto state = s.member(0).force_leave(s.name(4), false, s.now_ms());
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(*state, MemberState::kLeft);
  EXPECT_EQ(s.member(0).member(s.name(4))->state, MemberState::kLeft) << "at once, here";
  auto left = s.run_until([&] { return s.all_see(4, MemberState::kLeft); }, 10'000, 10);
  ASSERT_TRUE(left) << "the leave reaches every member";
  // Left is final: the reconnect loop only tries failed members, and nothing turns it back.
  s.run_for(120'000);
  EXPECT_TRUE(s.all_see(4, MemberState::kLeft));
  EXPECT_TRUE(s.check());
}

TEST(ForceLeave, AnAliveMemberIsLeftAlone) {
  Simulation s(small(4));
  ASSERT_TRUE(s.bootstrap(10'000));
  const Incarnation before = s.member(0).member(s.name(2))->incarnation;
  auto state = s.member(0).force_leave(s.name(2), false, s.now_ms());
  ASSERT_TRUE(state);
  EXPECT_EQ(*state, MemberState::kAlive);
  s.run_for(10'000);
  EXPECT_TRUE(s.all_see(2, MemberState::kAlive));
  EXPECT_EQ(s.member(0).member(s.name(2))->incarnation, before) << "nothing was said about it";
  EXPECT_EQ(s.stats().fail_events, 0u);
  EXPECT_TRUE(s.check());
}

TEST(ForceLeave, UnknownNamesAndOurselvesAreRefused) {
  Memberlist m(lan_config("a", "a"), 0);
  auto unknown = m.force_leave("nobody", false, 1);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::Code::kNotFound);
  auto self = m.force_leave("a", true, 2);
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(m.member("a")->state, MemberState::kAlive);
}

TEST(ForceLeave, PruneForgetsTheMemberHereWhileOthersKeepItsTombstone) {
  Simulation s(small(5, 11));
  kill_last(s);
  auto state = s.member(0).force_leave(s.name(4), true, s.now_ms());
  ASSERT_TRUE(state);
  EXPECT_EQ(*state, MemberState::kLeft);
  EXPECT_FALSE(s.member(0).member(s.name(4))) << "pruned";
  EXPECT_EQ(s.member(0).member_count(), 4u);
  auto left = s.run_until(
      [&] {
        for (int i = 1; i < 4; ++i) {
          auto m = s.member(i).member(s.name(4));
          if (!m || m->state != MemberState::kLeft) return false;
        }
        return true;
      },
      10'000, 10);
  ASSERT_TRUE(left);
  // Push-pulls from members that still hold the tombstone do not bring it back.
  s.run_for(90'000);
  EXPECT_FALSE(s.member(0).member(s.name(4)));
  EXPECT_TRUE(s.check());
}

TEST(ForceLeave, ALeaveInAFailedMembersNameTurnsItLeft) {
  Memberlist m(lan_config("a", "a"), 0);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 3)}, 0));
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kDead, "b", 3, "c")}, 1));
  EXPECT_EQ(m.member("b")->state, MemberState::kDead);
  (void)m.take_ready();
  // An older leave is old news; one at the member's incarnation turns it left.
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kDead, "b", 2, "b")}, 2));
  EXPECT_EQ(m.member("b")->state, MemberState::kDead);
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kDead, "b", 3, "b")}, 3));
  EXPECT_EQ(m.member("b")->state, MemberState::kLeft);
  EXPECT_EQ(m.member("b")->incarnation, 3u);
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.events.size(), 1u);
  EXPECT_EQ(rd.events[0].kind, EventKind::kLeave);
  // A failure verdict never turns left back into failed.
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {rumour(MessageKind::kDead, "b", 3, "c")}, 4));
  EXPECT_EQ(m.member("b")->state, MemberState::kLeft);
}

TEST(ForceLeave, AMemberForcedOutWhileAliveRefutesIt) {
  // A member partitioned from the one that forced it out hears of its "leave" and refutes it
  // with a higher incarnation, as serf's members refute a stale leave intent.
  Memberlist m(lan_config("a", "a"), 0);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {alive("b", 1)}, 0));
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {rumour(MessageKind::kDead, "a", 1, "a")}, 1));
  EXPECT_EQ(m.member("a")->state, MemberState::kAlive);
  EXPECT_EQ(m.incarnation(), 2u);
}

}  // namespace
}  // namespace pc::gossip
