#include "agent/local_state.h"

#include <gtest/gtest.h>

#include "agent/tests/agent_test_util.h"

namespace pc::agent {
namespace {

using testing::service;

state::HealthCheck check(std::string id, std::string service_id = "",
                         std::string status = "critical") {
  state::HealthCheck c;
  c.check_id = std::move(id);
  c.name = c.check_id;
  c.service_id = std::move(service_id);
  c.status = std::move(status);
  return c;
}

TEST(LocalState, ChecksCarryTheirServiceNameAndTagsAndFollowReRegistration) {
  LocalState local("node1", core::SystemClock::instance());
  local.add_service(service("web1", "web", {"v1"}));
  ASSERT_TRUE(local.add_check(check("c1", "web1"), CheckSpec{}));
  auto c = local.check("c1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->check.node, "node1");
  EXPECT_EQ(c->check.service_name, "web");
  EXPECT_EQ(c->check.service_tags, std::vector<std::string>{"v1"});
  local.add_service(service("web1", "web", {"v2"}));
  EXPECT_EQ(local.check("c1")->check.service_tags, std::vector<std::string>{"v2"});
}

TEST(LocalState, CheckOfUnknownServiceIsRefused) {
  LocalState local("node1", core::SystemClock::instance());
  auto st = local.add_check(check("c1", "nope"), CheckSpec{});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "ServiceID \"nope\" does not exist");
}

TEST(LocalState, RemovingAServiceRemovesItsChecksOnly) {
  LocalState local("node1", core::SystemClock::instance());
  local.add_service(service("web1", "web"));
  ASSERT_TRUE(local.add_check(check("c1", "web1"), CheckSpec{}));
  ASSERT_TRUE(local.add_check(check("node-check"), CheckSpec{}));
  ASSERT_TRUE(local.remove_service("web1"));
  EXPECT_FALSE(local.check("c1"));
  EXPECT_TRUE(local.check("node-check"));
  auto again = local.remove_service("web1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::Code::kNotFound);
  EXPECT_EQ(again.error().message,
            "Unknown service ID \"web1\". Ensure that the service ID is passed, not the service "
            "name.");
}

TEST(LocalState, UpdatesBumpTheVersionFireWatchesAndCallTheHook) {
  LocalState local("node1", core::SystemClock::instance());
  int hooks = 0;
  local.set_change_hook([&hooks] { ++hooks; });
  ASSERT_TRUE(local.add_check(check("c1"), CheckSpec{}));
  std::uint64_t v = local.version();
  state::WatchSet ws;
  local.watch(ws);
  EXPECT_FALSE(ws.fired());
  EXPECT_FALSE(local.update_check("c1", "critical", ""));  // nothing changed
  EXPECT_FALSE(ws.fired());
  EXPECT_TRUE(local.update_check("c1", "passing", "ok"));
  EXPECT_TRUE(ws.fired());
  EXPECT_GT(local.version(), v);
  EXPECT_EQ(hooks, 2);
  EXPECT_FALSE(local.update_check("gone", "passing", ""));
}

TEST(LocalState, CriticalSinceIsSetWhenTheCheckTurnsCriticalOnly) {
  LocalState local("node1", core::SystemClock::instance());
  ASSERT_TRUE(local.add_check(check("c1", "", "passing"), CheckSpec{}));
  EXPECT_EQ(local.check("c1")->critical_since, core::MonoTime{});
  ASSERT_TRUE(local.update_check("c1", "critical", "down"));
  core::MonoTime since = local.check("c1")->critical_since;
  EXPECT_NE(since, core::MonoTime{});
  ASSERT_TRUE(local.update_check("c1", "critical", "still down"));  // output only
  EXPECT_EQ(local.check("c1")->critical_since, since);
  EXPECT_NE(local.check("c1")->output_changed_at, core::MonoTime{});
}

}  // namespace
}  // namespace pc::agent
