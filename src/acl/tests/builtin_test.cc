#include "acl/builtin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pc::acl {
namespace {

constexpr Decision kAllow = Decision::kAllow;
constexpr Decision kDeny = Decision::kDeny;

TEST(Builtin, GlobalManagementGrantsEverything) {
  const Policy policy = global_management_policy();
  EXPECT_EQ(policy.id, "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(policy.name, "global-management");
  auto rules = parse_rules(policy.rules);
  ASSERT_TRUE(rules.has_value()) << rules.error().message;
  const PolicyRules* list[] = {&*rules};
  // Under default deny, nothing may fall through to the default.
  const AuthorizerPtr authz = chain({compile_policies(list), deny_all()});
  EXPECT_EQ(authz->acl_write(), kAllow);
  EXPECT_EQ(authz->snapshot(), kAllow);
  EXPECT_EQ(authz->agent_write("any"), kAllow);
  EXPECT_EQ(authz->event_write("any"), kAllow);
  EXPECT_EQ(authz->intention_write("*"), kAllow);
  EXPECT_EQ(authz->key_write_prefix(""), kAllow);
  EXPECT_EQ(authz->key_list("any"), kAllow);
  EXPECT_EQ(authz->keyring_write(), kAllow);
  EXPECT_EQ(authz->mesh_write(), kAllow);
  EXPECT_EQ(authz->peering_write(), kAllow);
  EXPECT_EQ(authz->node_write("any"), kAllow);
  EXPECT_EQ(authz->node_read_all(), kAllow);
  EXPECT_EQ(authz->operator_write(), kAllow);
  EXPECT_EQ(authz->query_write("any"), kAllow);
  EXPECT_EQ(authz->service_write("any"), kAllow);
  EXPECT_EQ(authz->service_write_any(), kAllow);
  EXPECT_EQ(authz->session_write("any"), kAllow);
}

TEST(Builtin, AnonymousTokenAndReservedIds) {
  const Token token = anonymous_token();
  EXPECT_EQ(token.accessor_id, "00000000-0000-0000-0000-000000000002");
  EXPECT_EQ(token.secret_id, "anonymous");
  EXPECT_TRUE(token.policies.empty());
  EXPECT_TRUE(is_reserved_id(token.accessor_id));
  EXPECT_TRUE(is_reserved_id(std::string(kGlobalManagementPolicyId)));
  EXPECT_FALSE(is_reserved_id("00000000-0000-0000-0000-000000000100"));
  EXPECT_FALSE(is_reserved_id("6a1253d2-1785-24fd-91c2-f8e78c745511"));
}

TEST(Builtin, TokenExpiry) {
  Token token;
  EXPECT_FALSE(token.is_expired(1'000));
  token.expiration_time_unix_ns = 1'000;
  EXPECT_FALSE(token.is_expired(1'000));
  EXPECT_TRUE(token.is_expired(1'001));
}

TEST(Builtin, IdentityNames) {
  EXPECT_TRUE(is_valid_identity_name("web"));
  EXPECT_TRUE(is_valid_identity_name("a"));
  EXPECT_TRUE(is_valid_identity_name("web-1_x"));
  EXPECT_FALSE(is_valid_identity_name(""));
  EXPECT_FALSE(is_valid_identity_name("Web"));
  EXPECT_FALSE(is_valid_identity_name("-web"));
  EXPECT_FALSE(is_valid_identity_name("web_"));
  EXPECT_FALSE(is_valid_identity_name("web\" { policy"));
  EXPECT_TRUE(is_valid_identity_name(std::string(256, 'a')));
  EXPECT_FALSE(is_valid_identity_name(std::string(257, 'a')));
}

TEST(Builtin, ServiceIdentityGrantsItsServiceAndSidecar) {
  const ServiceIdentity web{"web", {}};
  const TokenGrants grants{{}, {&web, 1}, {}};
  const AuthorizerPtr authz = token_authorizer(grants, "dc1", DefaultPolicy::kDeny);
  EXPECT_EQ(authz->service_write("web"), kAllow);
  EXPECT_EQ(authz->service_write("web-sidecar-proxy"), kAllow);
  EXPECT_EQ(authz->service_write("web2"), kDeny);
  EXPECT_EQ(authz->service_read("db"), kAllow);
  EXPECT_EQ(authz->node_read("any"), kAllow);
  EXPECT_EQ(authz->node_write("any"), kDeny);
  EXPECT_EQ(authz->key_read("k"), kDeny);
  EXPECT_EQ(authz->intention_read("web"), kAllow);
}

TEST(Builtin, IdentitiesAreScopedToDatacenters) {
  const ServiceIdentity web_in_dc2{"web", {"dc2", "dc3"}};
  EXPECT_FALSE(service_identity_rules(web_in_dc2, "dc1").has_value());
  EXPECT_TRUE(service_identity_rules(web_in_dc2, "dc3").has_value());
  const NodeIdentity node{"n1", "dc1"};
  EXPECT_TRUE(node_identity_rules(node, "dc1").has_value());
  EXPECT_FALSE(node_identity_rules(node, "dc2").has_value());
}

TEST(Builtin, NodeIdentityGrantsItsNode) {
  const NodeIdentity n1{"n1", "dc1"};
  const TokenGrants grants{{}, {}, {&n1, 1}};
  const AuthorizerPtr authz = token_authorizer(grants, "dc1", DefaultPolicy::kDeny);
  EXPECT_EQ(authz->node_write("n1"), kAllow);
  EXPECT_EQ(authz->node_write("n2"), kDeny);
  EXPECT_EQ(authz->node_read("n2"), kDeny);
  EXPECT_EQ(authz->service_read("any"), kAllow);
  EXPECT_EQ(authz->service_write("any"), kDeny);
  // In another datacenter the identity grants nothing.
  const AuthorizerPtr elsewhere = token_authorizer(grants, "dc2", DefaultPolicy::kDeny);
  EXPECT_EQ(elsewhere->node_write("n1"), kDeny);
}

TEST(Builtin, PoliciesAndIdentitiesMerge) {
  auto rules = parse_rules(R"(service "web" { policy = "deny" }
                              key_prefix "app/" { policy = "write" })");
  ASSERT_TRUE(rules.has_value());
  const PolicyRules* policies[] = {&*rules};
  const ServiceIdentity web{"web", {}};
  const TokenGrants grants{policies, {&web, 1}, {}};
  const AuthorizerPtr authz = token_authorizer(grants, "dc1", DefaultPolicy::kAllow);
  EXPECT_EQ(authz->service_write("web"), kDeny);  // deny wins over the identity's write
  EXPECT_EQ(authz->service_write("web-sidecar-proxy"), kAllow);
  EXPECT_EQ(authz->key_write("app/x"), kAllow);
  EXPECT_EQ(authz->key_write("other"), kAllow);  // default allow
  EXPECT_EQ(authz->acl_read(), kDeny);           // never from the default
}

TEST(Builtin, WhatATokenAndItsRolesGrant) {
  Token token;
  token.policies = {{"p1", "one"}, {"p2", "two"}};
  token.service_identities = {{"web", {}}};
  Role ops;
  ops.policies = {{"p2", "two"}, {"p3", "three"}};
  ops.node_identities = {{"n1", "dc1"}};
  Role db;
  db.policies = {{"p1", "one"}};
  db.service_identities = {{"db", {"dc2"}}};
  const Role* roles[] = {&ops, &db};
  EXPECT_EQ(granted_policy_ids(token, roles), (std::vector<std::string>{"p1", "p2", "p3"}));
  const GrantedIdentities identities = granted_identities(token, roles);
  ASSERT_EQ(identities.services.size(), 2u);
  EXPECT_EQ(identities.services[0].service_name, "web");
  EXPECT_EQ(identities.services[1].service_name, "db");
  ASSERT_EQ(identities.nodes.size(), 1u);
  EXPECT_EQ(identities.nodes[0].node_name, "n1");

  // In dc1 the db identity (dc2 only) grants nothing; web and n1 do.
  const TokenGrants grants{{}, identities.services, identities.nodes};
  const AuthorizerPtr authz = token_authorizer(grants, "dc1", DefaultPolicy::kDeny);
  EXPECT_EQ(authz->service_write("web"), kAllow);
  EXPECT_EQ(authz->service_write("db"), kDeny);
  EXPECT_EQ(authz->node_write("n1"), kAllow);

  Policy scoped;
  EXPECT_TRUE(policy_applies_in(scoped, "dc1"));
  scoped.datacenters = {"dc2"};
  EXPECT_FALSE(policy_applies_in(scoped, "dc1"));
  EXPECT_TRUE(policy_applies_in(scoped, "dc2"));
}

}  // namespace
}  // namespace pc::acl
