#include "acl/rules.h"

#include <gtest/gtest.h>

#include <string>

namespace pc::acl {
namespace {

PolicyRules parse_ok(std::string_view text) {
  auto rules = parse_rules(text);
  EXPECT_TRUE(rules.has_value()) << (rules ? "" : rules.error().message);
  return rules ? std::move(rules).value() : PolicyRules{};
}

NamedRule rule(std::string name, bool prefix, AccessLevel access,
               AccessLevel intentions = AccessLevel::kUnset) {
  return NamedRule{std::move(name), prefix, access, intentions};
}

TEST(Rules, EmptyTextIsAnEmptyPolicy) {
  const PolicyRules rules = parse_ok("");
  for (const auto& named : rules.named) EXPECT_TRUE(named.empty());
  for (AccessLevel level : rules.global) EXPECT_EQ(level, AccessLevel::kUnset);
}

TEST(Rules, EveryResourceInHcl) {
  const PolicyRules rules = parse_ok(R"(
acl = "read"
agent "a1" { policy = "read" }
agent_prefix "" { policy = "write" }
event "deploy" { policy = "write" }
event_prefix "" { policy = "deny" }
key "k" { policy = "list" }
key_prefix "app/" { policy = "write" }
keyring = "write"
mesh = "read"
node "n1" { policy = "write" }
node_prefix "" { policy = "read" }
operator = "deny"
peering = "write"
query "q" { policy = "read" }
query_prefix "" { policy = "write" }
service "web" {
  policy = "write"
  intentions = "deny"
}
service_prefix "" { policy = "read" }
session "n1" { policy = "write" }
session_prefix "" { policy = "read" }
)");
  EXPECT_EQ(rules.level(GlobalResource::kAcl), AccessLevel::kRead);
  EXPECT_EQ(rules.level(GlobalResource::kKeyring), AccessLevel::kWrite);
  EXPECT_EQ(rules.level(GlobalResource::kMesh), AccessLevel::kRead);
  EXPECT_EQ(rules.level(GlobalResource::kOperator), AccessLevel::kDeny);
  EXPECT_EQ(rules.level(GlobalResource::kPeering), AccessLevel::kWrite);
  using V = std::vector<NamedRule>;
  EXPECT_EQ(rules.rules(Resource::kAgent),
            (V{rule("a1", false, AccessLevel::kRead), rule("", true, AccessLevel::kWrite)}));
  EXPECT_EQ(rules.rules(Resource::kEvent),
            (V{rule("deploy", false, AccessLevel::kWrite), rule("", true, AccessLevel::kDeny)}));
  EXPECT_EQ(rules.rules(Resource::kKey),
            (V{rule("k", false, AccessLevel::kList), rule("app/", true, AccessLevel::kWrite)}));
  EXPECT_EQ(rules.rules(Resource::kNode),
            (V{rule("n1", false, AccessLevel::kWrite), rule("", true, AccessLevel::kRead)}));
  EXPECT_EQ(rules.rules(Resource::kQuery),
            (V{rule("q", false, AccessLevel::kRead), rule("", true, AccessLevel::kWrite)}));
  EXPECT_EQ(rules.rules(Resource::kService),
            (V{rule("web", false, AccessLevel::kWrite, AccessLevel::kDeny),
               rule("", true, AccessLevel::kRead)}));
  EXPECT_EQ(rules.rules(Resource::kSession),
            (V{rule("n1", false, AccessLevel::kWrite), rule("", true, AccessLevel::kRead)}));
}

TEST(Rules, JsonFormMatchesHcl) {
  const PolicyRules from_json = parse_ok(R"(
  {
    "key_prefix": {"app/": {"policy": "write"}, "": {"policy": "read"}},
    "service": [{"web": {"policy": "read", "intentions": "write"}}],
    "operator": "read"
  })");
  const PolicyRules from_hcl = parse_ok(R"(
key_prefix "app/" { policy = "write" }
key_prefix "" { policy = "read" }
service "web" {
  policy = "read"
  intentions = "write"
}
operator = "read"
)");
  EXPECT_EQ(from_json.named, from_hcl.named);
  EXPECT_EQ(from_json.global, from_hcl.global);
}

TEST(Rules, ObjectAssignmentFormAndCaseInsensitiveLevels) {
  const PolicyRules rules = parse_ok(
      "key_prefix = { \"a/\" = { policy = \"READ\" }, \"b/\" = { policy = \"Deny\" } }\n"
      "operator = \"WRITE\"\n");
  EXPECT_EQ(rules.rules(Resource::kKey),
            (std::vector<NamedRule>{rule("a/", true, AccessLevel::kRead),
                                    rule("b/", true, AccessLevel::kDeny)}));
  EXPECT_EQ(rules.level(GlobalResource::kOperator), AccessLevel::kWrite);
}

TEST(Rules, RepeatedNamesAreKeptForTheMerge) {
  const PolicyRules rules =
      parse_ok("key \"x\" { policy = \"read\" }\nkey \"x\" { policy = \"deny\" }\n");
  EXPECT_EQ(rules.rules(Resource::kKey).size(), 2u);
}

struct BadRules {
  const char* text;
  const char* message;
};

class RulesError : public ::testing::TestWithParam<BadRules> {};

TEST_P(RulesError, NamesTheLineAndTheProblem) {
  auto rules = parse_rules(GetParam().text);
  ASSERT_FALSE(rules.has_value()) << GetParam().text;
  EXPECT_EQ(rules.error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(rules.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RulesError,
    ::testing::Values(
        BadRules{"key_prefix \"a\" {\n  policy = \"wirte\"\n}\n",
                 "Failed to parse ACL rules: At 2:12: invalid access level \"wirte\" for policy "
                 "of key_prefix \"a\"; expected read, write, list or deny"},
        BadRules{"operator = \"read\"\nkeys \"a\" { policy = \"read\" }\n",
                 "Failed to parse ACL rules: At 2:1: unknown resource \"keys\"; expected one of "
                 "acl, agent, agent_prefix, event, event_prefix, key, key_prefix, keyring, mesh, "
                 "node, node_prefix, operator, peering, query, query_prefix, service, "
                 "service_prefix, session, session_prefix"},
        BadRules{"\n\nservice \"web\" { policy = \"list\" }\n",
                 "Failed to parse ACL rules: At 3:26: policy of service \"web\": \"list\" is "
                 "valid only for key and key_prefix rules; expected read, write or deny"},
        BadRules{"operator = \"list\"\n",
                 "Failed to parse ACL rules: At 1:12: operator: \"list\" is valid only for key "
                 "and key_prefix rules; expected read, write or deny"},
        BadRules{"acl = { policy = \"write\" }\n",
                 "Failed to parse ACL rules: At 1:7: acl must be a string such as acl = "
                 "\"read\", found an object"},
        BadRules{"key_prefix = \"read\"\n",
                 "Failed to parse ACL rules: At 1:14: key_prefix must be a block such as "
                 "key_prefix \"<name>\" { policy = \"read\" }, found a string"},
        BadRules{"node \"n\" {\n  policy = \"read\"\n  polcy = \"write\"\n}\n",
                 "Failed to parse ACL rules: At 3:3: unknown field \"polcy\" in node \"n\"; "
                 "expected policy"},
        BadRules{"key \"k\" { intentions = \"read\" }\n",
                 "Failed to parse ACL rules: At 1:11: unknown field \"intentions\" in key "
                 "\"k\"; expected policy"},
        BadRules{"service \"s\" {\n  intentions = \"read\"\n}\n",
                 "Failed to parse ACL rules: At 1:13: service \"s\" has no policy; add policy = "
                 "\"read\", \"write\" or \"deny\""},
        BadRules{"session \"s\" {\n  policy = \"read\"\n  policy = \"write\"\n}\n",
                 "Failed to parse ACL rules: At 3:3: policy is already set in session \"s\" at "
                 "line 2; set it once"},
        BadRules{"mesh = \"read\"\nmesh = \"write\"\n",
                 "Failed to parse ACL rules: At 2:1: mesh is already set at line 1; set it once"},
        BadRules{"event \"e\" { policy = true }\n",
                 "Failed to parse ACL rules: At 1:22: policy of event \"e\" must be a string "
                 "(read, write or deny), found a bool"},
        BadRules{"agent \"a\" = \"read\"\n",
                 "Failed to parse ACL rules: At 1:1: expected '=' or '{' after key \"agent\", "
                 "found the label \"a\" and then '='"},
        BadRules{"query_prefix \"\" {\n  policy = \"read\"\n",
                 "Failed to parse ACL rules: At 1:17: '{' opened here is not closed"},
        BadRules{"{\"key\": {\"a\": {\"policy\": \"nope\"}}}",
                 "Failed to parse ACL rules: At 1:26: invalid access level \"nope\" for policy "
                 "of key \"a\"; expected read, write, list or deny"},
        BadRules{"{\"namespace\": {}}",
                 "Failed to parse ACL rules: At 1:2: unknown resource \"namespace\"; expected "
                 "one of acl, agent, agent_prefix, event, event_prefix, key, key_prefix, "
                 "keyring, mesh, node, node_prefix, operator, peering, query, query_prefix, "
                 "service, service_prefix, session, session_prefix"}));

}  // namespace
}  // namespace pc::acl
