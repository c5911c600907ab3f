// An agent with a data directory keeps what the agent API registered across a restart:
// services with their tokens, checks, maintenance mode and the last TTL status, restored
// before the first anti-entropy pass so that the catalog's rows are never deleted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "agent/local_agent.h"
#include "agent/tests/agent_test_util.h"
#include "core/rand.h"
#include "telemetry/tests/temp_dir.h"

namespace pc::agent {
namespace {

using namespace std::chrono_literals;
using telemetry::testing::TempDir;
using testing::FakeCatalog;
using testing::service;
using testing::test_node;

CheckRegistration ttl_check(std::string id, core::Duration ttl = 1h) {
  CheckRegistration c;
  c.check.check_id = std::move(id);
  c.check.name = c.check.check_id;
  c.spec.ttl = ttl;
  return c;
}

class LocalAgentPersistTest : public ::testing::Test {
 protected:
  LocalAgentPersistTest() { start_agent(); }
  ~LocalAgentPersistTest() override {
    if (agent) agent->stop();
    timers.stop();
  }

  // A new agent on the same data directory and catalog, as after a restart; `before_start`
  // registers what the configuration would.
  void start_agent(const std::function<void(LocalAgent&)>& before_start = {},
                   bool enable_script_checks = false) {
    if (agent) agent->stop();
    agent.reset();
    LocalAgent::Options options;
    options.reap_interval = 1h;
    options.runner.workers = 1;
    options.enable_script_checks = enable_script_checks;
    options.data_dir = dir.path();
    agent = std::make_unique<LocalAgent>(test_node(), store_reader(catalog.store, "node1"),
                                         catalog.sink(), timers, core::SystemClock::instance(),
                                         rand, options);
    if (before_start) before_start(*agent);
    agent->start();
  }
  core::Status synced() {
    std::promise<core::Status> done;
    agent->after_sync([&done](core::Status st) { done.set_value(st); });
    return done.get_future().get();
  }
  LocalPersist files() const { return LocalPersist(dir.path()); }

  TempDir dir;
  FakeCatalog catalog;
  core::TimerThread timers;
  core::SystemRand rand{7};
  std::unique_ptr<LocalAgent> agent;
};

TEST_F(LocalAgentPersistTest, ARestartRestoresEverythingBeforeTheFirstSync) {
  ServiceRegistration web{service("web1", "web", {"v1"}), {ttl_check("web-ttl")}};
  web.token = "service-token";
  ASSERT_TRUE(agent->add_service(web));
  ASSERT_TRUE(agent->add_check(ttl_check("node-ttl")));
  ASSERT_TRUE(agent->update_ttl("web-ttl", "passing", "all good"));
  ASSERT_TRUE(synced());
  const std::uint64_t created = catalog.snap().service_get("node1", "web1")->create_index;

  start_agent();
  auto restored = agent->local().service("web1");
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->tags, std::vector<std::string>{"v1"});
  EXPECT_EQ(agent->local().service_token("web1"), "service-token");
  auto check = agent->local().check("web-ttl");
  ASSERT_TRUE(check);
  EXPECT_EQ(check->check.status, "passing");  // the TTL state has not run out
  EXPECT_EQ(check->check.output, "all good");
  EXPECT_EQ(check->check.service_name, "web");
  EXPECT_EQ(check->check.type, "ttl");
  EXPECT_EQ(agent->local().check("node-ttl")->check.status, "critical");
  EXPECT_EQ(agent->runner().ttl_checks(), 2u);

  ASSERT_TRUE(synced());
  auto row = catalog.snap().service_get("node1", "web1");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->create_index, created);  // never deleted and registered again
  EXPECT_EQ(catalog.snap().check_get("node1", "web-ttl")->status, "passing");
  EXPECT_TRUE(catalog.snap().check_get("node1", "node-ttl"));
}

TEST_F(LocalAgentPersistTest, DeregistrationRemovesTheFiles) {
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {ttl_check("web-ttl")}}));
  ASSERT_TRUE(agent->add_check(ttl_check("lone")));
  ASSERT_TRUE(agent->update_ttl("web-ttl", "passing", ""));
  LocalPersist f = files();
  ASSERT_TRUE(std::filesystem::exists(f.service_path("web1")));
  ASSERT_TRUE(std::filesystem::exists(f.check_path("web-ttl")));
  ASSERT_TRUE(std::filesystem::exists(f.check_state_path("web-ttl")));

  ASSERT_TRUE(agent->remove_service("web1"));
  ASSERT_TRUE(agent->remove_check("lone"));
  EXPECT_FALSE(std::filesystem::exists(f.service_path("web1")));
  EXPECT_FALSE(std::filesystem::exists(f.check_path("web-ttl")));
  EXPECT_FALSE(std::filesystem::exists(f.check_state_path("web-ttl")));
  EXPECT_FALSE(std::filesystem::exists(f.check_path("lone")));

  start_agent();
  EXPECT_TRUE(agent->local().services().empty());
  EXPECT_TRUE(agent->local().checks().empty());
}

TEST_F(LocalAgentPersistTest, AnExpiredTtlStateRestartsCritical) {
  ASSERT_TRUE(agent->add_check(ttl_check("ttl")));
  ASSERT_TRUE(agent->update_ttl("ttl", "passing", "ok"));
  LocalPersist f = files();
  auto saved = f.load_check_state("ttl");
  ASSERT_TRUE(saved);
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  EXPECT_NEAR(static_cast<double>(saved->expires_unix_s), static_cast<double>(now_s + 3600), 5);
  ASSERT_TRUE(f.save_check_state({"ttl", "passing", "ok", now_s - 1}));

  start_agent();
  EXPECT_EQ(agent->local().check("ttl")->check.status, "critical");
  EXPECT_FALSE(std::filesystem::exists(f.check_state_path("ttl")));
}

TEST_F(LocalAgentPersistTest, ARestoredTtlStateExpiresWhenItsTtlWouldHave) {
  ASSERT_TRUE(agent->add_check(ttl_check("ttl", 1h)));
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  // Reported an hour ago, with two seconds left.
  ASSERT_TRUE(files().save_check_state({"ttl", "passing", "ok", now_s + 2}));
  start_agent();
  EXPECT_EQ(agent->local().check("ttl")->check.status, "passing");
  for (int i = 0; i < 100 && agent->local().check("ttl")->check.status == "passing"; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(agent->local().check("ttl")->check.status, "critical");
}

TEST_F(LocalAgentPersistTest, RegisteringACheckAgainDropsItsOldTtlState) {
  ASSERT_TRUE(agent->add_check(ttl_check("ttl")));
  ASSERT_TRUE(agent->update_ttl("ttl", "passing", "ok"));
  ASSERT_TRUE(agent->add_check(ttl_check("ttl")));
  EXPECT_FALSE(std::filesystem::exists(files().check_state_path("ttl")));
  start_agent();
  EXPECT_EQ(agent->local().check("ttl")->check.status, "critical");
}

TEST_F(LocalAgentPersistTest, CorruptFilesAreSkippedAndTheRestRestored) {
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {}}));
  ASSERT_TRUE(agent->add_check(ttl_check("lone")));
  std::ofstream(dir.path() + "/services/" + persisted_file_name("bad")) << "{\"Service\":";
  std::ofstream(dir.path() + "/checks/" + persisted_file_name("bad")) << "\x01\x02";
  std::filesystem::create_directories(dir.path() + "/checks/state");
  std::ofstream(files().check_state_path("lone")) << "[]";
  start_agent();
  EXPECT_TRUE(agent->local().service("web1"));
  EXPECT_EQ(agent->local().check("lone")->check.status, "critical");
  EXPECT_EQ(agent->local().services().size(), 1u);
}

TEST_F(LocalAgentPersistTest, ConfigurationRegistrationsAreNotWrittenAndWinOverFiles) {
  ASSERT_TRUE(agent->add_service({service("web1", "web", {"from-api"}), {ttl_check("c1")}}));
  start_agent([](LocalAgent& a) {
    ServiceRegistration from_config{service("web1", "web", {"from-config"}), {}};
    from_config.persist = false;
    ASSERT_TRUE(a.add_service(from_config));
    ServiceRegistration other{service("db1", "db"), {}};
    other.persist = false;
    ASSERT_TRUE(a.add_service(other));
  });
  EXPECT_EQ(agent->local().service("web1")->tags, std::vector<std::string>{"from-config"});
  EXPECT_FALSE(std::filesystem::exists(files().service_path("web1")));
  EXPECT_FALSE(std::filesystem::exists(files().service_path("db1")));
  // The API's check on that service is still the API's.
  EXPECT_TRUE(agent->local().check("c1"));
}

TEST_F(LocalAgentPersistTest, AConfigurationTtlCheckResumesItsLastStatusToo) {
  auto from_config = [](LocalAgent& a) {
    CheckRegistration c = ttl_check("config-ttl");
    c.persist = false;
    ASSERT_TRUE(a.add_check(c));
  };
  start_agent(from_config);
  ASSERT_TRUE(agent->update_ttl("config-ttl", "warning", "slow"));
  EXPECT_FALSE(std::filesystem::exists(files().check_path("config-ttl")));
  start_agent(from_config);
  auto c = agent->local().check("config-ttl");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->check.status, "warning");
  EXPECT_EQ(c->check.output, "slow");
  EXPECT_EQ(agent->local().checks().size(), 1u);
}

TEST_F(LocalAgentPersistTest, MaintenanceModeSurvivesARestart) {
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {}}));
  ASSERT_TRUE(agent->set_node_maintenance(true, "upgrade"));
  ASSERT_TRUE(agent->set_service_maintenance("web1", true, ""));
  start_agent();
  auto node = agent->local().check(std::string(kNodeMaintenanceCheckId));
  ASSERT_TRUE(node);
  EXPECT_EQ(node->check.notes, "upgrade");
  EXPECT_EQ(node->check.status, "critical");
  EXPECT_EQ(node->check.type, "maintenance");
  EXPECT_TRUE(agent->local().check(std::string(kServiceMaintenancePrefix) + "web1"));

  ASSERT_TRUE(agent->set_node_maintenance(false, ""));
  start_agent();
  EXPECT_FALSE(agent->local().check(std::string(kNodeMaintenanceCheckId)));
}

TEST_F(LocalAgentPersistTest, ChecksThatCannotBeRestoredAreDropped) {
  start_agent({}, /*enable_script_checks=*/true);
  ASSERT_TRUE(agent->add_service({service("web1", "web"), {ttl_check("web-ttl")}}));
  CheckRegistration script;
  script.check.check_id = "script";
  script.spec.args = {"/bin/true"};
  script.spec.interval = 1h;
  ASSERT_TRUE(agent->add_check(script));
  agent->stop();
  std::filesystem::remove(files().service_path("web1"));  // its service's file is gone

  start_agent();  // scripts are off now
  EXPECT_FALSE(agent->local().check("web-ttl"));
  EXPECT_FALSE(agent->local().check("script"));
  EXPECT_FALSE(std::filesystem::exists(files().check_path("web-ttl")));
  EXPECT_FALSE(std::filesystem::exists(files().check_path("script")));
}

}  // namespace
}  // namespace pc::agent
