// /v1/agent/members: Consul's JSON shape for the members of the agent's LAN pool, the agent
// alone when it runs no pool, and ?wan=1's WAN pool.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "endpoints/membership.h"
#include "http/handlers/handlers.h"
#include "http/tests/handler_world.h"

namespace pc::http {
namespace {

namespace json = boost::json;

TEST(AgentMembers, RendersThePoolMembersSortedByName) {
  testing::HandlerWorld world("server-1");
  world.ctx().lan_members = [] {
    std::vector<endpoints::LanMember> out;
    out.push_back({"node-b", "10.0.0.2", 8301, {{"role", "node"}, {"dc", "dc1"}}, 4});
    out.push_back({"node-a", "10.0.0.1", 18301, {{"role", "consul"}, {"port", "8300"}}, 1});
    out.push_back({"node-c", "10.0.0.3", 8301, {}, 3});
    return out;
  };
  Response r = world.call(handlers::agent_members, "GET", "/v1/agent/members");
  ASSERT_EQ(r.status, 200);
  json::array members = json::parse(r.body).as_array();
  ASSERT_EQ(members.size(), 3u);
  const json::object& a = members[0].as_object();
  EXPECT_EQ(a.at("Name").as_string(), "node-a");
  EXPECT_EQ(a.at("Addr").as_string(), "10.0.0.1");
  EXPECT_EQ(a.at("Port").as_int64(), 18301);
  EXPECT_EQ(a.at("Status").as_int64(), 1);
  EXPECT_EQ(a.at("Tags").as_object().at("role").as_string(), "consul");
  EXPECT_EQ(a.at("Tags").as_object().at("port").as_string(), "8300");
  for (const char* field :
       {"ProtocolMin", "ProtocolMax", "ProtocolCur", "DelegateMin", "DelegateMax", "DelegateCur"}) {
    EXPECT_TRUE(a.at(field).is_int64()) << field;
  }
  EXPECT_EQ(members[1].as_object().at("Name").as_string(), "node-b");
  EXPECT_EQ(members[1].as_object().at("Status").as_int64(), 4);  // failed
  EXPECT_EQ(members[2].as_object().at("Status").as_int64(), 3);  // left
  EXPECT_TRUE(members[2].as_object().at("Tags").as_object().empty());
}

TEST(AgentMembers, WithoutAPoolTheAgentIsAlone) {
  testing::HandlerWorld world("server-1");
  world.ctx().identity.serf_lan_port = 8301;
  world.ctx().identity.server_port = 8300;
  Response r = world.call(handlers::agent_members, "GET", "/v1/agent/members");
  ASSERT_EQ(r.status, 200);
  json::array members = json::parse(r.body).as_array();
  ASSERT_EQ(members.size(), 1u);
  const json::object& self = members[0].as_object();
  EXPECT_EQ(self.at("Name").as_string(), "server-1");
  EXPECT_EQ(self.at("Port").as_int64(), 8301);
  EXPECT_EQ(self.at("Tags").as_object().at("role").as_string(), "consul");
  EXPECT_EQ(self.at("Tags").as_object().at("port").as_string(), "8300");
  // Without a WAN pool (a client agent), ?wan=1 lists no members (Consul: none).
  world.ctx().lan_members = [] {
    return std::vector<endpoints::LanMember>{{"other", "10.0.0.9", 8301, {}, 1}};
  };
  r = world.call(handlers::agent_members, "GET", "/v1/agent/members", "wan=1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[]");
}

// The WAN pool's members, from the agent's Membership; the rest of it is not used here.
class WanOnly final : public endpoints::Membership {
 public:
  std::optional<std::vector<endpoints::LanMember>> wan_members() override {
    return std::vector<endpoints::LanMember>{{"s2.dc2", "10.0.0.2", 8302, {{"dc", "dc2"}}, 4},
                                             {"s1.dc1", "10.0.0.1", 8302, {{"dc", "dc1"}}, 1}};
  }
  core::Result<int> join(const std::vector<std::string>&, bool) override { return 0; }
  core::Status force_leave(const std::string&, bool, bool) override { return core::ok(); }
  core::Status leave() override { return core::ok(); }
  std::vector<std::string> datacenters() override { return {"dc1", "dc2"}; }
};

TEST(AgentMembers, WanListsTheWanPoolSortedByName) {
  testing::HandlerWorld world("s1");
  WanOnly wan;
  world.ctx().membership = &wan;
  world.ctx().lan_members = [] {
    return std::vector<endpoints::LanMember>{{"s1", "10.0.0.1", 8301, {}, 1}};
  };
  Response r = world.call(handlers::agent_members, "GET", "/v1/agent/members", "wan=1");
  ASSERT_EQ(r.status, 200);
  json::array members = json::parse(r.body).as_array();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].as_object().at("Name").as_string(), "s1.dc1");
  EXPECT_EQ(members[0].as_object().at("Port").as_int64(), 8302);
  EXPECT_EQ(members[1].as_object().at("Status").as_int64(), 4);
  // Consul reads ?wan with Get("wan") != "": an empty value is the LAN pool.
  r = world.call(handlers::agent_members, "GET", "/v1/agent/members", "wan");
  members = json::parse(r.body).as_array();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].as_object().at("Name").as_string(), "s1");
  // /v1/catalog/datacenters asks the same Membership.
  r = world.call(handlers::catalog_datacenters, "GET", "/v1/catalog/datacenters");
  EXPECT_EQ(r.body, R"(["dc1","dc2"])");
}

}  // namespace
}  // namespace pc::http
