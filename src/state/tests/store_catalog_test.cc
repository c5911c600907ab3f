// Services and health checks (agent/consul/state/catalog_test.go in Consul): registration and
// its index movement, deregistration cascades, session invalidation, reads and watches.
#include <gtest/gtest.h>

#include <memory>

#include "state/tests/store_test_util.h"

namespace pc::state {
namespace {

using proto::KvOp;
using testing::catalog_deregister;
using testing::catalog_register;
using testing::kv;
using testing::kv_op;
using testing::kv_set;
using testing::node_register;
using testing::session_create;
using testing::StoreTest;
using testing::with_check;
using testing::with_service;

constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kNowNs = 1'700'000'000 * kSecondNs;

class CatalogTest : public StoreTest {
 protected:
  // node1 with service web1 ("web", tag "v1") and checks: serfHealth (node), web-alive (web1).
  void seed_node1(std::uint64_t index) {
    proto::Command c = catalog_register("node1");
    with_service(c, "web1", "web", {"v1"});
    with_check(c, "serfHealth", "passing");
    with_check(c, "web-alive", "passing", "web1");
    ASSERT_TRUE(apply(index, c).status);
  }
  proto::Command session_on(std::string id, std::string node, std::vector<std::string> checks,
                            std::string behavior = "release", std::int64_t delay = 0) {
    proto::Command c = session_create(std::move(id), std::move(node), std::move(behavior), delay);
    auto* s = c.mutable_session_create()->mutable_session();
    for (auto& check : checks) s->add_node_checks(std::move(check));
    return c;
  }
  std::vector<std::string> ids(const std::vector<HealthCheck>& checks) {
    std::vector<std::string> out;
    for (const auto& c : checks) out.push_back(c.node + "/" + c.check_id);
    return out;
  }
};

TEST_F(CatalogTest, RegisterStoresNodeServiceAndChecks) {
  proto::Command c = catalog_register("node1");
  auto* s = with_service(c, "web1", "web", {"v1", "primary"}, 8080);
  s->set_address("10.1.1.1");
  auto* meta = s->add_meta();
  meta->set_key("version");
  meta->set_value("3");
  auto* h = with_check(c, "web-alive", "", "web1");  // no status: critical
  h->set_http("http://localhost:8080/health");
  h->set_interval("10s");
  h->set_service_name("ignored");  // taken from the service
  ASSERT_TRUE(apply(5, c).status);

  auto n = snap().node_get("node1");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->create_index, 5u);
  auto svc = snap().service_get("NODE1", "WEB1");  // node and ID ignore case
  ASSERT_TRUE(svc.has_value());
  EXPECT_EQ(svc->node, "node1");
  EXPECT_EQ(svc->service, "web");
  EXPECT_EQ(svc->tags, (std::vector<std::string>{"v1", "primary"}));
  EXPECT_EQ(svc->address, "10.1.1.1");
  EXPECT_EQ(svc->port, 8080);
  EXPECT_EQ(svc->meta.at("version"), "3");
  EXPECT_EQ(svc->weights, (Weights{1, 1}));
  EXPECT_EQ(svc->create_index, 5u);
  EXPECT_EQ(svc->modify_index, 5u);
  auto check = snap().check_get("node1", "web-alive");
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(check->status, "critical");
  EXPECT_EQ(check->service_name, "web");
  EXPECT_EQ(check->service_tags, (std::vector<std::string>{"v1", "primary"}));
  EXPECT_EQ(check->http, "http://localhost:8080/health");
  EXPECT_EQ(check->interval, "10s");
  EXPECT_EQ(check->create_index, 5u);
  for (Table t : {Table::kNodes, Table::kServices, Table::kChecks}) {
    EXPECT_EQ(snap().table_index(t), 5u);
  }
  EXPECT_EQ(snap().table_index(Table::kSessions), 0u);
}

TEST_F(CatalogTest, IdenticalRegistrationMovesNoIndex) {
  seed_node1(1);
  proto::Command again = catalog_register("node1");
  with_service(again, "web1", "web", {"v1"});
  with_check(again, "serfHealth", "passing");
  with_check(again, "web-alive", "passing", "web1");
  ASSERT_TRUE(apply(2, again).status);
  for (Table t : {Table::kNodes, Table::kServices, Table::kChecks}) {
    EXPECT_EQ(snap().table_index(t), 1u);
  }
  EXPECT_EQ(snap().service_get("node1", "web1")->modify_index, 1u);
  EXPECT_EQ(snap().check_get("node1", "serfHealth")->modify_index, 1u);

  // Only the check's output changes: only the check and the checks index move.
  proto::Command output = catalog_register("node1");
  with_check(output, "web-alive", "passing", "web1")->set_output("HTTP 200");
  ASSERT_TRUE(apply(3, output).status);
  EXPECT_EQ(snap().table_index(Table::kNodes), 1u);
  EXPECT_EQ(snap().table_index(Table::kServices), 1u);
  EXPECT_EQ(snap().table_index(Table::kChecks), 3u);
  auto check = snap().check_get("node1", "web-alive");
  EXPECT_EQ(check->create_index, 1u);
  EXPECT_EQ(check->modify_index, 3u);
  EXPECT_EQ(check->output, "HTTP 200");

  // A changed service keeps CreateIndex; skip_node_update leaves the node alone even when
  // its fields differ.
  proto::Command port = catalog_register("node1");
  port.mutable_catalog_register()->set_address("10.9.9.9");
  port.mutable_catalog_register()->set_skip_node_update(true);
  with_service(port, "web1", "web", {"v1"}, 81);
  ASSERT_TRUE(apply(4, port).status);
  EXPECT_EQ(snap().node_get("node1")->address, "10.0.0.1");
  EXPECT_EQ(snap().table_index(Table::kNodes), 1u);
  EXPECT_EQ(snap().service_get("node1", "web1")->create_index, 1u);
  EXPECT_EQ(snap().service_get("node1", "web1")->modify_index, 4u);
  EXPECT_EQ(snap().table_index(Table::kServices), 4u);
}

TEST_F(CatalogTest, ServiceIdDefaultsToNameAndWeightsAreKept) {
  proto::Command c = catalog_register("node1");
  auto* s = with_service(c, "", "redis");
  s->mutable_weights()->set_passing(10);
  s->mutable_weights()->set_warning(0);
  ASSERT_TRUE(apply(1, c).status);
  auto svc = snap().service_get("node1", "redis");
  ASSERT_TRUE(svc.has_value());
  EXPECT_EQ(svc->weights, (Weights{10, 0}));
}

// Consul's NodeService.TaggedAddresses: map[string]ServiceAddress, each with its own port.
TEST_F(CatalogTest, ServiceTaggedAddressesCarryPorts) {
  auto tag = [](proto::Service* s, std::string key, std::string address, int port) {
    auto* p = s->add_tagged_addresses();
    p->set_key(std::move(key));
    p->mutable_value()->set_address(std::move(address));
    p->mutable_value()->set_port(port);
  };
  proto::Command c = catalog_register("node1");
  auto* s = with_service(c, "web1", "web", {}, 8080);
  tag(s, "lan", "10.0.0.5", 8080);
  tag(s, "wan", "198.18.0.1", 80);
  ASSERT_TRUE(apply(1, c).status);
  auto svc = snap().service_get("node1", "web1");
  ASSERT_TRUE(svc.has_value());
  EXPECT_EQ(svc->tagged_addresses, (std::map<std::string, ServiceAddress>{
                                       {"lan", {"10.0.0.5", 8080}}, {"wan", {"198.18.0.1", 80}}}));

  // The same addresses again change nothing; a new port is a change of the service.
  ASSERT_TRUE(apply(2, c).status);
  EXPECT_EQ(snap().service_get("node1", "web1")->modify_index, 1u);
  s->mutable_tagged_addresses(1)->mutable_value()->set_port(443);
  ASSERT_TRUE(apply(3, c).status);
  EXPECT_EQ(snap().service_get("node1", "web1")->modify_index, 3u);
  EXPECT_EQ(snap().service_get("node1", "web1")->tagged_addresses.at("wan").port, 443);
  EXPECT_EQ(snap().table_index(Table::kServices), 3u);
}

// Entries written before field 11 (plain strings in field 5) still replay, with port 0; a key
// in both takes field 11's value.
TEST_F(CatalogTest, LegacyStringTaggedAddressesReplay) {
  proto::Command c = catalog_register("node1");
  auto* s = with_service(c, "web1", "web");
  for (auto [k, v] : {std::pair{"lan", "10.0.0.5"}, std::pair{"wan", "198.18.0.1"}}) {
    auto* p = s->add_legacy_tagged_addresses();
    p->set_key(k);
    p->set_value(v);
  }
  auto* p = s->add_tagged_addresses();
  p->set_key("wan");
  p->mutable_value()->set_address("198.18.0.2");
  p->mutable_value()->set_port(80);
  ASSERT_TRUE(apply(1, c).status);
  EXPECT_EQ(snap().service_get("node1", "web1")->tagged_addresses,
            (std::map<std::string, ServiceAddress>{{"lan", {"10.0.0.5", 0}},
                                                   {"wan", {"198.18.0.2", 80}}}));
}

TEST_F(CatalogTest, ErrorsUseConsulTextsAndChangeNothing) {
  proto::Command no_node = catalog_register("node1");
  no_node.mutable_catalog_register()->set_skip_node_update(true);
  with_service(no_node, "web1", "web");
  ApplyResult r = apply(1, no_node);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "failed inserting service: Missing node registration");

  proto::Command missing_service = catalog_register("node1");
  with_check(missing_service, "serfHealth", "passing");
  with_check(missing_service, "db-alive", "passing", "db1");
  r = apply(2, missing_service);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "failed inserting check: Missing service registration");
  // All or nothing: the node and the first check are not there either.
  EXPECT_FALSE(snap().node_get("node1").has_value());
  EXPECT_TRUE(snap().checks_in_state("any").empty());
  for (Table t : {Table::kNodes, Table::kServices, Table::kChecks}) {
    EXPECT_EQ(snap().table_index(t), 0u);
  }

  proto::Command other_node = catalog_register("node1");
  with_check(other_node, "x", "passing")->set_node("node2");
  r = apply(3, other_node);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "failed inserting check: Missing node registration");

  r = apply(4, catalog_register(""));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Must provide node");
}

TEST_F(CatalogTest, Reads) {
  seed_node1(1);
  proto::Command c = catalog_register("node2");
  with_service(c, "web2", "Web", {"v2", "v1"});
  with_check(c, "serfHealth", "passing");
  with_check(c, "web-alive", "warning", "web2");
  apply(2, c);
  proto::Command db = catalog_register("node2");
  with_service(db, "db1", "db", {});
  apply(3, db);
  proto::Command db_check = catalog_register("node2");
  with_check(db_check, "db-alive", "critical", "db1");
  apply(4, db_check);

  auto names = snap().service_names();
  ASSERT_EQ(names.size(), 3u);  // "web" and "Web" are two names with one index entry
  EXPECT_EQ(names.at("db"), std::vector<std::string>{});
  EXPECT_EQ(names.at("web"), std::vector<std::string>{"v1"});
  EXPECT_EQ(names.at("Web"), (std::vector<std::string>{"v1", "v2"}));

  auto web = snap().service_instances("WEB");
  ASSERT_EQ(web.size(), 2u);
  EXPECT_EQ(web[0].node, "node1");
  EXPECT_EQ(web[1].node, "node2");
  EXPECT_TRUE(snap().service_instances("nope").empty());

  auto on_node2 = snap().node_services("node2");
  ASSERT_EQ(on_node2.size(), 2u);
  EXPECT_EQ(on_node2[0].id, "db1");
  EXPECT_EQ(on_node2[1].id, "web2");

  EXPECT_EQ(ids(snap().checks_for_node("node2")),
            (std::vector<std::string>{"node2/db-alive", "node2/serfHealth", "node2/web-alive"}));
  EXPECT_EQ(ids(snap().checks_for_instance("NODE2", "web2")),
            (std::vector<std::string>{"node2/serfHealth", "node2/web-alive"}));
  EXPECT_EQ(ids(snap().checks_for_service("web")),
            (std::vector<std::string>{"node1/web-alive", "node2/web-alive"}));
  EXPECT_EQ(ids(snap().checks_for_service("db")), std::vector<std::string>{"node2/db-alive"});
  EXPECT_EQ(ids(snap().checks_in_state("passing")),
            (std::vector<std::string>{"node1/serfHealth", "node1/web-alive", "node2/serfHealth"}));
  EXPECT_EQ(ids(snap().checks_in_state("critical")), std::vector<std::string>{"node2/db-alive"});
  EXPECT_EQ(snap().checks_in_state("any").size(), 5u);
  EXPECT_FALSE(snap().check_get("node1", "db-alive").has_value());
  EXPECT_FALSE(snap().service_get("node1", "db1").has_value());
}

TEST_F(CatalogTest, DeregisterServiceRemovesItsChecks) {
  seed_node1(1);
  ASSERT_TRUE(apply(2, catalog_deregister("node1", "web1")).status);
  EXPECT_FALSE(snap().service_get("node1", "web1").has_value());
  EXPECT_FALSE(snap().check_get("node1", "web-alive").has_value());
  EXPECT_TRUE(snap().check_get("node1", "serfHealth").has_value());
  EXPECT_TRUE(snap().service_instances("web").empty());
  EXPECT_TRUE(snap().checks_for_service("web").empty());
  EXPECT_EQ(snap().table_index(Table::kServices), 2u);
  EXPECT_EQ(snap().table_index(Table::kChecks), 2u);
  EXPECT_EQ(snap().table_index(Table::kNodes), 1u);

  // Missing things are no-ops that move nothing.
  ASSERT_TRUE(apply(3, catalog_deregister("node1", "web1")).status);
  ASSERT_TRUE(apply(4, catalog_deregister("node1", "", "nope")).status);
  ASSERT_TRUE(apply(5, catalog_deregister("node9")).status);
  for (Table t : {Table::kNodes, Table::kServices, Table::kChecks}) {
    EXPECT_LE(snap().table_index(t), 2u);
  }
}

TEST_F(CatalogTest, DeregisterCheckOnly) {
  seed_node1(1);
  ASSERT_TRUE(apply(2, catalog_deregister("node1", "", "WEB-ALIVE")).status);
  EXPECT_FALSE(snap().check_get("node1", "web-alive").has_value());
  EXPECT_TRUE(snap().service_get("node1", "web1").has_value());
  EXPECT_TRUE(snap().checks_for_service("web").empty());
  EXPECT_EQ(snap().table_index(Table::kServices), 1u);
  EXPECT_EQ(snap().table_index(Table::kChecks), 2u);
}

TEST_F(CatalogTest, DeregisterNodeCascadesToServicesChecksAndSessions) {
  seed_node1(1);
  apply(2, node_register("node2"));
  apply(3, session_on("plain", "node1", {}, "release", 5 * kSecondNs));
  apply(4, session_on("on-check", "node1", {"serfHealth"}, "delete", 5 * kSecondNs));
  apply(5, node_register("node2"));
  apply(6, session_on("elsewhere", "node2", {}));
  apply(7, kv(kv_op(KvOp::LOCK, "held", "v", 0, "plain")));
  apply(8, kv(kv_op(KvOp::LOCK, "doomed", "v", 0, "on-check")));
  apply(9, kv(kv_op(KvOp::LOCK, "other", "v", 0, "elsewhere")));

  ASSERT_TRUE(apply(10, catalog_deregister("NODE1", "", "", kNowNs)).status);
  EXPECT_FALSE(snap().node_get("node1").has_value());
  EXPECT_TRUE(snap().node_services("node1").empty());
  EXPECT_TRUE(snap().checks_for_node("node1").empty());
  EXPECT_TRUE(snap().service_names().empty());
  EXPECT_TRUE(snap().session_list_node("node1").empty());
  EXPECT_FALSE(snap().session_get("plain").has_value());
  EXPECT_FALSE(snap().session_get("on-check").has_value());
  EXPECT_TRUE(snap().session_get("elsewhere").has_value());
  // Locks went the way SessionDestroy takes them, lock delays included.
  EXPECT_EQ(get("held").session, "");
  EXPECT_EQ(get("held").modify_index, 10u);
  EXPECT_FALSE(snap().kv_get("doomed").has_value());
  EXPECT_EQ(get("other").session, "elsewhere");
  EXPECT_EQ(snap().kv_lock_delay_until_unix_ns("held"), kNowNs + 5 * kSecondNs);
  EXPECT_EQ(snap().kv_lock_delay_until_unix_ns("doomed"), kNowNs + 5 * kSecondNs);
  for (Table t : {Table::kNodes, Table::kServices, Table::kChecks, Table::kSessions, Table::kKvs,
                  Table::kTombstones}) {
    EXPECT_EQ(snap().table_index(t), 10u);
  }
}

TEST_F(CatalogTest, SessionCreateValidatesChecks) {
  seed_node1(1);
  proto::Command warn = catalog_register("node1");
  with_check(warn, "mem", "warning");
  with_check(warn, "disk", "critical");
  apply(2, warn);
  apply(3, node_register("node2"));

  ApplyResult r = apply(4, session_on("s1", "node1", {"serfHealth", "nope"}));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Missing check 'nope' registration");
  r = apply(5, session_on("s1", "node1", {"disk"}));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Check 'disk' is in critical state");
  // A check on another node does not count.
  r = apply(6, session_on("s1", "node2", {"serfHealth"}));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Missing check 'serfHealth' registration");
  EXPECT_EQ(snap().table_index(Table::kSessions), 0u);

  EXPECT_TRUE(apply(7, session_on("s1", "node1", {"serfHealth", "mem"})).status);
  proto::Command svc = session_on("s2", "node1", {});
  svc.mutable_session_create()->mutable_session()->add_service_checks()->set_id("web-alive");
  EXPECT_TRUE(apply(8, svc).status);
  proto::Command svc_missing = session_on("s3", "node1", {});
  svc_missing.mutable_session_create()->mutable_session()->add_service_checks()->set_id("x");
  r = apply(9, svc_missing);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().message, "Missing check 'x' registration");
}

TEST_F(CatalogTest, CriticalCheckInvalidatesItsSessions) {
  seed_node1(1);
  apply(2, session_on("on-serf", "node1", {"serfHealth"}, "release", 10 * kSecondNs));
  proto::Command svc = session_on("on-web", "node1", {}, "delete", 0);
  svc.mutable_session_create()->mutable_session()->add_service_checks()->set_id("web-alive");
  apply(3, svc);
  apply(4, session_on("free", "node1", {}));
  apply(5, kv(kv_op(KvOp::LOCK, "a", "va", 0, "on-serf")));
  apply(6, kv(kv_op(KvOp::LOCK, "b", "vb", 0, "on-web")));

  // Warning keeps the session.
  proto::Command warn = catalog_register("node1");
  with_check(warn, "serfHealth", "warning");
  apply(7, warn);
  EXPECT_TRUE(snap().session_get("on-serf").has_value());

  proto::Command crit = catalog_register("node1");
  crit.set_proposed_unix_ns(kNowNs);
  with_check(crit, "serfHealth", "critical");
  ASSERT_TRUE(apply(8, crit).status);
  EXPECT_FALSE(snap().session_get("on-serf").has_value());
  EXPECT_TRUE(snap().session_get("on-web").has_value());
  EXPECT_TRUE(snap().session_get("free").has_value());
  EXPECT_EQ(get("a").session, "");
  EXPECT_EQ(get("a").modify_index, 8u);
  EXPECT_EQ(snap().kv_lock_delay_until_unix_ns("a"), kNowNs + 10 * kSecondNs);
  EXPECT_EQ(snap().table_index(Table::kSessions), 8u);
  EXPECT_EQ(snap().table_index(Table::kChecks), 8u);

  // Deleting a service check destroys the session that listed it; "delete" takes the key.
  ASSERT_TRUE(apply(9, catalog_deregister("node1", "", "web-alive", kNowNs)).status);
  EXPECT_FALSE(snap().session_get("on-web").has_value());
  EXPECT_FALSE(snap().kv_get("b").has_value());
  EXPECT_EQ(snap().kv_graveyard_max_index("b"), 9u);
  EXPECT_TRUE(snap().session_get("free").has_value());
}

TEST_F(CatalogTest, WatchesFireOnExactlyTheseTables) {
  seed_node1(1);
  WatchSet kvs, sessions, services, checks, nodes;
  store_.watch_table(kvs, Table::kKvs);
  store_.watch_table(sessions, Table::kSessions);
  store_.watch_table(services, Table::kServices);
  store_.watch_table(checks, Table::kChecks);
  store_.watch_table(nodes, Table::kNodes);
  proto::Command output = catalog_register("node1");
  with_check(output, "serfHealth", "passing")->set_output("ok");
  apply(2, output);
  EXPECT_TRUE(checks.fired());
  EXPECT_FALSE(services.fired());
  EXPECT_FALSE(nodes.fired());
  EXPECT_FALSE(kvs.fired());
  EXPECT_FALSE(sessions.fired());

  // An identical registration wakes nobody.
  WatchSet again;
  store_.watch_table(again, Table::kChecks);
  store_.watch_table(again, Table::kServices);
  store_.watch_table(again, Table::kNodes);
  apply(3, output);
  EXPECT_FALSE(again.fired());
}

TEST_F(CatalogTest, ServiceWatchFiresOnlyForItsName) {
  seed_node1(1);
  proto::Command db = catalog_register("node1");
  with_service(db, "db1", "db");
  apply(2, db);

  auto watch = [&](std::string_view name) {
    auto ws = std::make_unique<WatchSet>();
    store_.watch_service(*ws, name);
    return ws;
  };
  // A check of a web instance changes: web wakes, db does not.
  auto web = watch("WEB");
  auto dbw = watch("db");
  proto::Command c = catalog_register("node1");
  with_check(c, "web-alive", "warning", "web1");
  apply(3, c);
  EXPECT_TRUE(web->fired());
  EXPECT_FALSE(dbw->fired());

  // A node check is part of the health of every service on its node (Consul's
  // updateAllServiceIndexesOfNode): both wake.
  web = watch("web");
  proto::Command serf = catalog_register("node1");
  with_check(serf, "serfHealth", "warning");
  apply(4, serf);
  EXPECT_TRUE(web->fired());
  EXPECT_TRUE(dbw->fired());
  dbw = watch("db");

  // A new db check wakes db; renaming an instance wakes both names.
  proto::Command dbc = catalog_register("node1");
  with_check(dbc, "db-alive", "passing", "db1");
  apply(5, dbc);
  EXPECT_TRUE(dbw->fired());
  web = watch("web");
  dbw = watch("db");
  auto cache = watch("cache");
  proto::Command rename = catalog_register("node1");
  with_service(rename, "db1", "cache");
  apply(6, rename);
  EXPECT_TRUE(dbw->fired());
  EXPECT_TRUE(cache->fired());
  EXPECT_FALSE(web->fired());

  // Deregistering the node wakes every service on it; a failed command wakes none.
  web = watch("web");
  cache = watch("cache");
  proto::Command bad = catalog_register("node1");
  with_check(bad, "web-alive", "passing", "web1");
  with_check(bad, "x", "passing", "missing");
  ASSERT_FALSE(apply(7, bad).status);
  EXPECT_FALSE(web->fired());
  apply(8, catalog_deregister("node1"));
  EXPECT_TRUE(web->fired());
  EXPECT_TRUE(cache->fired());
}

TEST_F(CatalogTest, CheckMovesBetweenServices) {
  seed_node1(1);
  proto::Command api = catalog_register("node1");
  with_service(api, "api1", "api");
  apply(2, api);
  proto::Command move = catalog_register("node1");
  with_check(move, "web-alive", "passing", "api1");
  apply(3, move);
  EXPECT_TRUE(snap().checks_for_service("web").empty());
  ASSERT_EQ(snap().checks_for_service("api").size(), 1u);
  EXPECT_EQ(snap().check_get("node1", "web-alive")->service_name, "api");
  // Deleting web1 now leaves the moved check alone.
  apply(4, catalog_deregister("node1", "web1"));
  EXPECT_TRUE(snap().check_get("node1", "web-alive").has_value());
  apply(5, kv_set("unrelated", "x"));
}

}  // namespace
}  // namespace pc::state

namespace pc::state {
namespace {

TEST_F(CatalogTest, ServiceIndexMovesOnlyForItsOwnService) {
  seed_node1(1);
  EXPECT_EQ(snap().service_index("web"), 1u);
  EXPECT_EQ(snap().service_index("WEB"), 1u) << "service names ignore case";
  EXPECT_EQ(snap().service_index("db"), 0u);
  // Another service on another node: web's index stays.
  proto::Command db = catalog_register("node2");
  with_service(db, "db1", "db", {});
  ASSERT_TRUE(apply(2, db).status);
  EXPECT_EQ(snap().service_index("web"), 1u);
  EXPECT_EQ(snap().service_index("db"), 2u);
  // web's check changing moves web's index.
  proto::Command critical = catalog_register("node1");
  with_check(critical, "web-alive", "critical", "web1");
  ASSERT_TRUE(apply(3, critical).status);
  EXPECT_EQ(snap().service_index("web"), 3u);
  // A change to node1 itself reaches its services; node2's db is untouched.
  proto::Command moved = catalog_register("node1");
  moved.mutable_catalog_register()->set_address("10.7.7.7");
  ASSERT_TRUE(apply(4, moved).status);
  EXPECT_EQ(snap().service_index("web"), 4u);
  EXPECT_EQ(snap().service_index("db"), 2u);
  // A node-level check (serfHealth here, or node maintenance) is in every health entry of
  // the node's services: changing or removing it moves their index too.
  proto::Command serf = catalog_register("node1");
  with_check(serf, "serfHealth", "critical");
  ASSERT_TRUE(apply(5, serf).status);
  EXPECT_EQ(snap().service_index("web"), 5u);
  EXPECT_EQ(snap().service_index("db"), 2u);
  proto::Command serf_gone;
  serf_gone.mutable_catalog_deregister()->set_node("node1");
  serf_gone.mutable_catalog_deregister()->set_check_id("serfHealth");
  ASSERT_TRUE(apply(6, serf_gone).status);
  EXPECT_EQ(snap().service_index("web"), 6u);
  // Deregistering the last instance moves the index forward and keeps it.
  proto::Command gone;
  gone.mutable_catalog_deregister()->set_node("node1");
  gone.mutable_catalog_deregister()->set_service_id("web1");
  ASSERT_TRUE(apply(7, gone).status);
  EXPECT_TRUE(snap().service_instances("web").empty());
  EXPECT_EQ(snap().service_index("web"), 7u);
}

}  // namespace
}  // namespace pc::state
