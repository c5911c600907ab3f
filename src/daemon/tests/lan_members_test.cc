// The LAN members as serf and reconcile see them (daemon/lan_members.h), and the gossip core's
// configuration built from gossip_lan.
#include "daemon/lan_members.h"

#include <gtest/gtest.h>

#include "gossip/tags.h"

namespace pc::daemon {
namespace {

gossip::MemberInfo member(std::string name, std::string addr, gossip::MemberState state,
                          const gossip::Tags& tags) {
  gossip::MemberInfo m;
  m.name = std::move(name);
  m.addr = std::move(addr);
  m.state = state;
  m.meta = *gossip::encode_tags(tags);
  return m;
}

TEST(LanMembers, SplitsHostAndPort) {
  EXPECT_EQ(split_host_port("10.0.0.1:8301"), std::make_pair(std::string("10.0.0.1"), 8301));
  EXPECT_EQ(split_host_port("[::1]:18301"), std::make_pair(std::string("::1"), 18301));
  EXPECT_EQ(split_host_port("10.0.0.1"), std::make_pair(std::string("10.0.0.1"), 0));
  EXPECT_EQ(split_host_port("10.0.0.1:http"), std::make_pair(std::string("10.0.0.1"), 0));
  EXPECT_EQ(split_host_port("10.0.0.1:70000"), std::make_pair(std::string("10.0.0.1"), 0));
}

TEST(LanMembers, SerfStatusesAndTags) {
  const gossip::Tags tags = gossip::consul_lan_tags({.server = true,
                                                     .datacenter = "dc1",
                                                     .node_id = "id-1",
                                                     .build = "1.0",
                                                     .server_port = 8300});
  struct Case {
    gossip::MemberState state;
    int status;
    MemberHealth health;
  };
  for (const Case& c : {Case{gossip::MemberState::kAlive, 1, MemberHealth::kAlive},
                        Case{gossip::MemberState::kSuspect, 1, MemberHealth::kAlive},
                        Case{gossip::MemberState::kDead, 4, MemberHealth::kFailed},
                        Case{gossip::MemberState::kLeft, 3, MemberHealth::kLeft}}) {
    const gossip::MemberInfo info = member("s1", "10.0.0.1:8301", c.state, tags);
    endpoints::LanMember m = lan_member_of(info);
    EXPECT_EQ(m.name, "s1");
    EXPECT_EQ(m.addr, "10.0.0.1");
    EXPECT_EQ(m.port, 8301);
    EXPECT_EQ(m.status, c.status);
    EXPECT_EQ(m.tags.at("role"), "consul");
    EXPECT_EQ(m.tags.at("port"), "8300");
    ReconcileMember r = reconcile_member_of(info);
    EXPECT_EQ(r.health, c.health);
    EXPECT_EQ(r.node_id, "id-1");
    EXPECT_EQ(r.datacenter, "dc1");
    EXPECT_EQ(r.address, "10.0.0.1");
    EXPECT_FALSE(r.in_raft_configuration);
    EXPECT_TRUE(r.server);
    EXPECT_EQ(r.server_port, 8300);
    EXPECT_EQ(r.build, "1.0");
  }
}

TEST(LanMembers, MetaThatIsNotTagsShowsNoTags) {
  gossip::MemberInfo info;
  info.name = "odd";
  info.addr = "10.0.0.9:8301";
  info.meta = "not tags";
  EXPECT_TRUE(lan_member_of(info).tags.empty());
  EXPECT_TRUE(reconcile_member_of(info).datacenter.empty());
  EXPECT_FALSE(reconcile_member_of(info).server);
  EXPECT_EQ(reconcile_member_of(info).server_port, 0);
}

TEST(LanMembers, CoreConfigFromGossipLan) {
  const gossip::Config defaults = lan_core_config("n1", core::GossipLanConfig{});
  const gossip::Config lan = gossip::lan_config("n1", "");
  EXPECT_EQ(defaults.probe_interval_ms, lan.probe_interval_ms);
  EXPECT_EQ(defaults.probe_timeout_ms, lan.probe_timeout_ms);
  EXPECT_EQ(defaults.gossip_interval_ms, lan.gossip_interval_ms);
  EXPECT_EQ(defaults.suspicion_mult, lan.suspicion_mult);

  core::GossipLanConfig fast;
  fast.gossip_nodes = 2;
  fast.gossip_interval = "50ms";
  fast.probe_interval = "200ms";
  fast.probe_timeout = "100ms";
  fast.retransmit_mult = 3;
  fast.suspicion_mult = 2;
  fast.reconnect_timeout = "3s";
  const gossip::Config c = lan_core_config("n1", fast);
  EXPECT_EQ(c.name, "n1");
  EXPECT_EQ(c.gossip_nodes, 2);
  EXPECT_EQ(c.gossip_interval_ms, 50u);
  EXPECT_EQ(c.probe_interval_ms, 200u);
  EXPECT_EQ(c.probe_timeout_ms, 100u);
  EXPECT_EQ(c.retransmit_mult, 3);
  EXPECT_EQ(c.suspicion_mult, 2);
  EXPECT_EQ(c.reconnect_timeout_ms, 3000u);
  EXPECT_EQ(defaults.reconnect_timeout_ms, lan.reconnect_timeout_ms);
}

}  // namespace
}  // namespace pc::daemon
