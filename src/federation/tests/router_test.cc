// The WAN router's view of the pool (federation/router.h): which members are servers of
// which datacenter, and the order calls try them in.
#include "federation/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace pc::federation {
namespace {

gossip::MemberInfo member(std::string name, std::string addr, const gossip::Tags& tags,
                          gossip::MemberState state = gossip::MemberState::kAlive) {
  gossip::MemberInfo m;
  m.name = std::move(name);
  m.addr = std::move(addr);
  m.state = state;
  m.meta = *gossip::encode_tags(tags);
  return m;
}

gossip::Tags server(const std::string& dc, const std::string& port) {
  return {{"role", "consul"}, {"dc", dc}, {"port", port}, {"id", "x"}};
}

TEST(Router, GroupsAliveServersByDatacenter) {
  std::vector<gossip::MemberInfo> members = {
      member("s2.dc2", "10.0.2.2:8302", server("dc2", "8300")),
      member("s1.dc1", "10.0.1.1:8302", server("dc1", "8300")),
      member("s1.dc2", "10.0.2.1:8302", server("dc2", "9300")),
      member("s3.dc2", "10.0.2.3:8302", server("dc2", "8300"), gossip::MemberState::kSuspect),
  };
  DcServers got = servers_by_datacenter(members);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["dc1"], std::vector<std::string>{"10.0.1.1:8300"});
  // The member's IP with its "port" tag, sorted; a suspect server is still worth calling.
  EXPECT_EQ(got["dc2"],
            (std::vector<std::string>{"10.0.2.1:9300", "10.0.2.2:8300", "10.0.2.3:8300"}));
}

TEST(Router, SkipsFailedLeftAndNonServers) {
  std::vector<gossip::MemberInfo> members = {
      member("dead.dc2", "10.0.2.1:8302", server("dc2", "8300"), gossip::MemberState::kDead),
      member("left.dc2", "10.0.2.2:8302", server("dc2", "8300"), gossip::MemberState::kLeft),
      member("client", "10.0.2.3:8301", {{"role", "node"}, {"dc", "dc2"}, {"port", "8300"}}),
      member("noport.dc2", "10.0.2.4:8302", {{"role", "consul"}, {"dc", "dc2"}}),
      member("badport.dc2", "10.0.2.5:8302", server("dc2", "70000")),
      member("nodc", "10.0.2.6:8302", {{"role", "consul"}, {"port", "8300"}}),
  };
  gossip::MemberInfo garbage;
  garbage.name = "garbage";
  garbage.addr = "10.0.2.7:8302";
  garbage.meta = "\xff\x05";  // tag bytes cut short
  members.push_back(garbage);
  EXPECT_TRUE(servers_by_datacenter(members).empty());
  // The failed ones still make dc2 a known datacenter; the non-servers do not.
  EXPECT_EQ(datacenters_of(members), std::vector<std::string>{"dc2"});
}

TEST(Router, DatacenterOfAnRpcAddress) {
  std::vector<gossip::MemberInfo> members = {
      member("s1.dc1", "10.0.1.1:8302", server("dc1", "8300")),
      member("s1.dc2", "10.0.2.1:8302", server("dc2", "8300"), gossip::MemberState::kDead),
  };
  EXPECT_EQ(datacenter_of(members, "10.0.1.1:8300"), "dc1");
  EXPECT_EQ(datacenter_of(members, "10.0.2.1:8300"), "dc2");
  EXPECT_EQ(datacenter_of(members, "10.0.2.1:8302"), "");  // the gossip port is not RPC
}

TEST(Router, Ipv6Addresses) {
  auto got = server_member_of(member("s.dc2", "[fd00::2]:8302", server("dc2", "8300")));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->rpc_address, "[fd00::2]:8300");
  EXPECT_EQ(got->datacenter, "dc2");
  EXPECT_EQ(got->name, "s.dc2");
}

TEST(Router, AttemptOrderIsAPermutationThatVaries) {
  const std::vector<std::string> servers = {"a:1", "b:1", "c:1", "d:1"};
  core::SystemRand rand(7);
  std::set<std::string> firsts;
  for (int i = 0; i < 64; ++i) {
    auto order = attempt_order(servers, rand);
    std::vector<std::string> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, servers);
    firsts.insert(order.front());
  }
  // Load spreads: every server comes first sometimes.
  EXPECT_EQ(firsts.size(), servers.size());
  EXPECT_TRUE(attempt_order({}, rand).empty());
}

}  // namespace
}  // namespace pc::federation
