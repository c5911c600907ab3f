#include "acl/authorizer.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace pc::acl {
namespace {

constexpr Decision kAllow = Decision::kAllow;
constexpr Decision kDeny = Decision::kDeny;
constexpr Decision kDefault = Decision::kDefault;

// Parses each text as one policy and compiles them together.
AuthorizerPtr compile(std::vector<std::string> texts) {
  std::vector<PolicyRules> parsed;
  for (const std::string& text : texts) {
    auto rules = parse_rules(text);
    EXPECT_TRUE(rules.has_value()) << (rules ? "" : rules.error().message);
    parsed.push_back(rules ? std::move(rules).value() : PolicyRules{});
  }
  std::vector<const PolicyRules*> pointers;
  for (const PolicyRules& rules : parsed) pointers.push_back(&rules);
  return compile_policies(pointers);
}

// One row: a check on an authorizer compiled from `policies`, and the decision expected.
struct Case {
  const char* name;
  std::vector<std::string> policies;
  std::function<Decision(const Authorizer&)> check;
  Decision expected;
};

void run(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const AuthorizerPtr authz = compile(c.policies);
    EXPECT_EQ(decision_name(c.check(*authz)), decision_name(c.expected)) << c.name;
  }
}

TEST(Authorizer, AccessLevelsGrantWhatConsulGrants) {
  const std::string read = R"(key_prefix "" { policy = "read" })";
  const std::string list = R"(key_prefix "" { policy = "list" })";
  const std::string write = R"(key_prefix "" { policy = "write" })";
  const std::string deny = R"(key_prefix "" { policy = "deny" })";
  auto key_read = [](const Authorizer& a) { return a.key_read("x"); };
  auto key_list = [](const Authorizer& a) { return a.key_list("x"); };
  auto key_write = [](const Authorizer& a) { return a.key_write("x"); };
  run({
      {"read reads", {read}, key_read, kAllow},
      {"read does not list", {read}, key_list, kDeny},
      {"read does not write", {read}, key_write, kDeny},
      {"list reads", {list}, key_read, kAllow},
      {"list lists", {list}, key_list, kAllow},
      {"list does not write", {list}, key_write, kDeny},
      {"write reads", {write}, key_read, kAllow},
      {"write lists", {write}, key_list, kAllow},
      {"write writes", {write}, key_write, kAllow},
      {"deny denies reads", {deny}, key_read, kDeny},
      {"deny denies lists", {deny}, key_list, kDeny},
      {"no rule defers", {R"(key "other" { policy = "write" })"}, key_read, kDefault},
      {"empty policy defers", {""}, key_write, kDefault},
  });
}

TEST(Authorizer, ExactBeatsPrefixAndLongestPrefixWins) {
  const std::string rules = R"(
key_prefix "" { policy = "read" }
key_prefix "app/" { policy = "write" }
key_prefix "app/secret/" { policy = "deny" }
key "app/secret/shared" { policy = "read" }
key "app/" { policy = "deny" }
)";
  run({
      {"catch-all", {rules}, [](const Authorizer& a) { return a.key_write("other"); }, kDeny},
      {"catch-all reads", {rules}, [](const Authorizer& a) { return a.key_read("other"); }, kAllow},
      {"prefix", {rules}, [](const Authorizer& a) { return a.key_write("app/x"); }, kAllow},
      {"longer prefix",
       {rules},
       [](const Authorizer& a) { return a.key_read("app/secret/x"); },
       kDeny},
      {"exact under deny prefix",
       {rules},
       [](const Authorizer& a) { return a.key_read("app/secret/shared"); },
       kAllow},
      {"exact is exact",
       {rules},
       [](const Authorizer& a) { return a.key_read("app/secret/shared2"); },
       kDeny},
      {"exact beats its own prefix",
       {rules},
       [](const Authorizer& a) { return a.key_read("app/"); },
       kDeny},
      {"prefix matches itself",
       {rules},
       [](const Authorizer& a) { return a.key_read("app/secret/"); },
       kDeny},
      {"shorter than a prefix",
       {rules},
       [](const Authorizer& a) { return a.key_write("app"); },
       kDeny},
  });
}

TEST(Authorizer, MergeDenyWinsThenMostPermissive) {
  auto svc = [](const char* level) {
    return std::string("service \"web\" { policy = \"") + level + "\" }";
  };
  auto web_write = [](const Authorizer& a) { return a.service_write("web"); };
  auto web_read = [](const Authorizer& a) { return a.service_read("web"); };
  run({
      {"read+write", {svc("read"), svc("write")}, web_write, kAllow},
      {"write+read", {svc("write"), svc("read")}, web_write, kAllow},
      {"write+deny", {svc("write"), svc("deny")}, web_read, kDeny},
      {"deny+write", {svc("deny"), svc("write")}, web_read, kDeny},
      {"within one policy", {svc("write") + "\n" + svc("deny")}, web_read, kDeny},
      // Exact and prefix rules for the same name merge separately.
      {"exact deny, prefix write",
       {svc("deny"), R"(service_prefix "web" { policy = "write" })"},
       [](const Authorizer& a) { return a.service_write("web2"); },
       kAllow},
      {"globals merge too",
       {"operator = \"read\"", "operator = \"write\""},
       [](const Authorizer& a) { return a.operator_write(); },
       kAllow},
      {"global deny wins",
       {"operator = \"write\"", "operator = \"deny\""},
       [](const Authorizer& a) { return a.operator_read(); },
       kDeny},
      {"key list+read",
       {R"(key "k" { policy = "list" })", R"(key "k" { policy = "read" })"},
       [](const Authorizer& a) { return a.key_list("k"); },
       kAllow},
  });
}

TEST(Authorizer, IntentionsDeriveFromTheMergedServicePolicy) {
  auto intention_write = [](const Authorizer& a) { return a.intention_write("web"); };
  auto intention_read = [](const Authorizer& a) { return a.intention_read("web"); };
  run({
      {"write gives intention read",
       {R"(service "web" { policy = "write" })"},
       intention_read,
       kAllow},
      {"but not intention write",
       {R"(service "web" { policy = "write" })"},
       intention_write,
       kDeny},
      {"explicit intentions",
       {R"(service "web" { policy = "read" intentions = "write" })"},
       intention_write,
       kAllow},
      {"deny service denies intentions",
       {R"(service "web" { policy = "deny" })"},
       intention_read,
       kDeny},
      // Consul merges first, then derives: the merged policy is deny, the merged intentions
      // are the explicit read.
      {"merged: deny policy keeps explicit intentions",
       {R"(service "web" { policy = "deny" })",
        R"(service "web" { policy = "read" intentions = "read" })"},
       intention_read,
       kAllow},
      {"merged: derived after merge",
       {R"(service "web" { policy = "deny" })", R"(service "web" { policy = "write" })"},
       intention_read,
       kDeny},
      {"* read: any rule",
       {R"(service "a" { policy = "read" })"},
       [](const Authorizer& a) { return a.intention_read("*"); },
       kAllow},
      {"* write: needs all",
       {R"(service_prefix "" { policy = "write" intentions = "write" }
           service "b" { policy = "read" })"},
       [](const Authorizer& a) { return a.intention_write("*"); },
       kDeny},
  });
}

TEST(Authorizer, KeyWritePrefixRefusesWhenAnythingBelowIsNotWritable) {
  const std::string rules = R"(
key_prefix "" { policy = "write" }
key_prefix "app/locked/" { policy = "read" }
key "app/one" { policy = "deny" }
key_prefix "free/" { policy = "write" }
)";
  auto kwp = [](const char* prefix) {
    return [prefix](const Authorizer& a) { return a.key_write_prefix(prefix); };
  };
  run({
      {"rule below denies", {rules}, kwp("app/"), kDeny},
      {"exact below denies", {rules}, kwp("app/o"), kDeny},
      {"nothing below", {rules}, kwp("free/"), kAllow},
      {"everything", {rules}, kwp(""), kDeny},
      {"covering prefix not write", {R"(key_prefix "a" { policy = "list" })"}, kwp("ab"), kDeny},
      {"no rule at all", {R"(key "elsewhere" { policy = "write" })"}, kwp("x/"), kDefault},
      {"only writable rules below", {R"(key "x/y" { policy = "write" })"}, kwp("x/"), kDefault},
      {"read rule below, no cover", {R"(key "x/y" { policy = "read" })"}, kwp("x/"), kDeny},
  });
}

TEST(Authorizer, AnyAndAllChecks) {
  run({
      {"write any: one service",
       {R"(service "a" { policy = "write" })"},
       [](const Authorizer& a) { return a.service_write_any(); },
       kAllow},
      {"write any: none",
       {R"(service "a" { policy = "read" })"},
       [](const Authorizer& a) { return a.service_write_any(); },
       kDefault},
      {"write any: catch-all deny still overridable",
       {R"(service_prefix "" { policy = "deny" }
           service "a" { policy = "write" })"},
       [](const Authorizer& a) { return a.service_write_any(); },
       kAllow},
      {"write any: catch-all deny",
       {R"(service_prefix "" { policy = "deny" })"},
       [](const Authorizer& a) { return a.service_write_any(); },
       kDeny},
      {"read all: catch-all read",
       {R"(node_prefix "" { policy = "read" })"},
       [](const Authorizer& a) { return a.node_read_all(); },
       kAllow},
      {"read all: one denied",
       {R"(node_prefix "" { policy = "read" }
           node "secret" { policy = "deny" })"},
       [](const Authorizer& a) { return a.node_read_all(); },
       kDeny},
      {"read all: no catch-all",
       {R"(service "a" { policy = "read" })"},
       [](const Authorizer& a) { return a.service_read_all(); },
       kDefault},
  });
}

TEST(Authorizer, GlobalResources) {
  run({
      {"acl read", {"acl = \"read\""}, [](const Authorizer& a) { return a.acl_read(); }, kAllow},
      {"acl read no write",
       {"acl = \"read\""},
       [](const Authorizer& a) { return a.acl_write(); },
       kDeny},
      {"snapshot needs acl write",
       {"acl = \"write\""},
       [](const Authorizer& a) { return a.snapshot(); },
       kAllow},
      {"keyring",
       {"keyring = \"write\""},
       [](const Authorizer& a) { return a.keyring_write(); },
       kAllow},
      {"mesh falls back to operator",
       {"operator = \"write\""},
       [](const Authorizer& a) { return a.mesh_write(); },
       kAllow},
      {"peering falls back to operator",
       {"operator = \"read\""},
       [](const Authorizer& a) { return a.peering_write(); },
       kDeny},
      {"mesh rule beats operator",
       {"operator = \"write\"\nmesh = \"deny\""},
       [](const Authorizer& a) { return a.mesh_read(); },
       kDeny},
      {"unset", {""}, [](const Authorizer& a) { return a.operator_read(); }, kDefault},
  });
}

TEST(Authorizer, NamedResourcesUseTheirOwnRules) {
  const std::string rules = R"(
agent "a1" { policy = "write" }
event_prefix "deploy-" { policy = "write" }
node "n1" { policy = "read" }
query_prefix "" { policy = "read" }
session_prefix "n" { policy = "write" }
)";
  run({
      {"agent", {rules}, [](const Authorizer& a) { return a.agent_write("a1"); }, kAllow},
      {"agent other", {rules}, [](const Authorizer& a) { return a.agent_read("a2"); }, kDefault},
      {"event", {rules}, [](const Authorizer& a) { return a.event_write("deploy-x"); }, kAllow},
      {"event read", {rules}, [](const Authorizer& a) { return a.event_read("other"); }, kDefault},
      {"node", {rules}, [](const Authorizer& a) { return a.node_write("n1"); }, kDeny},
      {"query", {rules}, [](const Authorizer& a) { return a.query_read("q"); }, kAllow},
      {"query write", {rules}, [](const Authorizer& a) { return a.query_write("q"); }, kDeny},
      {"session", {rules}, [](const Authorizer& a) { return a.session_write("n2"); }, kAllow},
      {"session read", {rules}, [](const Authorizer& a) { return a.session_read("x"); }, kDefault},
      {"resources apart", {rules}, [](const Authorizer& a) { return a.key_read("a1"); }, kDefault},
  });
}

TEST(Authorizer, StaticAuthorizersAndChains) {
  EXPECT_EQ(allow_all()->key_write("x"), kAllow);
  EXPECT_EQ(allow_all()->acl_read(), kDeny);  // default allow never manages ACLs
  EXPECT_EQ(allow_all()->snapshot(), kDeny);
  EXPECT_EQ(deny_all()->service_read("x"), kDeny);
  EXPECT_EQ(manage_all()->acl_write(), kAllow);
  EXPECT_EQ(manage_all()->key_write_prefix(""), kAllow);

  const AuthorizerPtr rules = compile({R"(key_prefix "pub/" { policy = "read" }
                                          key "pub/secret" { policy = "deny" })"});
  const AuthorizerPtr with_allow = chain({rules, default_authorizer(DefaultPolicy::kAllow)});
  const AuthorizerPtr with_deny = chain({rules, default_authorizer(DefaultPolicy::kDeny)});
  EXPECT_EQ(with_allow->key_read("pub/x"), kAllow);
  EXPECT_EQ(with_allow->key_write("pub/x"), kDeny);  // a rule decided: no fallback
  EXPECT_EQ(with_allow->key_write("other"), kAllow);
  EXPECT_EQ(with_allow->key_read("pub/secret"), kDeny);
  EXPECT_EQ(with_deny->key_read("other"), kDeny);
  EXPECT_EQ(with_deny->key_read("pub/x"), kAllow);
  EXPECT_TRUE(allowed(with_allow->node_read("n")));
  EXPECT_FALSE(allowed(with_deny->node_read("n")));
  EXPECT_EQ(chain({})->key_read("x"), kDefault);
}

TEST(Authorizer, ManyRulesLookupStaysCorrect) {
  // 2000 prefix rules and one exact; every lookup must pick its own longest prefix.
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "key_prefix \"k/" + std::to_string(i) + "/\" { policy = \"" +
            (i % 2 == 0 ? "read" : "write") + "\" }\n";
  }
  text += "key \"k/10/x\" { policy = \"deny\" }\n";
  const AuthorizerPtr authz = compile({text});
  for (int i = 0; i < 2000; i += 97) {
    const std::string key = "k/" + std::to_string(i) + "/leaf";
    EXPECT_EQ(authz->key_write(key), i % 2 == 0 ? kDeny : kAllow) << key;
    EXPECT_EQ(authz->key_read(key), kAllow) << key;
  }
  EXPECT_EQ(authz->key_read("k/10/x"), kDeny);
  EXPECT_EQ(authz->key_read("k/10/xy"), kAllow);
  EXPECT_EQ(authz->key_read("k/"), kDefault);
}

}  // namespace
}  // namespace pc::acl
