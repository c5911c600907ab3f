// The WAN pool's pure parts (daemon/wan_members.h): names, join addresses, the core's
// configuration from gossip_wan, and the datacenters /v1/catalog/datacenters lists.
#include "daemon/wan_members.h"

#include <gtest/gtest.h>

#include "gossip/tags.h"

namespace pc::daemon {
namespace {

gossip::MemberInfo server(const std::string& node, const std::string& dc,
                          gossip::MemberState state = gossip::MemberState::kAlive) {
  gossip::MemberInfo m;
  m.name = wan_member_name(node, dc);
  m.addr = "10.0.0.1:8302";
  m.state = state;
  m.meta = *gossip::encode_tags(gossip::consul_lan_tags(
      {.server = true, .datacenter = dc, .node_id = "id-" + node, .server_port = 8300}));
  return m;
}

TEST(WanMembers, NamesAreNodeDotDatacenter) {
  EXPECT_EQ(wan_member_name("s1", "dc1"), "s1.dc1");
  EXPECT_EQ(wan_name_for("s1", "dc1"), "s1.dc1");
  EXPECT_EQ(wan_name_for("s1.dc1", "dc1"), "s1.dc1") << "already a WAN name";
  EXPECT_EQ(wan_name_for("s1.dc2", "dc1"), "s1.dc2.dc1") << "only the local suffix counts";
  EXPECT_EQ(wan_name_for(".dc1", "dc1"), ".dc1.dc1");
}

TEST(WanMembers, CoreConfigIsMemberlistsWanProfileWithGossipWan) {
  core::AgentConfig defaults;
  gossip::Config c = wan_core_config("s1.dc1", defaults.gossip_wan);
  const gossip::Config want = gossip::wan_config("s1.dc1", "");
  EXPECT_EQ(c.name, "s1.dc1");
  EXPECT_EQ(c.probe_interval_ms, want.probe_interval_ms);
  EXPECT_EQ(c.probe_timeout_ms, want.probe_timeout_ms);
  EXPECT_EQ(c.suspicion_mult, want.suspicion_mult);
  EXPECT_EQ(c.gossip_nodes, want.gossip_nodes);
  EXPECT_EQ(c.gossip_interval_ms, want.gossip_interval_ms);
  EXPECT_EQ(c.push_pull_interval_ms, want.push_pull_interval_ms);
  EXPECT_EQ(c.gossip_to_the_dead_ms, want.gossip_to_the_dead_ms);
  core::GossipLanConfig fast{3, "100ms", "400ms", "200ms", 3, 3};
  gossip::Config f = wan_core_config("s1.dc1", fast);
  EXPECT_EQ(f.probe_interval_ms, 400u);
  EXPECT_EQ(f.probe_timeout_ms, 200u);
  EXPECT_EQ(f.suspicion_mult, 3);
  EXPECT_EQ(f.push_pull_interval_ms, want.push_pull_interval_ms) << "not configurable";
}

TEST(WanMembers, DatacentersLocalFirstThenByName) {
  EXPECT_EQ(known_datacenters("dc2", {}), std::vector<std::string>{"dc2"});
  std::vector<gossip::MemberInfo> members{server("a", "dc3"),
                                          server("b", "dc1"),
                                          server("c", "dc2"),
                                          server("d", "dc1"),
                                          server("e", "dc9", gossip::MemberState::kLeft),
                                          server("f", "dc4", gossip::MemberState::kDead)};
  gossip::MemberInfo garbage;
  garbage.name = "x.dc7";
  garbage.meta = "not tags";
  members.push_back(garbage);
  EXPECT_EQ(known_datacenters("dc2", members),
            (std::vector<std::string>{"dc2", "dc1", "dc3", "dc4"}))
      << "left members name no datacenter; failed ones still do; bad meta is skipped";
}

TEST(WanMembers, DatacentersByRttWhenTheHookKnowsIt) {
  std::vector<gossip::MemberInfo> members{server("a", "dc3"), server("b", "dc1"),
                                          server("c", "dc4")};
  DatacenterRtt rtt = [](const std::string& dc) -> std::optional<double> {
    if (dc == "dc2") return 0.0001;
    if (dc == "dc3") return 0.020;
    if (dc == "dc1") return 0.080;
    return std::nullopt;
  };
  EXPECT_EQ(known_datacenters("dc2", members, rtt),
            (std::vector<std::string>{"dc2", "dc3", "dc1", "dc4"}))
      << "nearest first, unknown last";
}

// /v1/catalog/datacenters in a federation of four regions whose names sort one way and whose
// round trips another: the local one first, then by RTT, never by name; equal RTTs keep the
// name order, and a region not yet measured goes last.
TEST(WanMembers, DatacentersByRttNotByName) {
  std::vector<gossip::MemberInfo> members{
      server("w1", "us-west-2"), server("e1", "us-east-1"),  server("e2", "us-east-1"),
      server("u1", "eu-west-1"), server("a1", "ap-south-1"), server("c1", "ca-central-1"),
      server("s1", "sa-east-1"), server("z1", "af-south-1"),
  };
  DatacenterRtt rtt = [](const std::string& dc) -> std::optional<double> {
    if (dc == "us-west-2") return 0.0;  // local
    if (dc == "us-east-1") return 0.070;
    if (dc == "eu-west-1") return 0.150;
    if (dc == "ap-south-1") return 0.040;
    if (dc == "ca-central-1") return 0.070;  // ties with us-east-1
    if (dc == "sa-east-1") return 0.110;
    return std::nullopt;  // af-south-1: no coordinate yet
  };
  EXPECT_EQ(known_datacenters("us-west-2", members, rtt),
            (std::vector<std::string>{"us-west-2", "ap-south-1", "ca-central-1", "us-east-1",
                                      "sa-east-1", "eu-west-1", "af-south-1"}));
  // Without the hook (no coordinates at all), the local one and then the names.
  EXPECT_EQ(known_datacenters("us-west-2", members, {}),
            (std::vector<std::string>{"us-west-2", "af-south-1", "ap-south-1", "ca-central-1",
                                      "eu-west-1", "sa-east-1", "us-east-1"}));
}

}  // namespace

namespace {

gossip::MemberInfo lan_member(const std::string& name, const std::string& addr,
                              const gossip::Tags& tags,
                              gossip::MemberState state = gossip::MemberState::kAlive) {
  gossip::MemberInfo m;
  m.name = name;
  m.addr = addr;
  m.meta = *gossip::encode_tags(tags);
  m.state = state;
  return m;
}

}  // namespace

TEST(WanMembers, FloodJoinTargetsAreLocalServersMissingFromTheWan) {
  const gossip::Tags server{{"role", "consul"}, {"dc", "dc1"}, {"wan_join_port", "18302"}};
  gossip::Tags other_dc = server;
  other_dc["dc"] = "dc2";
  gossip::Tags no_port = server;
  no_port.erase("wan_join_port");
  gossip::Tags bad_port = server;
  bad_port["wan_join_port"] = "99999";
  const gossip::Tags client{{"role", "node"}, {"dc", "dc1"}, {"wan_join_port", "18302"}};
  const std::vector<gossip::MemberInfo> lan = {
      lan_member("s1", "10.0.0.1:8301", server),
      lan_member("s2", "10.0.0.2:8301", server),
      lan_member("s3", "[::1]:8301", server),
      lan_member("s4", "10.0.0.4:8301", server, gossip::MemberState::kDead),
      lan_member("s5", "10.0.0.5:8301", other_dc),
      lan_member("s6", "10.0.0.6:8301", no_port),
      lan_member("s7", "10.0.0.7:8301", bad_port),
      lan_member("c1", "10.0.0.8:8301", client),
  };
  const std::vector<gossip::MemberInfo> wan = {lan_member("s1.dc1", "10.0.0.1:18302", server)};
  EXPECT_EQ(flood_join_targets(lan, wan, "dc1"),
            (std::vector<std::string>{"10.0.0.2:18302", "[::1]:18302"}));
  EXPECT_TRUE(flood_join_targets(lan, wan, "dc3").empty());
}

}  // namespace pc::daemon
