// acl token / role / policy update: the object is read first and only what the flags name
// changes (Consul's read-modify-write), with -merge-*, -append-* and -no-merge.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

constexpr const char* kToken = R"({
  "AccessorID": "a1", "SecretID": "s1", "Description": "old", "Local": true,
  "Policies": [{"ID": "p1", "Name": "one"}],
  "Roles": [{"ID": "r1", "Name": "role-one"}],
  "ServiceIdentities": [{"ServiceName": "web", "Datacenters": ["dc1"]}],
  "NodeIdentities": [{"NodeName": "n1", "Datacenter": "dc1"}],
  "CreateIndex": 5, "ModifyIndex": 6})";

constexpr const char* kRole = R"({
  "ID": "r1", "Name": "role-one", "Description": "old",
  "Policies": [{"ID": "p1", "Name": "one"}],
  "ServiceIdentities": [{"ServiceName": "web"}]})";

boost::json::object sent(const Harness& h) {
  return boost::json::parse(h.requests.at(1).body).as_object();
}

// Runs `args` against an agent that answers both the read and the update with `object`;
// the body of the update.
boost::json::object update_body(const std::vector<std::string>& args, const char* object) {
  Harness h;
  h.reply(200, object);
  h.reply(200, object);
  EXPECT_EQ(h.run(args), 0) << h.err.str();
  if (h.requests.size() != 2) {
    ADD_FAILURE() << "expected a read and an update, got " << h.requests.size() << " requests";
    return {};
  }
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[1].method, "PUT");
  EXPECT_EQ(h.requests[0].path, h.requests[1].path);
  return sent(h);
}

TEST(AclTokenUpdate, ADescriptionAloneKeepsEverythingElse) {
  Harness h;
  h.reply(200, kToken);
  h.reply(200, kToken);
  ASSERT_EQ(h.run({"acl", "token", "update", "-id", "a1", "-description", "new"}), 0)
      << h.err.str();
  ASSERT_EQ(h.requests.size(), 2u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/acl/token/a1");
  EXPECT_EQ(h.requests[1].method, "PUT");
  EXPECT_EQ(h.requests[1].path, "/v1/acl/token/a1");
  auto body = sent(h);
  EXPECT_EQ(body.at("Description"), "new");
  EXPECT_EQ(body.at("Local"), true);  // sent back as read: local mode cannot change
  EXPECT_EQ(body.at("SecretID"), "s1");
  EXPECT_EQ(body.at("Policies"), boost::json::parse(R"([{"ID": "p1", "Name": "one"}])"));
  EXPECT_EQ(body.at("Roles").as_array().size(), 1u);
  EXPECT_EQ(body.at("ServiceIdentities").as_array().size(), 1u);
  EXPECT_EQ(body.at("NodeIdentities").as_array().size(), 1u);
}

TEST(AclTokenUpdate, GivenListsReplaceOnlyThemselves) {
  auto body = update_body({"acl", "token", "update", "-accessor-id", "a1", "-service-identity",
                           "api", "-policy-name", "two"},
                          kToken);
  EXPECT_EQ(body.at("Description"), "old");
  EXPECT_EQ(body.at("Policies"), boost::json::parse(R"([{"Name": "two"}])"));
  EXPECT_EQ(body.at("ServiceIdentities"), boost::json::parse(R"([{"ServiceName": "api"}])"));
  EXPECT_EQ(body.at("Roles").as_array().size(), 1u);
  EXPECT_EQ(body.at("NodeIdentities").as_array().size(), 1u);
}

TEST(AclTokenUpdate, MergeAndAppendAddToTheLists) {
  auto body = update_body({"acl", "token", "update", "-id", "a1", "-merge-policies", "-policy-name",
                           "one", "-policy-id", "p2", "-append-role-name", "role-two",
                           "-merge-service-identities", "-service-identity", "web:dc2",
                           "-append-node-identity", "n1:dc1", "-append-node-identity", "n2:dc1"},
                          kToken);
  // "one" is there already by name; p2 is new.
  EXPECT_EQ(body.at("Policies"),
            boost::json::parse(R"([{"ID": "p1", "Name": "one"}, {"ID": "p2"}])"));
  EXPECT_EQ(body.at("Roles"),
            boost::json::parse(R"([{"ID": "r1", "Name": "role-one"}, {"Name": "role-two"}])"));
  // A service identity of the same name is replaced.
  EXPECT_EQ(body.at("ServiceIdentities"),
            boost::json::parse(R"([{"ServiceName": "web", "Datacenters": ["dc2"]}])"));
  EXPECT_EQ(body.at("NodeIdentities"),
            boost::json::parse(R"([{"NodeName": "n1", "Datacenter": "dc1"},
                                   {"NodeName": "n2", "Datacenter": "dc1"}])"));
}

TEST(AclTokenUpdate, Errors) {
  Harness none;
  EXPECT_EQ(none.run({"acl", "token", "update", "-description", "x"}), 1);
  EXPECT_EQ(none.err.str(), "Cannot update a token without specifying the -id parameter\n");
  EXPECT_TRUE(none.requests.empty());

  Harness both;
  EXPECT_EQ(both.run({"acl", "token", "update", "-id", "a1", "-policy-name", "x",
                      "-append-policy-name", "y"}),
            1);
  EXPECT_TRUE(both.err.str().starts_with(
      "Cannot combine the use of policy-id/policy-name flags with append- variants."));
  EXPECT_TRUE(both.requests.empty());

  Harness missing;
  missing.reply(403, "ACL not found");
  EXPECT_EQ(missing.run({"acl", "token", "update", "-id", "zz", "-description", "x"}), 1);
  EXPECT_EQ(missing.err.str(),
            "Error when retrieving current token: Unexpected response code: 403 (ACL not "
            "found)\n");
  EXPECT_EQ(missing.requests.size(), 1u);

  Harness refused;
  refused.reply(200, kToken);
  refused.reply(400, "Invalid Policy: A Policy with Name \"nope\" does not exist");
  EXPECT_EQ(refused.run({"acl", "token", "update", "-id", "a1", "-policy-name", "nope"}), 1);
  EXPECT_EQ(refused.err.str(),
            "Failed to update token a1: Unexpected response code: 400 (Invalid Policy: A Policy "
            "with Name \"nope\" does not exist)\n");
}

TEST(AclRoleUpdate, MergesIntoTheRoleAsRead) {
  auto body = update_body({"acl", "role", "update", "-id", "r1", "-description", "d"}, kRole);
  EXPECT_EQ(body.at("Name"), "role-one");  // kept: the server needs a name
  EXPECT_EQ(body.at("Description"), "d");
  EXPECT_EQ(body.at("Policies").as_array().size(), 1u);

  body = update_body({"acl", "role", "update", "-id", "r1", "-name", "renamed", "-policy-name",
                      "two", "-service-identity", "api", "-node-identity", "n1:dc1"},
                     kRole);
  EXPECT_EQ(body.at("Name"), "renamed");
  EXPECT_EQ(body.at("Description"), "old");
  EXPECT_EQ(body.at("Policies"),
            boost::json::parse(R"([{"ID": "p1", "Name": "one"}, {"Name": "two"}])"));
  EXPECT_EQ(body.at("ServiceIdentities"),
            boost::json::parse(R"([{"ServiceName": "web"}, {"ServiceName": "api"}])"));
  EXPECT_EQ(body.at("NodeIdentities"),
            boost::json::parse(R"([{"NodeName": "n1", "Datacenter": "dc1"}])"));
}

TEST(AclRoleUpdate, NoMergeReplacesEveryField) {
  // The role is read all the same, so a missing one fails before anything is sent.
  auto body =
      update_body({"acl", "role", "update", "-id", "r1", "-no-merge", "-name", "fresh"}, kRole);
  EXPECT_EQ(body.at("Name"), "fresh");
  EXPECT_EQ(body.at("Description"), "");
  EXPECT_TRUE(body.at("Policies").as_array().empty());
  EXPECT_TRUE(body.at("ServiceIdentities").as_array().empty());

  Harness missing;
  missing.reply(404, "Role not found");
  EXPECT_EQ(missing.run({"acl", "role", "update", "-id", "r9", "-description", "d"}), 1);
  EXPECT_EQ(missing.err.str(),
            "Error when retrieving current role: Unexpected response code: 404 (Role not "
            "found)\n");
  EXPECT_EQ(missing.requests.size(), 1u);
}

constexpr const char* kPolicy = R"({
  "ID": "p1", "Name": "app", "Description": "old", "Rules": "key \"a\" { policy = \"read\" }",
  "Datacenters": ["dc1"], "Hash": "h", "CreateIndex": 3, "ModifyIndex": 4})";

TEST(AclPolicyUpdate, MergesIntoThePolicyAsRead) {
  auto body = update_body({"acl", "policy", "update", "-id", "p1", "-description", "new"}, kPolicy);
  EXPECT_EQ(body.at("Name"), "app");
  EXPECT_EQ(body.at("Description"), "new");
  EXPECT_EQ(body.at("Rules"), "key \"a\" { policy = \"read\" }");
  EXPECT_EQ(body.at("Datacenters"), boost::json::parse(R"(["dc1"])"));

  body = update_body({"acl", "policy", "update", "-id", "p1", "-rules", "key \"b\" {}",
                      "-valid-datacenter", "dc2"},
                     kPolicy);
  EXPECT_EQ(body.at("Description"), "old");
  EXPECT_EQ(body.at("Rules"), "key \"b\" {}");
  EXPECT_EQ(body.at("Datacenters"), boost::json::parse(R"(["dc2"])"));
}

TEST(AclPolicyUpdate, NoMergeReplacesEveryFieldWithoutReading) {
  Harness h;
  h.reply(200, kPolicy);
  ASSERT_EQ(h.run({"acl", "policy", "update", "-id", "p1", "-no-merge", "-name", "fresh"}), 0)
      << h.err.str();
  ASSERT_EQ(h.requests.size(), 1u);
  auto body = boost::json::parse(h.requests[0].body).as_object();
  EXPECT_EQ(body.at("Name"), "fresh");
  EXPECT_EQ(body.at("Description"), "");
  EXPECT_FALSE(body.contains("Rules"));

  Harness refused;
  refused.reply(200, kPolicy);
  refused.reply(400, "Invalid Policy: A Policy with Name \"x\" already exists");
  EXPECT_EQ(refused.run({"acl", "policy", "update", "-id", "p1", "-name", "x"}), 1);
  EXPECT_EQ(refused.err.str(),
            "Error updating policy \"p1\": Unexpected response code: 400 (Invalid Policy: A "
            "Policy with Name \"x\" already exists)\n");
}

}  // namespace
}  // namespace pc::cli
