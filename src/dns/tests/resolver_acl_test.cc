// The resolver under ACLs: what the token may not read is left out as Consul's catalog and
// health reads filter it for DNS, and a lookup left with nothing is NXDOMAIN.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "acl/authorizer.h"
#include "dns/resolver.h"
#include "state/tests/store_test_util.h"

namespace pc::dns {
namespace {

using wire::Message;

// An authorizer for `rules` (HCL) on a default-deny agent, as a token's would be.
acl::AuthorizerPtr authorizer(const std::string& rules) {
  auto parsed = acl::parse_rules(rules);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  const acl::PolicyRules* one = &*parsed;
  return acl::chain({acl::compile_policies(std::span<const acl::PolicyRules* const>(&one, 1)),
                     acl::default_authorizer(acl::DefaultPolicy::kDeny)});
}

class ResolverAclTest : public state::testing::StoreTest {
 protected:
  void SetUp() override {
    instance("n1", "10.0.0.1", "web");
    instance("n2", "10.0.0.2", "web");
    instance("n1", "10.0.0.1", "db");
    instance("n1", "10.0.0.1", "consul");  // a server: the domain's name server
  }
  void instance(const std::string& node, const std::string& address, const std::string& name) {
    proto::Command c = state::testing::catalog_register(node);
    c.mutable_catalog_register()->set_address(address);
    state::testing::with_service(c, node + "-" + name, name, {}, 80);
    ASSERT_TRUE(apply(++index_, c).status);
  }
  Message ask(const std::string& name, std::uint16_t qtype, const acl::AuthorizerPtr& authz) {
    Message q;
    q.header.id = 7;
    q.questions.push_back(wire::Question{name, qtype, wire::kClassIn});
    Message r = resolve_full(q, snap(), config_, rand_, false, nullptr, authz.get()).response;
    EXPECT_TRUE(wire::encode(r, wire::kMaxMessageSize).has_value());
    return r;
  }

  std::uint64_t index_ = 0;
  ResolverConfig config_;
  core::SystemRand rand_{3};
};

TEST_F(ResolverAclTest, NoAuthorizerAnswersEverything) {
  EXPECT_EQ(ask("db.service.consul.", wire::type::kA, nullptr).answers.size(), 1u);
  EXPECT_EQ(ask("web.service.consul.", wire::type::kA, nullptr).answers.size(), 2u);
}

TEST_F(ResolverAclTest, DenyAllIsNxdomainWithTheSoa) {
  const auto anonymous = authorizer("");
  for (const std::string name : {"web.service.consul.", "n1.node.consul."}) {
    Message m = ask(name, wire::type::kA, anonymous);
    EXPECT_EQ(m.header.rcode, wire::rcode::kNxDomain) << name;
    EXPECT_TRUE(m.answers.empty());
    ASSERT_EQ(m.authority.size(), 1u);
    EXPECT_EQ(m.authority[0].type, wire::type::kSoa);
  }
  EXPECT_EQ(ask("1.0.0.10.in-addr.arpa.", wire::type::kPtr, anonymous).header.rcode,
            wire::rcode::kNxDomain);
  // The name servers come from the "consul" service, filtered the same way.
  EXPECT_EQ(ask("consul.", wire::type::kNs, nullptr).answers.size(), 1u);
  EXPECT_TRUE(ask("consul.", wire::type::kNs, anonymous).answers.empty());
}

TEST_F(ResolverAclTest, ServicesNeedServiceReadAndNodeRead) {
  // service:read on web alone: its instances stay hidden without node:read on their nodes.
  Message none = ask("web.service.consul.", wire::type::kA, authorizer(R"(service "web" {
    policy = "read"
  })"));
  EXPECT_EQ(none.header.rcode, wire::rcode::kNxDomain);

  const auto web_on_n1 = authorizer(R"(
    service "web" { policy = "read" }
    node "n1" { policy = "read" }
  )");
  Message web = ask("web.service.consul.", wire::type::kA, web_on_n1);
  EXPECT_EQ(web.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(web.answers.size(), 1u);  // n2's instance is left out
  EXPECT_EQ(std::get<wire::ARdata>(web.answers[0].rdata).address[3], 1);
  EXPECT_EQ(ask("db.service.consul.", wire::type::kA, web_on_n1).header.rcode,
            wire::rcode::kNxDomain);
  EXPECT_EQ(ask("_web._tcp.service.consul.", wire::type::kSrv, web_on_n1).answers.size(), 1u);
}

TEST_F(ResolverAclTest, NodesAndReverseLookupsNeedNodeRead) {
  const auto n1_only = authorizer(R"(node "n1" { policy = "read" })");
  Message n1 = ask("n1.node.consul.", wire::type::kA, n1_only);
  EXPECT_EQ(n1.header.rcode, wire::rcode::kNoError);
  EXPECT_EQ(n1.answers.size(), 1u);
  EXPECT_EQ(ask("n2.node.consul.", wire::type::kA, n1_only).header.rcode, wire::rcode::kNxDomain);
  Message ptr = ask("1.0.0.10.in-addr.arpa.", wire::type::kPtr, n1_only);
  ASSERT_EQ(ptr.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::PtrRdata>(ptr.answers[0].rdata).name, "n1.node.dc1.consul.");
  EXPECT_EQ(ask("2.0.0.10.in-addr.arpa.", wire::type::kPtr, n1_only).header.rcode,
            wire::rcode::kNxDomain);
}

TEST_F(ResolverAclTest, PrefixRulesAndExplicitDenies) {
  const auto authz = authorizer(R"(
    service_prefix "" { policy = "read" }
    service "db" { policy = "deny" }
    node_prefix "" { policy = "read" }
  )");
  EXPECT_EQ(ask("web.service.consul.", wire::type::kA, authz).answers.size(), 2u);
  EXPECT_EQ(ask("db.service.consul.", wire::type::kA, authz).header.rcode, wire::rcode::kNxDomain);
}

}  // namespace
}  // namespace pc::dns
