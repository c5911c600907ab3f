#include "daemon/autopilot.h"

#include <gtest/gtest.h>

namespace pc::daemon {
namespace {

using std::chrono::seconds;

constexpr core::Duration kDead = kDeadServerAfter;
constexpr core::Duration kAlive = std::chrono::milliseconds(300);

// Voters 1..n; server 1 leads; `dead` lists the ids not heard from for kDeadServerAfter.
std::vector<ServerContact> voters(int n, std::vector<std::uint64_t> dead) {
  std::vector<ServerContact> out;
  for (int i = 1; i <= n; ++i) {
    const auto id = static_cast<std::uint64_t>(i);
    const bool failed = std::find(dead.begin(), dead.end(), id) != dead.end();
    out.push_back(
        ServerContact{id, "10.0.0." + std::to_string(i) + ":8300", true, failed ? kDead : kAlive});
  }
  return out;
}

TEST(DeadServers, RemovesOneFailedFollowerOfThree) {
  auto d = dead_servers_to_remove(voters(3, {3}), 1, DeadServerPolicy{});
  EXPECT_EQ(d.remove, std::vector<std::uint64_t>{3});
  EXPECT_EQ(d.refusal, "");
}

TEST(DeadServers, NothingFailedNothingRemoved) {
  auto d = dead_servers_to_remove(voters(5, {}), 1, DeadServerPolicy{});
  EXPECT_TRUE(d.remove.empty());
  EXPECT_EQ(d.refusal, "");
}

TEST(DeadServers, ShortSilenceIsNotFailure) {
  auto servers = voters(3, {});
  servers[2].since_contact = kDead - std::chrono::milliseconds(1);
  EXPECT_TRUE(dead_servers_to_remove(servers, 1, DeadServerPolicy{}).remove.empty());
  servers[2].since_contact = kDead;
  EXPECT_EQ(dead_servers_to_remove(servers, 1, DeadServerPolicy{}).remove,
            std::vector<std::uint64_t>{3});
}

TEST(DeadServers, KeepsAMajorityOfFailedVoters) {
  // Two of three: the survivor cannot have a quorum; shrinking to itself would be unsafe.
  auto d = dead_servers_to_remove(voters(3, {2, 3}), 1, DeadServerPolicy{});
  EXPECT_TRUE(d.remove.empty());
  EXPECT_EQ(d.refusal,
            "keeping 2 of 3 failed voters: removing that many is not safe, they are not a "
            "minority");
  // Three of five likewise; two of five are a minority and both go.
  EXPECT_TRUE(dead_servers_to_remove(voters(5, {3, 4, 5}), 1, DeadServerPolicy{}).remove.empty());
  EXPECT_EQ(dead_servers_to_remove(voters(5, {4, 5}), 1, DeadServerPolicy{}).remove,
            (std::vector<std::uint64_t>{4, 5}));
}

TEST(DeadServers, HalfOfAnEvenConfigurationIsTooMany) {
  // Four voters survive the loss of one: (4 - 1) / 2.
  EXPECT_EQ(dead_servers_to_remove(voters(4, {4}), 1, DeadServerPolicy{}).remove,
            std::vector<std::uint64_t>{4});
  EXPECT_TRUE(dead_servers_to_remove(voters(4, {3, 4}), 1, DeadServerPolicy{}).remove.empty());
  // Two voters: neither may go (the other's silence is already a lost quorum).
  EXPECT_TRUE(dead_servers_to_remove(voters(2, {2}), 1, DeadServerPolicy{}).remove.empty());
}

TEST(DeadServers, NeverRemovesTheLeader) {
  // The leader's own entry may look silent (it never hears from itself); it stays.
  auto servers = voters(3, {1});
  auto d = dead_servers_to_remove(servers, 1, DeadServerPolicy{});
  EXPECT_TRUE(d.remove.empty());
  EXPECT_EQ(d.refusal, "");
  // Asked as leader 2, server 1 is just a failed follower.
  EXPECT_EQ(dead_servers_to_remove(servers, 2, DeadServerPolicy{}).remove,
            std::vector<std::uint64_t>{1});
}

TEST(DeadServers, RespectsMinQuorum) {
  DeadServerPolicy policy;
  policy.min_quorum = 3;
  auto d = dead_servers_to_remove(voters(3, {3}), 1, policy);
  EXPECT_TRUE(d.remove.empty());
  EXPECT_EQ(d.refusal,
            "keeping 1 of 3 failed voters: removing them would leave 2, below min_quorum 3");
  // Five voters, two failed, three remain: exactly the minimum is allowed.
  EXPECT_EQ(dead_servers_to_remove(voters(5, {2, 3}), 1, policy).remove,
            (std::vector<std::uint64_t>{2, 3}));
  policy.min_quorum = 4;
  EXPECT_TRUE(dead_servers_to_remove(voters(5, {2, 3}), 1, policy).remove.empty());
}

TEST(DeadServers, DisabledRemovesNothing) {
  DeadServerPolicy policy;
  policy.cleanup_dead_servers = false;
  auto servers = voters(3, {3});
  servers.push_back(ServerContact{9, "10.0.0.9:8300", false, kDead});
  auto d = dead_servers_to_remove(servers, 1, policy);
  EXPECT_TRUE(d.remove.empty());
  EXPECT_EQ(d.refusal, "");
}

TEST(DeadServers, FailedNonVotersGoRegardlessOfQuorum) {
  // Two failed voters of three are kept, but a failed non-voter counts for no quorum.
  auto servers = voters(3, {2, 3});
  servers.push_back(ServerContact{9, "10.0.0.9:8300", false, kDead});
  auto d = dead_servers_to_remove(servers, 1, DeadServerPolicy{});
  EXPECT_EQ(d.remove, std::vector<std::uint64_t>{9});
  EXPECT_FALSE(d.refusal.empty());
  // With one failed voter too, the non-voter comes first.
  servers = voters(3, {3});
  servers.push_back(ServerContact{9, "10.0.0.9:8300", false, kDead});
  EXPECT_EQ(dead_servers_to_remove(servers, 1, DeadServerPolicy{}).remove,
            (std::vector<std::uint64_t>{9, 3}));
}

TEST(ContactTracker, CountsFromTheLastActiveSample) {
  ContactTracker t;
  const core::MonoTime t0{};
  t.observe(2, false, t0);  // first seen: counts as contact now
  EXPECT_EQ(t.since_contact(2, t0 + seconds(5)), seconds(5));
  t.observe(2, true, t0 + seconds(6));
  t.observe(2, false, t0 + seconds(7));
  EXPECT_EQ(t.since_contact(2, t0 + seconds(20)), seconds(14));
  EXPECT_EQ(t.since_contact(3, t0 + seconds(20)), core::Duration(0));
}

TEST(ContactTracker, ForgetsRemovedServers) {
  ContactTracker t;
  const core::MonoTime t0{};
  t.observe(2, false, t0);
  t.observe(3, false, t0);
  t.retain_only({3});
  t.observe(2, false, t0 + seconds(30));  // back again: a fresh start
  EXPECT_EQ(t.since_contact(2, t0 + seconds(31)), seconds(1));
  EXPECT_EQ(t.since_contact(3, t0 + seconds(31)), seconds(31));
  t.clear();
  EXPECT_EQ(t.since_contact(3, t0 + seconds(31)), core::Duration(0));
}

}  // namespace
}  // namespace pc::daemon
