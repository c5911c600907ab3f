// The ACL checks and filters of the areas acl_checks.h and acl_agent.h cover, against tokens
// compiled from rules text and ending in default deny, as a resolved token does: each check
// allows exactly what its rule grants and names the missing rule in Consul's text.
#include <gtest/gtest.h>

#include <vector>

#include "acl/authorizer.h"
#include "acl/rules.h"
#include "core/clock.h"
#include "endpoints/acl_agent.h"
#include "endpoints/acl_checks.h"
#include "proto/commands.pb.h"
#include "state/store.h"

namespace pc::endpoints {
namespace {

constexpr auto kWrite = acl::AccessLevel::kWrite;

ResolvedToken token(std::string_view rules) {
  auto parsed = acl::parse_rules(rules);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  const acl::PolicyRules* policies[] = {&*parsed};
  return ResolvedToken{"acc-1", acl::chain({acl::compile_policies(policies),
                                            acl::default_authorizer(acl::DefaultPolicy::kDeny)})};
}

std::string denial(const core::Status& st) {
  return st ? std::string("allowed") : st.error().message;
}

// A store with node n1 (10.0.0.1) running service "web" (ID web-1) with a check on it, a node
// check, and a session on n1.
class AclChecksTest : public ::testing::Test {
 protected:
  AclChecksTest() {
    proto::Command reg;
    auto* r = reg.mutable_catalog_register();
    r->set_node("n1");
    r->set_address("10.0.0.1");
    r->mutable_service()->set_id("web-1");
    r->mutable_service()->set_service("web");
    auto* c = r->add_checks();
    c->set_node("n1");
    c->set_check_id("web-check");
    c->set_name("web-check");
    c->set_service_id("web-1");
    auto* nc = r->add_checks();
    nc->set_node("n1");
    nc->set_check_id("node-check");
    nc->set_name("node-check");
    EXPECT_TRUE(store_.apply(1, reg).ok);
    proto::Command session;
    session.mutable_session_create()->mutable_session()->set_id("s-1");
    session.mutable_session_create()->mutable_session()->set_node("n1");
    EXPECT_TRUE(store_.apply(2, session).ok);
    store_.publish();
  }
  state::Store store_;
};

TEST_F(AclChecksTest, RequireRuleNamesTheMissingRule) {
  auto who = token(R"(node "n1" { policy = "read" })");
  EXPECT_TRUE(require_rule(who, acl::Resource::kNode, "n1", acl::AccessLevel::kRead));
  EXPECT_EQ(denial(require_rule(who, acl::Resource::kNode, "n1", kWrite)),
            "Permission denied: token with AccessorID 'acc-1' lacks permission 'node:write' on "
            "\"n1\"");
  EXPECT_EQ(denial(require_global(who, acl::GlobalResource::kKeyring, acl::AccessLevel::kRead)),
            "Permission denied: token with AccessorID 'acc-1' lacks permission 'keyring:read'");
  EXPECT_TRUE(require_global(token(R"(keyring = "write")"), acl::GlobalResource::kKeyring,
                             acl::AccessLevel::kRead));
}

TEST_F(AclChecksTest, CatalogRegisterNeedsNodeWriteOnlyWhenTheNodeChanges) {
  const state::Snapshot snap = store_.snapshot();
  proto::CatalogRegister same;
  same.set_node("n1");
  same.set_address("10.0.0.1");
  same.mutable_service()->set_id("web-2");
  same.mutable_service()->set_service("web");
  auto web_writer = token(R"(service "web" { policy = "write" })");
  EXPECT_TRUE(check_catalog_register(web_writer, snap, same));

  proto::CatalogRegister moved = same;
  moved.set_address("10.0.0.9");
  EXPECT_EQ(denial(check_catalog_register(web_writer, snap, moved)),
            "Permission denied: token with AccessorID 'acc-1' lacks permission 'node:write' on "
            "\"n1\"");
  auto both = token(R"(service "web" { policy = "write" }
                       node "n1" { policy = "write" })");
  EXPECT_TRUE(check_catalog_register(both, snap, moved));

  proto::CatalogRegister fresh = same;
  fresh.set_node("n2");
  EXPECT_FALSE(check_catalog_register(web_writer, snap, fresh));  // a new node is written

  // The service needs service:write on its name.
  EXPECT_EQ(denial(check_catalog_register(token(R"(node "n1" { policy = "write" })"), snap, same)),
            "Permission denied: token with AccessorID 'acc-1' lacks permission 'service:write' "
            "on \"web\"");
}

TEST_F(AclChecksTest, CatalogRegisterChecksAndReplacedInstances) {
  const state::Snapshot snap = store_.snapshot();
  auto web_writer = token(R"(service "web" { policy = "write" })");
  // A check on the existing web-1 instance: service:write on web is enough.
  proto::CatalogRegister svc_check;
  svc_check.set_node("n1");
  svc_check.set_address("10.0.0.1");
  svc_check.mutable_check()->set_check_id("c2");
  svc_check.mutable_check()->set_service_id("web-1");
  EXPECT_TRUE(check_catalog_register(web_writer, snap, svc_check));
  // A node check needs node:write.
  proto::CatalogRegister node_check = svc_check;
  node_check.mutable_check()->clear_service_id();
  EXPECT_FALSE(check_catalog_register(web_writer, snap, node_check));
  // Taking over web-1's ID for another service writes web too.
  proto::CatalogRegister takeover;
  takeover.set_node("n1");
  takeover.set_address("10.0.0.1");
  takeover.mutable_service()->set_id("web-1");
  takeover.mutable_service()->set_service("db");
  EXPECT_EQ(
      denial(check_catalog_register(token(R"(service "db" { policy = "write" })"), snap, takeover)),
      "Permission denied: token with AccessorID 'acc-1' lacks permission 'service:write' "
      "on \"web\"");
}

TEST_F(AclChecksTest, CatalogDeregister) {
  const state::Snapshot snap = store_.snapshot();
  proto::CatalogDeregister svc;
  svc.set_node("n1");
  svc.set_service_id("web-1");
  EXPECT_TRUE(check_catalog_deregister(token(R"(service "web" { policy = "write" })"), snap, svc));
  EXPECT_TRUE(check_catalog_deregister(token(R"(node "n1" { policy = "write" })"), snap, svc));
  EXPECT_FALSE(check_catalog_deregister(token(R"(service "db" { policy = "write" })"), snap, svc));

  proto::CatalogDeregister chk;
  chk.set_node("n1");
  chk.set_check_id("web-check");
  EXPECT_TRUE(check_catalog_deregister(token(R"(service "web" { policy = "write" })"), snap, chk));
  chk.set_check_id("node-check");
  EXPECT_FALSE(check_catalog_deregister(token(R"(service "web" { policy = "write" })"), snap, chk));

  proto::CatalogDeregister node;
  node.set_node("n1");
  EXPECT_EQ(
      denial(check_catalog_deregister(token(R"(service "web" { policy = "write" })"), snap, node)),
      "Permission denied: token with AccessorID 'acc-1' lacks permission 'node:write' on "
      "\"n1\"");
  // An unknown service needs node:write.
  svc.set_service_id("nope");
  EXPECT_FALSE(check_catalog_deregister(token(R"(service "web" { policy = "write" })"), snap, svc));
}

TEST_F(AclChecksTest, SessionsAreCheckedAndFilteredByTheirNode) {
  const state::Snapshot snap = store_.snapshot();
  EXPECT_TRUE(check_session_write(token(R"(session "n1" { policy = "write" })"), snap, "s-1"));
  EXPECT_EQ(denial(check_session_write(token(R"(session "n1" { policy = "read" })"), snap, "s-1")),
            "Permission denied: token with AccessorID 'acc-1' lacks permission 'session:write' "
            "on \"n1\"");
  EXPECT_TRUE(check_session_write(token(""), snap, "unknown"));  // the endpoint answers it

  std::vector<state::Session> sessions = snap.session_list();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_FALSE(filter_sessions(token(R"(session_prefix "n" { policy = "read" })"), sessions));
  EXPECT_EQ(sessions.size(), 1u);
  EXPECT_TRUE(filter_sessions(token(R"(session "n2" { policy = "read" })"), sessions));
  EXPECT_TRUE(sessions.empty());
}

TEST_F(AclChecksTest, NodeServicesHideTheNodeOrItsUnreadableServices) {
  CatalogNodeServices read;
  read.node = store_.snapshot().node_get("n1");
  read.services = store_.snapshot().node_services("n1");
  CatalogNodeServices copy = read;
  EXPECT_TRUE(filter_node_services(token(R"(service "web" { policy = "read" })"), copy));
  EXPECT_FALSE(copy.node.has_value());
  EXPECT_TRUE(copy.services.empty());
  copy = read;
  EXPECT_TRUE(filter_node_services(token(R"(node "n1" { policy = "read" })"), copy));
  EXPECT_TRUE(copy.node.has_value());
  EXPECT_TRUE(copy.services.empty());
  copy = read;
  EXPECT_FALSE(filter_node_services(token(R"(node "n1" { policy = "read" }
                                             service "web" { policy = "read" })"),
                                    copy));
  EXPECT_EQ(copy.services.size(), 1u);
}

TEST(AclFilters, MembersCoordinatesAndEvents) {
  auto who = token(R"(node "a" { policy = "read" }
                      event_prefix "deploy" { policy = "read" })");
  std::vector<LanMember> members(2);
  members[0].name = "a";
  members[1].name = "b";
  EXPECT_TRUE(filter_members(who, members));
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].name, "a");
  EXPECT_FALSE(filter_members(who, members));

  std::vector<state::CoordinateRow> rows(2);
  rows[0].node = "b";
  rows[1].node = "a";
  EXPECT_TRUE(filter_coordinates(who, rows));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].node, "a");

  std::vector<UserEvent> events(2);
  events[0].name = "deploy-web";
  events[1].name = "restart";
  EXPECT_TRUE(filter_user_events(who, events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "deploy-web");
}

TEST(AclAgent, ServicesAndChecksOfTheLocalAgent) {
  agent::LocalState local("n1", core::SystemClock::instance());
  state::Service web;
  web.id = "web-1";
  web.service = "web";
  local.add_service(web);
  state::HealthCheck svc_check;
  svc_check.node = "n1";
  svc_check.check_id = "web-ttl";
  svc_check.service_id = "web-1";
  svc_check.service_name = "web";
  ASSERT_TRUE(local.add_check(svc_check, agent::CheckSpec{}));
  state::HealthCheck node_check;
  node_check.node = "n1";
  node_check.check_id = "node-ttl";
  ASSERT_TRUE(local.add_check(node_check, agent::CheckSpec{}));

  auto web_writer = token(R"(service "web" { policy = "write" })");
  auto node_writer = token(R"(node "n1" { policy = "write" })");
  agent::ServiceRegistration reg;
  reg.service = web;
  EXPECT_TRUE(check_agent_service_register(web_writer, reg));
  EXPECT_EQ(denial(check_agent_service_register(node_writer, reg)),
            "Permission denied: token with AccessorID 'acc-1' lacks permission 'service:write' "
            "on \"web\"");
  EXPECT_TRUE(check_agent_service_update(web_writer, local, "web-1"));
  EXPECT_FALSE(check_agent_service_update(node_writer, local, "web-1"));
  EXPECT_TRUE(check_agent_service_update(node_writer, local, "unknown"));

  EXPECT_TRUE(check_agent_check_update(web_writer, local, "n1", "web-ttl"));
  EXPECT_FALSE(check_agent_check_update(node_writer, local, "n1", "web-ttl"));
  EXPECT_TRUE(check_agent_check_update(node_writer, local, "n1", "node-ttl"));
  EXPECT_FALSE(check_agent_check_update(web_writer, local, "n1", "node-ttl"));

  agent::CheckRegistration new_check;
  new_check.check.check_id = "c";
  EXPECT_TRUE(check_agent_check_register(node_writer, local, "n1", new_check));
  EXPECT_FALSE(check_agent_check_register(web_writer, local, "n1", new_check));
  new_check.check.service_id = "web-1";
  EXPECT_TRUE(check_agent_check_register(web_writer, local, "n1", new_check));
  EXPECT_FALSE(check_agent_check_register(node_writer, local, "n1", new_check));

  std::vector<state::Service> services = local.services();
  EXPECT_FALSE(filter_agent_services(token(R"(service "web" { policy = "read" })"), services));
  EXPECT_TRUE(filter_agent_services(node_writer, services));
  EXPECT_TRUE(services.empty());
  std::vector<agent::LocalCheck> checks = local.checks();
  EXPECT_TRUE(filter_agent_checks(token(R"(node "n1" { policy = "read" })"), checks));
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].check.check_id, "node-ttl");
}

}  // namespace
}  // namespace pc::endpoints
