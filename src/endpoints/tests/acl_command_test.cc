// The ACL check of writes client agents send (endpoints/acl_command.h), against a store that
// holds a node with a service and checks: which permission each command needs, and that the
// denial names it in Consul's words.
#include <gtest/gtest.h>

#include "acl/rules.h"
#include "endpoints/acl_command.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

ResolvedToken token_with(std::string rules) {
  acl::TokenGrantsText g;
  g.accessor_id = "acc-1";
  g.policies.push_back({"p", 1, std::move(rules)});
  return compile_grants(g, "dc1", acl::DefaultPolicy::kDeny, [](const acl::GrantedPolicy& p) {
    auto parsed = acl::parse_rules(p.rules);
    EXPECT_TRUE(parsed.has_value());
    return std::make_shared<const acl::PolicyRules>(std::move(*parsed));
  });
}

proto::Command register_node(std::string node, std::string address) {
  proto::Command c;
  auto* r = c.mutable_catalog_register();
  r->set_id("11111111-2222-3333-4444-555555555555");
  r->set_node(std::move(node));
  r->set_address(std::move(address));
  r->set_datacenter("dc1");
  return c;
}

proto::Command register_service(std::string node, std::string address, std::string id,
                                std::string name) {
  proto::Command c = register_node(std::move(node), std::move(address));
  auto* s = c.mutable_catalog_register()->mutable_service();
  s->set_id(std::move(id));
  s->set_service(std::move(name));
  return c;
}

class AclCommandTest : public ::testing::Test {
 protected:
  AclCommandTest() {
    // node n1 at 10.0.0.1 with service web-1 (web), a node check and a check of web-1.
    proto::Command c = register_service("n1", "10.0.0.1", "web-1", "web");
    auto* node_check = c.mutable_catalog_register()->add_checks();
    node_check->set_check_id("node-ok");
    node_check->set_name("node ok");
    auto* web_check = c.mutable_catalog_register()->add_checks();
    web_check->set_check_id("web-ok");
    web_check->set_name("web ok");
    web_check->set_service_id("web-1");
    EXPECT_TRUE(store_.apply(1, c).status.has_value());
    store_.publish();
  }
  core::Status check(const proto::Command& c, const ResolvedToken& who) {
    return authorize_client_command(c, who, store_.snapshot());
  }

  state::Store store_;
};

TEST_F(AclCommandTest, NewOrChangedNodeNeedsNodeWrite) {
  auto services_only = token_with(R"(service_prefix "" { policy = "write" })");
  auto denied = check(register_node("n2", "10.0.0.2"), services_only);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, core::Code::kPermissionDenied);
  EXPECT_EQ(denied.error().message,
            "Permission denied: token with AccessorID 'acc-1' lacks permission 'node:write' on "
            "\"n2\"");
  EXPECT_FALSE(check(register_node("n1", "10.9.9.9"), services_only).has_value());  // moved
  EXPECT_TRUE(
      check(register_node("n2", "10.0.0.2"), token_with(R"(node "n2" { policy = "write" })"))
          .has_value());
}

TEST_F(AclCommandTest, ServiceOnUnchangedNodeNeedsOnlyServiceWrite) {
  auto web = token_with(R"(service "web" { policy = "write" })");
  EXPECT_TRUE(check(register_service("n1", "10.0.0.1", "web-2", "web"), web).has_value());
  auto other = check(register_service("n1", "10.0.0.1", "db-1", "db"), web);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().message,
            "Permission denied: token with AccessorID 'acc-1' lacks permission 'service:write' "
            "on \"db\"");
  proto::Command skip = register_service("n1", "10.9.9.9", "web-3", "web");
  skip.mutable_catalog_register()->set_skip_node_update(true);
  EXPECT_TRUE(check(skip, web).has_value());
}

TEST_F(AclCommandTest, ChecksNeedTheirServiceOrTheNode) {
  auto web = token_with(R"(service "web" { policy = "write" })");
  proto::Command c = register_node("n1", "10.0.0.1");
  auto* svc_check = c.mutable_catalog_register()->add_checks();
  svc_check->set_check_id("web-2");
  svc_check->set_service_id("web-1");  // registered earlier: its name is looked up
  EXPECT_TRUE(check(c, web).has_value());
  auto* node_check = c.mutable_catalog_register()->add_checks();
  node_check->set_check_id("mem");
  auto denied = check(c, web);
  ASSERT_FALSE(denied.has_value());
  EXPECT_NE(denied.error().message.find("'node:write' on \"n1\""), std::string::npos);
}

TEST_F(AclCommandTest, DeregisterNeedsWhatItRemoves) {
  auto web = token_with(R"(service "web" { policy = "write" })");
  auto node = token_with(R"(node "n1" { policy = "write" })");
  proto::Command c;
  auto* d = c.mutable_catalog_deregister();
  d->set_node("n1");
  d->set_service_id("web-1");
  EXPECT_TRUE(check(c, web).has_value());
  EXPECT_TRUE(check(c, node).has_value());  // node:write covers everything on the node
  EXPECT_FALSE(check(c, token_with(R"(service "db" { policy = "write" })")).has_value());
  d->set_service_id("");
  d->set_check_id("web-ok");
  EXPECT_TRUE(check(c, web).has_value());
  d->set_check_id("node-ok");
  EXPECT_FALSE(check(c, web).has_value());
  EXPECT_TRUE(check(c, node).has_value());
  d->set_check_id("");
  EXPECT_FALSE(check(c, web).has_value());
  EXPECT_TRUE(check(c, node).has_value());
}

TEST_F(AclCommandTest, CoordinatesSessionsAndKv) {
  auto node = token_with(R"(node "n1" { policy = "write" })");
  proto::Command coord;
  coord.mutable_coordinate_batch_update()->add_updates()->set_node("n1");
  EXPECT_TRUE(check(coord, node).has_value());
  coord.mutable_coordinate_batch_update()->add_updates()->set_node("n2");
  EXPECT_FALSE(check(coord, node).has_value());

  proto::Command session;
  session.mutable_session_create()->mutable_session()->set_node("n1");
  EXPECT_FALSE(check(session, node).has_value());
  EXPECT_TRUE(check(session, token_with(R"(session "n1" { policy = "write" })")).has_value());

  auto app = token_with(R"(key_prefix "app/" { policy = "write" })");
  proto::Command kv;
  kv.mutable_kv()->set_key("app/x");
  EXPECT_TRUE(check(kv, app).has_value());
  kv.mutable_kv()->set_key("etc/x");
  EXPECT_FALSE(check(kv, app).has_value());
  kv.mutable_kv()->set_key("");
  kv.mutable_kv()->set_verb(proto::KvOp::DELETE_TREE);  // everything: more than app/
  EXPECT_FALSE(check(kv, app).has_value());
}

TEST_F(AclCommandTest, ServerOnlyCommandsAreRefusedEvenToManagement) {
  auto all = token_with(R"(acl = "write"
operator = "write")");
  proto::Command c;
  c.mutable_tombstone_reap()->set_up_to_index(5);
  EXPECT_FALSE(check(c, all).has_value());
  proto::Command policy;
  policy.mutable_acl_policy_delete();
  EXPECT_FALSE(check(policy, all).has_value());
}

}  // namespace
}  // namespace pc::endpoints
