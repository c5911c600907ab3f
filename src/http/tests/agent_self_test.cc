// /v1/agent/self "Stats": the serf_lan and serf_wan sections from the agent's pools, every
// value a string as Consul shows them, serf_wan on servers only, none without pools.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "endpoints/gossip_stats.h"
#include "http/handlers/handlers.h"
#include "http/tests/handler_world.h"

namespace pc::http {
namespace {

namespace json = boost::json;

endpoints::GossipPoolStats lan_stats() {
  endpoints::GossipPoolStats s;
  s.members = 5;
  s.failed = 1;
  s.left = 2;
  s.health_score = 3;
  s.encrypted = true;
  s.event_time = 7;
  s.query_time = 9;
  s.intent_queue = 4;
  s.event_queue = 6;
  s.query_queue = 8;
  s.coordinate_resets = 1;
  s.refused_decrypt = 12;
  s.refused_decode = 13;
  s.refused_core = 14;
  return s;
}

json::object stats_of(testing::HandlerWorld& world) {
  Response r = world.call(handlers::agent_self, "GET", "/v1/agent/self");
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body).as_object().at("Stats").as_object();
}

TEST(AgentSelf, SerfSectionsFromThePools) {
  testing::HandlerWorld world("s1");
  world.ctx().gossip_stats = [] {
    endpoints::GossipStats pools;
    pools.lan = lan_stats();
    pools.wan = endpoints::GossipPoolStats{};
    pools.wan->members = 4;
    return pools;
  };
  const json::object stats = stats_of(world);
  const json::object& lan = stats.at("serf_lan").as_object();
  const std::pair<const char*, const char*> want[] = {{"members", "5"},
                                                      {"failed", "1"},
                                                      {"left", "2"},
                                                      {"health_score", "3"},
                                                      {"encrypted", "true"},
                                                      {"event_time", "7"},
                                                      {"query_time", "9"},
                                                      {"intent_queue", "4"},
                                                      {"event_queue", "6"},
                                                      {"query_queue", "8"},
                                                      {"coordinate_resets", "1"},
                                                      {"refused_decrypt", "12"},
                                                      {"refused_decode", "13"},
                                                      {"refused_core", "14"}};
  EXPECT_EQ(lan.size(), std::size(want));
  for (const auto& [key, value] : want) {
    ASSERT_TRUE(lan.contains(key)) << key;
    EXPECT_EQ(lan.at(key).as_string(), value) << key;
  }
  const json::object& wan = stats.at("serf_wan").as_object();
  EXPECT_EQ(wan.at("members").as_string(), "4");
  EXPECT_EQ(wan.at("encrypted").as_string(), "false");
  EXPECT_EQ(wan.at("refused_decrypt").as_string(), "0");
}

TEST(AgentSelf, SerfWanOnServersOnlyAndNothingWithoutPools) {
  testing::HandlerWorld world("c1");
  EXPECT_FALSE(stats_of(world).contains("serf_lan"));
  world.ctx().identity.server = false;
  world.ctx().gossip_stats = [] {
    endpoints::GossipStats pools;
    pools.lan = lan_stats();
    pools.wan = lan_stats();  // a client has none; were one reported, it is not shown
    return pools;
  };
  const json::object stats = stats_of(world);
  EXPECT_TRUE(stats.contains("serf_lan"));
  EXPECT_FALSE(stats.contains("serf_wan"));
}

}  // namespace
}  // namespace pc::http
