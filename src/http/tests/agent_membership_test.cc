// /v1/agent/join, /v1/agent/leave, /v1/agent/force-leave: what the handlers read from the
// request and hand the agent's Membership, and Consul's status codes for its answers; and
// /v1/agent/reload's answers.
#include <gtest/gtest.h>

#include "endpoints/membership.h"
#include "http/handlers/handlers.h"
#include "http/tests/handler_world.h"

namespace pc::http {
namespace {

// Records every call; answers with the error set in `fail` (none: success).
class Recording final : public endpoints::Membership {
 public:
  std::optional<std::vector<endpoints::LanMember>> wan_members() override { return {}; }
  core::Result<int> join(const std::vector<std::string>& addresses, bool wan) override {
    calls.push_back("join " + addresses.at(0) + (wan ? " wan" : ""));
    if (fail) return *fail;
    return 1;
  }
  core::Status force_leave(const std::string& node, bool prune, bool wan) override {
    calls.push_back("force-leave " + node + (prune ? " prune" : "") + (wan ? " wan" : ""));
    if (fail) return *fail;
    return core::ok();
  }
  core::Status leave() override {
    calls.push_back("leave");
    return core::ok();
  }
  std::vector<std::string> datacenters() override { return {}; }

  std::vector<std::string> calls;
  std::optional<core::Error> fail;
};

TEST(AgentMembership, JoinTakesTheAddressFromThePathAndWanFromItsValue) {
  testing::HandlerWorld world("s1");
  Recording m;
  world.ctx().membership = &m;
  Response r = world.call(handlers::agent_join, "PUT", "/v1/agent/join/10.0.0.1:8302", "wan=1");
  EXPECT_EQ(r.status, 200);
  r = world.call(handlers::agent_join, "PUT", "/v1/agent/join/10.0.0.2", "wan=");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(m.calls, (std::vector<std::string>{"join 10.0.0.1:8302 wan", "join 10.0.0.2"}));
  m.fail = core::make_error(core::Code::kUnavailable, "Failed to join any of 10.0.0.3");
  r = world.call(handlers::agent_join, "PUT", "/v1/agent/join/10.0.0.3");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "Failed to join any of 10.0.0.3");
  r = world.call(handlers::agent_join, "PUT", "/v1/agent/join/");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(m.calls.size(), 3u) << "no call without an address";
}

TEST(AgentMembership, ForceLeaveReadsPruneAndWanByPresence) {
  testing::HandlerWorld world("s1");
  Recording m;
  world.ctx().membership = &m;
  EXPECT_EQ(
      world.call(handlers::agent_force_leave, "PUT", "/v1/agent/force-leave/s2.dc2", "prune&wan")
          .status,
      200);
  EXPECT_EQ(world.call(handlers::agent_force_leave, "PUT", "/v1/agent/force-leave/n1").status, 200);
  EXPECT_EQ(m.calls, (std::vector<std::string>{"force-leave s2.dc2 prune wan", "force-leave n1"}));
  m.fail = core::make_error(core::Code::kNotFound, "agent: No node found with name 'x'");
  Response r = world.call(handlers::agent_force_leave, "PUT", "/v1/agent/force-leave/x");
  EXPECT_EQ(r.status, 500) << "Consul answers its agent's error as a 500";
  EXPECT_EQ(r.body, "agent: No node found with name 'x'");
  EXPECT_EQ(world.call(handlers::agent_force_leave, "PUT", "/v1/agent/force-leave/").status, 400);
}

TEST(AgentMembership, LeaveAsksTheAgentAndWithoutPoolsEverythingIsAnError) {
  testing::HandlerWorld world("s1");
  for (auto fn : {handlers::agent_leave, handlers::agent_join, handlers::agent_force_leave}) {
    EXPECT_EQ(world.call(fn, "PUT", "/v1/agent/join/x").status, 500);
  }
  Recording m;
  world.ctx().membership = &m;
  EXPECT_EQ(world.call(handlers::agent_leave, "PUT", "/v1/agent/leave").status, 200);
  EXPECT_EQ(m.calls, std::vector<std::string>{"leave"});
}

TEST(AgentReload, CallsTheReloadAndAnswersItsErrorAs500) {
  testing::HandlerWorld world("s1");
  Response r = world.call(handlers::agent_reload, "PUT", "/v1/agent/reload");
  EXPECT_EQ(r.status, 500) << "no reload wired";
  int calls = 0;
  std::optional<core::Error> fail;
  world.ctx().reload_config = [&]() -> core::Status {
    ++calls;
    if (fail) return *fail;
    return core::ok();
  };
  r = world.call(handlers::agent_reload, "PUT", "/v1/agent/reload");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  fail = core::make_error(core::Code::kInvalidArgument,
                          "Error parsing /etc/pc/web.hcl: At 3:3: invalid config key service.prot");
  r = world.call(handlers::agent_reload, "PUT", "/v1/agent/reload");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "Error parsing /etc/pc/web.hcl: At 3:3: invalid config key service.prot");
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace pc::http
