// The agent API's semantics: registration defaults and validation, TTL updates and expiry,
// maintenance mode, and reaping of services critical for too long.
#include "agent/local_agent.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "agent/tests/agent_test_util.h"
#include "core/rand.h"

namespace pc::agent {
namespace {

using namespace std::chrono_literals;
using testing::FakeCatalog;
using testing::service;
using testing::test_node;

CheckRegistration ttl_check(core::Duration ttl, std::string id = "") {
  CheckRegistration c;
  c.check.check_id = std::move(id);
  c.spec.ttl = ttl;
  return c;
}

class LocalAgentTest : public ::testing::Test {
 protected:
  explicit LocalAgentTest(LocalAgent::Options options = {}) {
    options.deregister_interval_min = 10ms;
    options.reap_interval = 1h;  // reaping is driven by hand below
    options.runner.workers = 2;
    agent = std::make_unique<LocalAgent>(test_node(), store_reader(catalog.store, test_node().name),
                                         catalog.sink(), timers, core::SystemClock::instance(),
                                         rand, options);
    agent->start();
  }
  ~LocalAgentTest() override {
    agent->stop();
    timers.stop();
  }
  // Waits (bounded) until the local check has `status`.
  bool wait_status(const std::string& id, std::string_view status) {
    for (int i = 0; i < 500; ++i) {
      auto c = agent->local().check(id);
      if (c && c->check.status == status) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  core::Status synced() {
    std::promise<core::Status> done;
    agent->after_sync([&done](core::Status st) { done.set_value(st); });
    return done.get_future().get();
  }

  FakeCatalog catalog;
  core::TimerThread timers;
  core::SystemRand rand{42};
  std::unique_ptr<LocalAgent> agent;
};

TEST_F(LocalAgentTest, ServiceChecksGetConsulsIdsNamesAndCriticalByDefault) {
  ServiceRegistration one{service("", "redis"), {ttl_check(10s)}, false};
  ASSERT_TRUE(agent->add_service(one));
  auto c = agent->local().check("service:redis");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->check.name, "Service 'redis' check");
  EXPECT_EQ(c->check.status, "critical");
  EXPECT_EQ(c->check.type, "ttl");
  EXPECT_EQ(c->check.service_id, "redis");

  ServiceRegistration two{service("web1", "web"), {ttl_check(10s), ttl_check(10s)}, false};
  ASSERT_TRUE(agent->add_service(two));
  EXPECT_TRUE(agent->local().check("service:web1:1"));
  EXPECT_TRUE(agent->local().check("service:web1:2"));

  ASSERT_TRUE(synced());
  EXPECT_TRUE(catalog.snap().service_get("node1", "redis"));
  EXPECT_EQ(catalog.snap().check_get("node1", "service:web1:2")->service_name, "web");
}

TEST_F(LocalAgentTest, InvalidChecksChangeNothing) {
  CheckRegistration both = ttl_check(10s);
  both.spec.interval = 10s;
  ServiceRegistration reg{service("web1", "web"), {ttl_check(10s, "ok"), both}, false};
  auto st = agent->add_service(reg);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(st.error().message, "Invalid check: Interval and TTL cannot both be specified");
  EXPECT_FALSE(agent->local().service("web1"));
  EXPECT_FALSE(agent->local().check("ok"));

  CheckRegistration http;
  http.check.name = "h";
  http.spec.http = "http://127.0.0.1:1/";
  EXPECT_EQ(agent->add_check(http).error().message,
            "Invalid check: Interval must be > 0 for Script, HTTP, or TCP checks");
  CheckRegistration none;
  none.check.name = "n";
  EXPECT_EQ(agent->add_check(none).error().message,
            "Invalid check: TTL must be > 0 for TTL checks");
}

TEST_F(LocalAgentTest, AliasChecksFollowALocalServiceAndRefuseIntervalAndTtl) {
  ServiceRegistration db{service("db1", "db"), {ttl_check(1h, "db-ttl")}, false};
  ASSERT_TRUE(agent->add_service(db));
  CheckRegistration alias;
  alias.check.name = "db alias";
  alias.check.check_id = "db-alias";
  alias.spec.alias_service = "db1";
  ASSERT_TRUE(agent->add_check(alias));
  EXPECT_EQ(agent->local().check("db-alias")->check.type, "alias");
  EXPECT_EQ(agent->local().check("db-alias")->check.interval, "");
  ASSERT_TRUE(agent->update_ttl("db-ttl", "passing", "ok"));
  ASSERT_TRUE(wait_status("db-alias", "passing"));
  EXPECT_EQ(agent->local().check("db-alias")->check.output, "All checks passing.");
  ASSERT_TRUE(agent->update_ttl("db-ttl", "critical", "down"));
  ASSERT_TRUE(wait_status("db-alias", "critical"));
  EXPECT_EQ(agent->local().check("db-alias")->check.output,
            "Aliased check \"Service 'db' check\" failing: down");

  CheckRegistration with_ttl = alias;
  with_ttl.spec.ttl = 10s;
  EXPECT_EQ(agent->add_check(with_ttl).error().message,
            "Invalid check: TTL must be not be set for Alias checks");
  CheckRegistration with_tcp = alias;
  with_tcp.spec.tcp = "127.0.0.1:1";
  with_tcp.spec.interval = 10s;
  EXPECT_EQ(agent->add_check(with_tcp).error().message,
            "Invalid check: Interval cannot be set for Alias checks");
}

TEST_F(LocalAgentTest, ScriptChecksNeedEnableScriptChecks) {
  CheckRegistration script;
  script.check.name = "s";
  script.spec.args = {"/bin/true"};
  script.spec.interval = 10s;
  auto st = agent->add_check(script);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("Scripts are disabled on this agent"), std::string::npos);
  EXPECT_FALSE(agent->local().check("s"));
}

TEST_F(LocalAgentTest, TtlUpdatesSetStatusAndExpiryTurnsCritical) {
  ASSERT_TRUE(agent->add_check(ttl_check(300ms, "beat")));
  ASSERT_TRUE(agent->update_ttl("beat", "passing", "alive"));
  EXPECT_EQ(agent->local().check("beat")->check.status, "passing");
  EXPECT_EQ(agent->local().check("beat")->check.output, "alive");
  ASSERT_TRUE(wait_status("beat", "critical"));
  EXPECT_EQ(agent->local().check("beat")->check.output,
            "TTL expired (last output before timeout follows): alive");
  ASSERT_TRUE(synced());
  EXPECT_EQ(catalog.snap().check_get("node1", "beat")->status, "critical");

  auto st = agent->update_ttl("nope", "passing", "");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, core::Code::kNotFound);
  CheckRegistration tcp;
  tcp.check.name = "tcp";
  tcp.spec.tcp = "127.0.0.1:1";
  tcp.spec.interval = 1h;
  ASSERT_TRUE(agent->add_check(tcp));
  st = agent->update_ttl("tcp", "passing", "");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "CheckID \"tcp\" does not have associated TTL");
}

TEST_F(LocalAgentTest, LongTtlOutputIsCutWithConsulsNote) {
  ASSERT_TRUE(agent->add_check(ttl_check(10s, "beat")));
  ASSERT_TRUE(agent->update_ttl("beat", "passing", std::string(5000, 'x')));
  std::string out = agent->local().check("beat")->check.output;
  EXPECT_EQ(out.size(), 4096 + std::string(" ... (captured 4096 of 5000 bytes)").size());
  EXPECT_TRUE(out.ends_with(" ... (captured 4096 of 5000 bytes)"));
}

TEST_F(LocalAgentTest, MaintenanceAddsAndRemovesConsulsChecks) {
  ASSERT_TRUE(agent->set_node_maintenance(true, ""));
  auto node = agent->local().check("_node_maintenance");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->check.status, "critical");
  EXPECT_EQ(node->check.name, "Node Maintenance Mode");
  EXPECT_EQ(node->check.type, "maintenance");
  EXPECT_NE(node->check.notes.find("no reason was provided"), std::string::npos);
  ASSERT_TRUE(agent->set_node_maintenance(false, ""));
  EXPECT_FALSE(agent->local().check("_node_maintenance"));

  ASSERT_TRUE(agent->add_service({service("web1", "web"), {}, false}));
  ASSERT_TRUE(agent->set_service_maintenance("web1", true, "deploying"));
  auto svc = agent->local().check("_service_maintenance:web1");
  ASSERT_TRUE(svc);
  EXPECT_EQ(svc->check.notes, "deploying");
  EXPECT_EQ(svc->check.service_name, "web");
  // Re-registering the service with replace_existing_checks keeps maintenance on.
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {}, true}));
  EXPECT_TRUE(agent->local().check("_service_maintenance:web1"));
  auto unknown = agent->set_service_maintenance("nope", true, "");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::Code::kNotFound);
}

TEST_F(LocalAgentTest, ReplaceExistingChecksDropsTheOldOnes) {
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {ttl_check(10s, "old")}, false}));
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {ttl_check(10s, "new")}, false}));
  EXPECT_TRUE(agent->local().check("old"));
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {ttl_check(10s, "new")}, true}));
  EXPECT_FALSE(agent->local().check("old"));
  EXPECT_TRUE(agent->local().check("new"));
}

TEST_F(LocalAgentTest, ServicesCriticalPastTheirDeregisterTimeoutAreReaped) {
  CheckRegistration c = ttl_check(10s, "web-ttl");
  c.spec.deregister_critical_service_after = 1ms;  // raised to the 10ms minimum of this test
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {c}, false}));
  EXPECT_EQ(agent->local().check("web-ttl")->check.deregister_critical_service_after, "10ms");
  ASSERT_TRUE(agent->add_service({service("db1", "db"), {ttl_check(10s, "db-ttl")}, false}));
  std::this_thread::sleep_for(30ms);
  agent->reap_critical_services();
  EXPECT_FALSE(agent->local().service("web1"));
  EXPECT_TRUE(agent->local().service("db1")) << "no DeregisterCriticalServiceAfter: kept";
}

}  // namespace
}  // namespace pc::agent
