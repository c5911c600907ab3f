// serf's force-leave on the core: a failed member turned left everywhere, an alive one left
// alone, prune forgetting it locally, and the receiving rule behind it (a leave in a failed
// member's name turns it left).
#include <gtest/gtest.h>

#include "gossip/core/memberlist.h"
#include "gossip/core/tests/simulation.h"

namespace pc::gossip {
namespace {

using sim::SimOptions;
using sim::Simulation;

SimOptions small(int members, std::uint64_t seed = 11) {
  SimOptions o;
  o.seed = seed;
  o.members = members;
  o.latency_min_ms = 1;
  o.latency_max_ms = 5;
  return o;
}

Message state(MessageKind kind, const std::string& node, Incarnation inc, const std::string& from) {
  Message m;
  m.kind = kind;
  m.node = node;
  m.addr = node;
  m.incarnation = inc;
  m.from = from;
  return m;
}

// Five members, member 4 crashed and declared dead by everyone.
void kill_last(Simulation& s) {
  ASSERT_TRUE(s.bootstrap(10'000));
  s.stop(4);
  ASSERT_TRUE(s.run_until([&] { return s.all_see(4, MemberState::kDead); }, 60'000));
}

TEST(ForceLeave, AFailedMemberBecomesLeftEverywhere) {
  Simulation s(small(5));
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
  Simulation s(small(5));
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
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {state(MessageKind::kAlive, "b", 3, "")}, 0));
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {state(MessageKind::kDead, "b", 3, "c")}, 1));
  EXPECT_EQ(m.member("b")->state, MemberState::kDead);
  (void)m.take_ready();
  // An older leave is old news; one at the member's incarnation turns it left.
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {state(MessageKind::kDead, "b", 2, "b")}, 2));
  EXPECT_EQ(m.member("b")->state, MemberState::kDead);
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {state(MessageKind::kDead, "b", 3, "b")}, 3));
  EXPECT_EQ(m.member("b")->state, MemberState::kLeft);
  EXPECT_EQ(m.member("b")->incarnation, 3u);
  Ready rd = m.take_ready();
  ASSERT_EQ(rd.events.size(), 1u);
  EXPECT_EQ(rd.events[0].kind, EventKind::kLeave);
  // A failure verdict never turns left back into failed.
  ASSERT_TRUE(m.receive("c", Channel::kUdp, {state(MessageKind::kDead, "b", 3, "c")}, 4));
  EXPECT_EQ(m.member("b")->state, MemberState::kLeft);
}

TEST(ForceLeave, AMemberForcedOutWhileAliveRefutesIt) {
  // A member partitioned from the one that forced it out hears of its "leave" and refutes it
  // with a higher incarnation, as serf's members refute a stale leave intent.
  Memberlist m(lan_config("a", "a"), 0);
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {state(MessageKind::kAlive, "b", 1, "")}, 0));
  ASSERT_TRUE(m.receive("b", Channel::kUdp, {state(MessageKind::kDead, "a", 1, "a")}, 1));
  EXPECT_EQ(m.member("a")->state, MemberState::kAlive);
  EXPECT_EQ(m.incarnation(), 2u);
}

}  // namespace
}  // namespace pc::gossip
