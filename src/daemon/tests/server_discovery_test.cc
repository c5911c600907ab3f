// The servers an agent reads from its LAN pool and the bootstrap-expect decision
// (daemon/server_discovery.h): Consul's IsConsulServer filter and maybeBootstrap's rules.
#include "daemon/server_discovery.h"

#include <gtest/gtest.h>

#include "gossip/tags.h"

namespace pc::daemon {
namespace {

constexpr const char* kId1 = "11111111-0000-0000-0000-000000000001";
constexpr const char* kId2 = "22222222-0000-0000-0000-000000000002";
constexpr const char* kId3 = "33333333-0000-0000-0000-000000000003";

gossip::MemberInfo member(std::string name, std::string addr, const gossip::Tags& tags,
                          gossip::MemberState state = gossip::MemberState::kAlive) {
  gossip::MemberInfo m;
  m.name = std::move(name);
  m.addr = std::move(addr);
  m.state = state;
  m.meta = *gossip::encode_tags(tags);
  return m;
}

gossip::Tags server_tags(const char* id, std::uint16_t port, int expect = 3,
                         const char* dc = "dc1") {
  return gossip::consul_lan_tags({.server = true,
                                  .datacenter = dc,
                                  .node_id = id,
                                  .build = "1.0",
                                  .server_port = port,
                                  .bootstrap_expect = expect});
}

TEST(ServerDiscovery, DefaultPorts) {
  EXPECT_EQ(with_default_port("10.0.0.1", kDefaultSerfLanPort), "10.0.0.1:8301");
  EXPECT_EQ(with_default_port("10.0.0.1:9000", kDefaultSerfLanPort), "10.0.0.1:9000");
  EXPECT_EQ(with_default_port("::1", kDefaultServerPort), "[::1]:8300");
  EXPECT_EQ(with_default_port("[::1]:18301", kDefaultSerfLanPort), "[::1]:18301");
  // Not an IP address: left for the caller to resolve or refuse.
  EXPECT_EQ(with_default_port("consul.example", kDefaultSerfLanPort), "consul.example");
}

TEST(ServerDiscovery, RaftIdIsTheFirst64BitsOfTheNodeId) {
  EXPECT_EQ(raft_id_of(kId1), 0x1111111100000000ULL);
  EXPECT_EQ(raft_id_of("00000000-0000-0000-0000-000000000000"), 1u);  // never 0
}

TEST(ServerDiscovery, OnlyAliveServersOfTheDatacenter) {
  const std::vector<gossip::MemberInfo> members = {
      member("s2", "10.0.0.2:8301", server_tags(kId2, 8300)),
      member("s1", "10.0.0.1:8301", server_tags(kId1, 9300)),
      // A client agent: role "node".
      member("c1", "10.0.0.9:8301",
             gossip::consul_lan_tags({.server = false, .datacenter = "dc1", .node_id = kId3})),
      // A server of another datacenter.
      member("w1", "10.1.0.1:8301", server_tags(kId3, 8300, 3, "dc2")),
      // Failed and left servers are not used.
      member("s4", "10.0.0.4:8301", server_tags(kId3, 8300), gossip::MemberState::kDead),
      member("s5", "10.0.0.5:8301", server_tags(kId3, 8300), gossip::MemberState::kLeft),
      // A suspect one still counts as alive, as serf says.
      member("s3", "[fd00::3]:8301", server_tags(kId3, 8300), gossip::MemberState::kSuspect),
      // No usable id or port, or meta that is not tags: not a server to talk to.
      member("bad-id", "10.0.0.6:8301", server_tags("nope", 8300)),
      member("no-port", "10.0.0.7:8301",
             gossip::Tags{{"role", "consul"}, {"dc", "dc1"}, {"id", kId1}}),
  };
  gossip::MemberInfo garbage;
  garbage.name = "garbage";
  garbage.addr = "10.0.0.8:8301";
  garbage.meta = "\x01\x02";
  std::vector<gossip::MemberInfo> all = members;
  all.push_back(garbage);

  const std::vector<PoolServer> servers = servers_in_pool(all, "dc1");
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[0], (PoolServer{kId1, "s1", "10.0.0.1:9300", 3, false}));
  EXPECT_EQ(servers[1], (PoolServer{kId2, "s2", "10.0.0.2:8300", 3, false}));
  EXPECT_EQ(servers[2], (PoolServer{kId3, "s3", "[fd00::3]:8300", 3, false}));
  EXPECT_TRUE(servers_in_pool(all, "dc3").empty());
}

TEST(ServerDiscovery, BootstrapsOnceExpectServersAreSeen) {
  const std::uint64_t self = raft_id_of(kId1);
  std::vector<PoolServer> servers = {{kId1, "s1", "10.0.0.1:8300", 3, false},
                                     {kId2, "s2", "10.0.0.2:8300", 3, false}};
  BootstrapPlan plan = plan_bootstrap(servers, 3, self, "10.0.0.1:8300");
  EXPECT_FALSE(plan.ready);
  EXPECT_EQ(plan.conflict, "");
  EXPECT_EQ(plan.voters.size(), 2u);

  servers.push_back({kId3, "s3", "10.0.0.3:8300", 0, false});  // no expect tag: counted
  plan = plan_bootstrap(servers, 3, self, "10.0.0.1:8300");
  EXPECT_TRUE(plan.ready);
  EXPECT_EQ(plan.voters,
            (std::map<std::uint64_t, std::string>{{raft_id_of(kId1), "10.0.0.1:8300"},
                                                  {raft_id_of(kId2), "10.0.0.2:8300"},
                                                  {raft_id_of(kId3), "10.0.0.3:8300"}}));
}

TEST(ServerDiscovery, SelfCountsWithTheAddressItBound) {
  // Before its tags carry the RPC port, this server's own member says port 0 or another
  // port: the plan uses the address the server knows.
  const std::vector<PoolServer> servers = {{kId1, "s1", "10.0.0.1:1", 1, false}};
  const BootstrapPlan plan = plan_bootstrap(servers, 1, raft_id_of(kId1), "10.0.0.1:8300");
  EXPECT_TRUE(plan.ready);
  EXPECT_EQ(plan.voters.at(raft_id_of(kId1)), "10.0.0.1:8300");
}

TEST(ServerDiscovery, ExpectMismatchBlocksBootstrap) {
  const std::vector<PoolServer> servers = {{kId1, "s1", "10.0.0.1:8300", 3, false},
                                           {kId2, "s2", "10.0.0.2:8300", 5, false},
                                           {kId3, "s3", "10.0.0.3:8300", 3, false}};
  const BootstrapPlan plan = plan_bootstrap(servers, 3, raft_id_of(kId1), "10.0.0.1:8300");
  EXPECT_FALSE(plan.ready);
  EXPECT_NE(plan.conflict.find("s2 has a conflicting expect value (5"), std::string::npos);
}

TEST(ServerDiscovery, BootstrapModeMemberBlocksBootstrap) {
  const std::vector<PoolServer> servers = {{kId2, "s2", "10.0.0.2:8300", 0, true},
                                           {kId3, "s3", "10.0.0.3:8300", 3, false}};
  const BootstrapPlan plan = plan_bootstrap(servers, 3, raft_id_of(kId1), "10.0.0.1:8300");
  EXPECT_FALSE(plan.ready);
  EXPECT_NE(plan.conflict.find("s2 runs in bootstrap mode"), std::string::npos);
}

TEST(ServerDiscovery, NoExpectNeverBootstraps) {
  const BootstrapPlan plan = plan_bootstrap({}, 0, raft_id_of(kId1), "10.0.0.1:8300");
  EXPECT_FALSE(plan.ready);
}

}  // namespace
}  // namespace pc::daemon
