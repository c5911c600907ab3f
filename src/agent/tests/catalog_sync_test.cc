// Anti-entropy: whatever the catalog holds for this node, a pass makes it the agent's.
#include "agent/catalog_sync.h"

#include <gtest/gtest.h>

#include <future>
#include <limits>
#include <thread>

#include "agent/tests/agent_test_util.h"

namespace pc::agent {
namespace {

using testing::FakeCatalog;
using testing::service;
using testing::test_node;

class CatalogSyncTest : public ::testing::Test {
 protected:
  CatalogSync make(core::Duration check_update_interval = std::chrono::minutes(5)) {
    CatalogSync::Options options;
    options.check_update_interval = check_update_interval;
    return CatalogSync(local, store_reader(catalog.store, test_node().name), test_node(),
                       catalog.sink(), core::SystemClock::instance(), options);
  }
  state::HealthCheck check(std::string id, std::string service_id, std::string status) {
    state::HealthCheck c;
    c.check_id = std::move(id);
    c.name = c.check_id;
    c.service_id = std::move(service_id);
    c.status = std::move(status);
    c.type = "ttl";
    return c;
  }
  LocalState local{"node1", core::SystemClock::instance()};
  FakeCatalog catalog;
};

TEST_F(CatalogSyncTest, RegistersTheNodeServicesAndChecks) {
  local.add_service(service("web1", "web", {"v1"}));
  ASSERT_TRUE(local.add_check(check("service:web1", "web1", "passing"), CheckSpec{}));
  ASSERT_TRUE(local.add_check(check("mem", "", "warning"), CheckSpec{}));
  auto sync = make();
  ASSERT_TRUE(sync.sync_once());
  auto snap = catalog.snap();
  auto node = snap.node_get("node1");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->id, test_node().id);
  EXPECT_EQ(node->tagged_addresses.at("lan"), "127.0.0.1");
  auto svc = snap.service_get("node1", "web1");
  ASSERT_TRUE(svc);
  EXPECT_EQ(svc->tags, std::vector<std::string>{"v1"});
  EXPECT_EQ(snap.check_get("node1", "service:web1")->status, "passing");
  EXPECT_EQ(snap.check_get("node1", "service:web1")->service_name, "web");
  EXPECT_EQ(snap.check_get("node1", "mem")->status, "warning");

  int writes = catalog.writes;
  ASSERT_TRUE(sync.sync_once());
  EXPECT_EQ(catalog.writes, writes) << "an in-sync pass writes nothing";
}

TEST_F(CatalogSyncTest, AServiceWithItsOwnTokenIsWrittenActingForItAfterTheNode) {
  local.add_service(service("web1", "web"), "web-secret");
  ASSERT_TRUE(local.add_check(check("service:web1", "web1", "passing"), CheckSpec{}));
  local.add_service(service("db1", "db"));
  auto sync = make();
  ASSERT_TRUE(sync.sync_once());
  // db1 carries the node (the agent's token); web1 acts for its own token and skips the node.
  EXPECT_EQ(catalog.tokens, (std::vector<std::string>{"", "web-secret"}));
  auto snap = catalog.snap();
  EXPECT_TRUE(snap.service_get("node1", "web1"));
  EXPECT_TRUE(snap.check_get("node1", "service:web1"));

  // Alone, a token-carrying service needs the node written first, by the agent's token.
  FakeCatalog fresh;
  LocalState only{"node1", core::SystemClock::instance()};
  only.add_service(service("web1", "web"), "web-secret");
  CatalogSync sync2(only, store_reader(fresh.store, test_node().name), test_node(), fresh.sink(),
                    core::SystemClock::instance(), CatalogSync::Options{});
  ASSERT_TRUE(sync2.sync_once());
  EXPECT_EQ(fresh.tokens, (std::vector<std::string>{"", "web-secret"}));
  EXPECT_TRUE(fresh.snap().node_get("node1"));
  EXPECT_TRUE(fresh.snap().service_get("node1", "web1"));
  // Registered again without a token, it goes back to the agent's.
  only.add_service(service("web1", "web", {"v2"}));
  EXPECT_EQ(only.service_token("web1"), "");
  ASSERT_TRUE(sync2.sync_once());
  EXPECT_EQ(fresh.tokens.back(), "");
}

// A write its token may not make is skipped with Consul's warning and the pass goes on: the
// agent's token here may not write the node check, yet web1, with its own token, is written.
TEST_F(CatalogSyncTest, AWriteBlockedByAclsIsSkippedAndThePassGoesOn) {
  local.add_service(service("db1", "db"));
  local.add_service(service("web1", "web"), "web-secret");
  ASSERT_TRUE(local.add_check(check("mem", "", "warning"), CheckSpec{}));
  CommandSink inner = catalog.sink();
  int denied = 0;
  CommandSink sink = [&](proto::Command c, const std::string& token) -> core::Status {
    const bool node_check = c.has_catalog_register() && c.catalog_register().has_check();
    if (node_check) {
      ++denied;
      return core::make_error(core::Code::kPermissionDenied, "Permission denied: test");
    }
    return inner(std::move(c), token);
  };
  CatalogSync sync(local, store_reader(catalog.store, test_node().name), test_node(), sink,
                   core::SystemClock::instance(), CatalogSync::Options{});
  ASSERT_TRUE(sync.sync_once());
  EXPECT_EQ(denied, 1);
  auto snap = catalog.snap();
  EXPECT_TRUE(snap.service_get("node1", "db1"));
  EXPECT_TRUE(snap.service_get("node1", "web1"));
  EXPECT_FALSE(snap.check_get("node1", "mem"));

  // Any other failure still ends the pass, for a retry soon.
  FakeCatalog other;
  CommandSink failing = [](proto::Command, const std::string&) -> core::Status {
    return core::make_error(core::Code::kUnavailable, "No cluster leader");
  };
  CatalogSync sync2(local, store_reader(other.store, test_node().name), test_node(), failing,
                    core::SystemClock::instance(), CatalogSync::Options{});
  EXPECT_EQ(sync2.sync_once().error().code, core::Code::kUnavailable);
}

TEST_F(CatalogSyncTest, RemovesWhatTheAgentDoesNotHoldButLeavesSerfHealth) {
  auto sync = make();
  ASSERT_TRUE(sync.sync_once());
  proto::Command foreign;
  auto* reg = foreign.mutable_catalog_register();
  reg->set_node("node1");
  reg->set_address("127.0.0.1");
  reg->mutable_service()->set_id("stray");
  reg->mutable_service()->set_service("stray");
  proto::Command server_rows;
  server_rows.mutable_catalog_register()->set_node("node1");
  server_rows.mutable_catalog_register()->set_address("127.0.0.1");
  server_rows.mutable_catalog_register()->mutable_service()->set_id("consul");
  server_rows.mutable_catalog_register()->mutable_service()->set_service("consul");
  ASSERT_TRUE(catalog.sink()(server_rows, ""));
  auto* serf = reg->add_checks();
  serf->set_check_id("serfHealth");
  serf->set_status("passing");
  auto* orphan = reg->add_checks();
  orphan->set_check_id("orphan");
  orphan->set_status("passing");
  ASSERT_TRUE(catalog.sink()(foreign, ""));
  ASSERT_TRUE(sync.sync_once());
  auto snap = catalog.snap();
  EXPECT_FALSE(snap.service_get("node1", "stray"));
  EXPECT_FALSE(snap.check_get("node1", "orphan"));
  EXPECT_TRUE(snap.check_get("node1", "serfHealth"));
  EXPECT_TRUE(snap.service_get("node1", "consul"));
}

TEST_F(CatalogSyncTest, RepairsACatalogDamagedBehindTheAgentsBack) {
  local.add_service(service("web1", "web"));
  ASSERT_TRUE(local.add_check(check("service:web1", "web1", "passing"), CheckSpec{}));
  auto sync = make();
  ASSERT_TRUE(sync.sync_once());
  proto::Command damage;
  damage.mutable_catalog_deregister()->set_node("node1");
  damage.mutable_catalog_deregister()->set_service_id("web1");
  ASSERT_TRUE(catalog.sink()(damage, ""));
  ASSERT_FALSE(catalog.snap().check_get("node1", "service:web1"));
  ASSERT_TRUE(sync.sync_once());
  EXPECT_TRUE(catalog.snap().service_get("node1", "web1"));
  EXPECT_EQ(catalog.snap().check_get("node1", "service:web1")->status, "passing");
}

TEST_F(CatalogSyncTest, RemovedLocalServiceLeavesTheCatalogWithItsChecks) {
  local.add_service(service("web1", "web"));
  ASSERT_TRUE(local.add_check(check("service:web1", "web1", "passing"), CheckSpec{}));
  auto sync = make();
  ASSERT_TRUE(sync.sync_once());
  ASSERT_TRUE(local.remove_service("web1"));
  ASSERT_TRUE(sync.sync_once());
  EXPECT_FALSE(catalog.snap().service_get("node1", "web1"));
  EXPECT_FALSE(catalog.snap().check_get("node1", "service:web1"));
}

TEST_F(CatalogSyncTest, OutputOnlyChangesWaitForTheCheckUpdateInterval) {
  ASSERT_TRUE(local.add_check(check("mem", "", "passing"), CheckSpec{}));
  auto deferring = make(std::chrono::hours(1));
  ASSERT_TRUE(deferring.sync_once());
  ASSERT_TRUE(local.update_check("mem", "passing", "new output"));
  ASSERT_TRUE(deferring.sync_once());
  EXPECT_EQ(catalog.snap().check_get("node1", "mem")->output, "");
  // A status change goes at once, with its output.
  ASSERT_TRUE(local.update_check("mem", "critical", "down"));
  ASSERT_TRUE(deferring.sync_once());
  EXPECT_EQ(catalog.snap().check_get("node1", "mem")->status, "critical");
  EXPECT_EQ(catalog.snap().check_get("node1", "mem")->output, "down");
  // With no deferral the output goes at once.
  ASSERT_TRUE(local.update_check("mem", "critical", "still down"));
  auto eager = make(core::Duration(0));
  ASSERT_TRUE(eager.sync_once());
  EXPECT_EQ(catalog.snap().check_get("node1", "mem")->output, "still down");
}

TEST_F(CatalogSyncTest, NodeDriftIsRepaired) {
  auto sync = make();
  ASSERT_TRUE(sync.sync_once());
  proto::Command drift;
  drift.mutable_catalog_register()->set_node("node1");
  drift.mutable_catalog_register()->set_address("10.9.9.9");
  ASSERT_TRUE(catalog.sink()(drift, ""));
  ASSERT_TRUE(sync.sync_once());
  EXPECT_EQ(catalog.snap().node_get("node1")->address, "127.0.0.1");
}

TEST_F(CatalogSyncTest, SyncThenAnswersAfterAPassOnTheSyncThread) {
  auto sync = make();
  sync.start();
  local.add_service(service("web1", "web"));
  std::promise<core::Status> done;
  sync.sync_then([&done](core::Status st) { done.set_value(st); });
  ASSERT_TRUE(done.get_future().get());
  EXPECT_TRUE(catalog.snap().service_get("node1", "web1"));
  sync.stop();
}

TEST_F(CatalogSyncTest, FullSyncWaitScalesWithTheClusterSize) {
  CatalogSync::Options options;
  std::size_t members = 3;
  options.cluster_size = [&members] { return members; };
  options.random = [] { return std::numeric_limits<std::uint64_t>::max(); };
  CatalogSync sync(local, store_reader(catalog.store, test_node().name), test_node(),
                   catalog.sink(), core::SystemClock::instance(), options);
  EXPECT_GE(sync.next_full_sync_wait(), std::chrono::minutes(1));
  EXPECT_LT(sync.next_full_sync_wait(), std::chrono::minutes(2));
  members = 1000;
  EXPECT_GE(sync.next_full_sync_wait(), std::chrono::minutes(2));
  EXPECT_LT(sync.next_full_sync_wait(), std::chrono::minutes(5));
}

TEST_F(CatalogSyncTest, ALocalChangeSyncsAtOnceNotAtTheNextFullPass) {
  CatalogSync::Options options;
  options.full_sync_interval = std::chrono::hours(1);
  CatalogSync sync(local, store_reader(catalog.store, test_node().name), test_node(),
                   catalog.sink(), core::SystemClock::instance(), options);
  local.set_change_hook([&sync] { sync.trigger(); });
  sync.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (sync.passes() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(sync.passes(), 1u);  // the start-up pass; the next full one is an hour away
  local.add_service(service("web1", "web"));
  while (!catalog.snap().service_get("node1", "web1") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(catalog.snap().service_get("node1", "web1"));
  local.set_change_hook(nullptr);
  sync.stop();
}

}  // namespace
}  // namespace pc::agent
