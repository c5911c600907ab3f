// The resolver against a store built directly (Consul's agent/dns_test.go cases).
#include "dns/resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "state/tests/store_test_util.h"

namespace pc::dns {
namespace {

using state::testing::catalog_register;
using state::testing::with_check;
using state::testing::with_service;
using wire::Message;
using wire::Record;

std::string a_text(const Record& r) {
  const auto& a = std::get<wire::ARdata>(r.rdata).address;
  return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
         std::to_string(a[3]);
}

class ResolverTest : public state::testing::StoreTest {
 protected:
  // Registers `service` (id = node + "-" + name) on `node` at `address` with one service check.
  void add(const std::string& node, const std::string& address, const std::string& name,
           std::vector<std::string> tags = {}, const std::string& status = "passing",
           const std::string& service_address = "", int port = 80) {
    proto::Command c = catalog_register(node);
    c.mutable_catalog_register()->set_address(address);
    auto* s = with_service(c, node + "-" + name, name, std::move(tags), port);
    s->set_address(service_address);
    s->mutable_weights()->set_passing(10);
    s->mutable_weights()->set_warning(3);
    with_check(c, node + "-" + name + "-check", status, node + "-" + name);
    ASSERT_TRUE(apply(++index_, c).status);
  }

  Message ask(const std::string& name, std::uint16_t qtype, std::uint16_t id = 42) {
    Message q;
    q.header.id = id;
    q.header.rd = true;
    q.questions.push_back(wire::Question{name, qtype, wire::kClassIn});
    return run(q);
  }
  Message run(const Message& q, bool udp = false) {
    // The response must always encode.
    Message r = resolve(q, snap(), config_, rand_, udp);
    EXPECT_TRUE(wire::encode(r, wire::kMaxMessageSize).has_value());
    return r;
  }
  static std::vector<std::string> addresses(const Message& m) {
    std::vector<std::string> out;
    for (const auto& r : m.answers) out.push_back(a_text(r));
    std::sort(out.begin(), out.end());
    return out;
  }
  static void expect_soa(const Message& m) {
    ASSERT_EQ(m.authority.size(), 1u);
    EXPECT_EQ(m.authority[0].type, wire::type::kSoa);
    EXPECT_EQ(m.authority[0].name, "consul.");
    const auto& soa = std::get<wire::SoaRdata>(m.authority[0].rdata);
    EXPECT_EQ(soa.mname, "ns.consul.");
    EXPECT_EQ(soa.rname, "hostmaster.consul.");
    EXPECT_EQ(soa.refresh, 3600u);
    EXPECT_EQ(soa.retry, 600u);
    EXPECT_EQ(soa.expire, 86400u);
  }

  std::uint64_t index_ = 0;
  ResolverConfig config_;
  core::SystemRand rand_{7};
};

TEST_F(ResolverTest, ServiceAHealthyOnly) {
  add("n1", "10.0.0.1", "web");
  add("n2", "10.0.0.2", "web", {}, "critical");
  add("n3", "10.0.0.3", "web", {}, "passing", "10.1.0.3");
  Message m = ask("web.service.consul.", wire::type::kA, 1234);
  EXPECT_EQ(m.header.id, 1234);
  EXPECT_TRUE(m.header.qr);
  EXPECT_TRUE(m.header.aa);
  EXPECT_TRUE(m.header.rd);
  EXPECT_FALSE(m.header.ra);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNoError);
  EXPECT_EQ(addresses(m), (std::vector<std::string>{"10.0.0.1", "10.1.0.3"}));
  for (const auto& r : m.answers) EXPECT_EQ(r.name, "web.service.consul.");
  EXPECT_TRUE(m.authority.empty());
}

TEST_F(ResolverTest, DatacenterLabelAndCaseInsensitivity) {
  add("n1", "10.0.0.1", "web");
  Message m = ask("WEB.Service.DC1.Consul.", wire::type::kA);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].name, "WEB.Service.DC1.Consul.");
}

TEST_F(ResolverTest, TagFilter) {
  add("n1", "10.0.0.1", "web", {"v1"});
  add("n2", "10.0.0.2", "web", {"v2"});
  EXPECT_EQ(addresses(ask("v1.web.service.consul.", wire::type::kA)),
            (std::vector<std::string>{"10.0.0.1"}));
  EXPECT_EQ(addresses(ask("V2.web.service.consul.", wire::type::kA)),
            (std::vector<std::string>{"10.0.0.2"}));
  Message none = ask("v3.web.service.consul.", wire::type::kA);
  EXPECT_EQ(none.header.rcode, wire::rcode::kNxDomain);
  expect_soa(none);
}

TEST_F(ResolverTest, Rfc2782Srv) {
  add("n1", "10.0.0.1", "web", {"v1"}, "passing", "", 8080);
  add("n2", "10.0.0.2", "web", {"v2"}, "warning", "", 8081);
  Message m = ask("_web._tcp.service.consul.", wire::type::kSrv);
  ASSERT_EQ(m.answers.size(), 2u);
  ASSERT_EQ(m.additional.size(), 2u);
  std::vector<wire::SrvRdata> srvs;
  for (const auto& r : m.answers) {
    EXPECT_EQ(r.type, wire::type::kSrv);
    EXPECT_EQ(r.name, "_web._tcp.service.consul.");
    srvs.push_back(std::get<wire::SrvRdata>(r.rdata));
  }
  std::sort(srvs.begin(), srvs.end(), [](auto& a, auto& b) { return a.port < b.port; });
  EXPECT_EQ(srvs[0], (wire::SrvRdata{1, 10, 8080, "n1.node.dc1.consul."}));
  EXPECT_EQ(srvs[1], (wire::SrvRdata{1, 3, 8081, "n2.node.dc1.consul."}));
  for (const auto& r : m.additional) {
    EXPECT_EQ(r.type, wire::type::kA);
    EXPECT_EQ(a_text(r), r.name == "n1.node.dc1.consul." ? "10.0.0.1" : "10.0.0.2");
  }
  Message tagged = ask("_web._v2.service.consul.", wire::type::kSrv);
  ASSERT_EQ(tagged.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::SrvRdata>(tagged.answers[0].rdata).port, 8081);
}

TEST_F(ResolverTest, SrvTargetIsServiceAddressWhenItDiffers) {
  add("n1", "10.0.0.1", "web", {}, "passing", "127.0.0.1", 8080);
  Message m = ask("web.service.consul.", wire::type::kSrv);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::SrvRdata>(m.answers[0].rdata).target, "7f000001.addr.dc1.consul.");
  ASSERT_EQ(m.additional.size(), 1u);
  EXPECT_EQ(a_text(m.additional[0]), "127.0.0.1");
}

TEST_F(ResolverTest, WarningIncludedUnlessOnlyPassing) {
  add("n1", "10.0.0.1", "web");
  add("n2", "10.0.0.2", "web", {}, "warning");
  EXPECT_EQ(ask("web.service.consul.", wire::type::kA).answers.size(), 2u);
  config_.only_passing = true;
  EXPECT_EQ(addresses(ask("web.service.consul.", wire::type::kA)),
            (std::vector<std::string>{"10.0.0.1"}));
}

TEST_F(ResolverTest, CriticalNodeCheckAndMaintenanceExclude) {
  add("n1", "10.0.0.1", "web");
  add("n2", "10.0.0.2", "web");
  add("n3", "10.0.0.3", "web", {}, "maintenance");
  proto::Command c = catalog_register("n2");
  c.mutable_catalog_register()->set_address("10.0.0.2");
  with_check(c, "serfHealth", "critical");
  ASSERT_TRUE(apply(++index_, c).status);
  EXPECT_EQ(addresses(ask("web.service.consul.", wire::type::kA)),
            (std::vector<std::string>{"10.0.0.1"}));
}

TEST_F(ResolverTest, NoHealthyInstanceIsNxDomain) {
  add("n1", "10.0.0.1", "web", {}, "critical");
  Message m = ask("web.service.consul.", wire::type::kA);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNxDomain);
  EXPECT_TRUE(m.answers.empty());
  expect_soa(m);
}

TEST_F(ResolverTest, Ipv6AndAny) {
  add("n1", "10.0.0.1", "web");
  add("n2", "10.0.0.2", "web", {}, "passing", "2001:db8::1");
  Message aaaa = ask("web.service.consul.", wire::type::kAaaa);
  ASSERT_EQ(aaaa.answers.size(), 1u);
  EXPECT_EQ(aaaa.answers[0].type, wire::type::kAaaa);
  EXPECT_EQ(std::get<wire::AaaaRdata>(aaaa.answers[0].rdata).address[0], 0x20);
  EXPECT_EQ(ask("web.service.consul.", wire::type::kAny).answers.size(), 2u);
  EXPECT_EQ(ask("web.service.consul.", wire::type::kA).answers.size(), 1u);
}

TEST_F(ResolverTest, KnownNameWithoutRecordOfTypeIsNoErrorWithSoa) {
  add("n1", "10.0.0.1", "web");
  Message m = ask("web.service.consul.", wire::type::kAaaa);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNoError);
  EXPECT_TRUE(m.answers.empty());
  expect_soa(m);
  Message node = ask("n1.node.consul.", wire::type::kTxt);
  EXPECT_EQ(node.header.rcode, wire::rcode::kNoError);
  EXPECT_TRUE(node.answers.empty());
  expect_soa(node);
}

TEST_F(ResolverTest, NodeLookup) {
  add("n1", "10.0.0.1", "web");
  Message m = ask("N1.node.dc1.consul.", wire::type::kA);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].name, "N1.node.dc1.consul.");
  EXPECT_EQ(a_text(m.answers[0]), "10.0.0.1");
  Message missing = ask("nope.node.consul.", wire::type::kA);
  EXPECT_EQ(missing.header.rcode, wire::rcode::kNxDomain);
  expect_soa(missing);
}

TEST_F(ResolverTest, AddrLookup) {
  Message m = ask("7f000001.addr.dc1.consul.", wire::type::kA);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(a_text(m.answers[0]), "127.0.0.1");
  Message v6 = ask("20010db8000000000000000000000001.addr.consul.", wire::type::kAaaa);
  ASSERT_EQ(v6.answers.size(), 1u);
  EXPECT_EQ(v6.answers[0].type, wire::type::kAaaa);
  EXPECT_EQ(ask("zz000001.addr.consul.", wire::type::kA).header.rcode, wire::rcode::kNxDomain);
}

TEST_F(ResolverTest, Ptr) {
  add("n1", "10.0.0.1", "web");
  Message m = ask("1.0.0.10.in-addr.arpa.", wire::type::kPtr);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::PtrRdata>(m.answers[0].rdata).name, "n1.node.dc1.consul.");
  Message unknown = ask("9.0.0.10.in-addr.arpa.", wire::type::kPtr);
  EXPECT_EQ(unknown.header.rcode, wire::rcode::kNxDomain);
}

TEST_F(ResolverTest, UnknownServiceIsNxDomainWithSoa) {
  config_.soa_min_ttl = 5;
  Message m = ask("db.service.consul.", wire::type::kA);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNxDomain);
  EXPECT_TRUE(m.header.aa);
  expect_soa(m);
  EXPECT_EQ(m.authority[0].ttl, 5u);
  EXPECT_EQ(std::get<wire::SoaRdata>(m.authority[0].rdata).minimum, 5u);
}

TEST_F(ResolverTest, OtherDatacenterIsNxDomain) {
  add("n1", "10.0.0.1", "web");
  EXPECT_EQ(ask("web.service.dc2.consul.", wire::type::kA).header.rcode, wire::rcode::kNxDomain);
  EXPECT_EQ(ask("n1.node.dc2.consul.", wire::type::kA).header.rcode, wire::rcode::kNxDomain);
}

TEST_F(ResolverTest, OtherDatacenterIsNamedForForwarding) {
  add("n1", "10.0.0.1", "web");
  auto other = [this](const std::string& name, std::uint16_t qtype) {
    Message q;
    q.header.id = 1;
    q.questions.push_back(wire::Question{name, qtype, wire::kClassIn});
    Resolution r = resolve_full(q, snap(), config_, rand_, true, nullptr);
    EXPECT_EQ(r.response.header.rcode, wire::rcode::kNxDomain) << name;
    EXPECT_FALSE(r.remote);  // the server decides whether it can ask there
    return r.other_datacenter;
  };
  EXPECT_EQ(other("web.service.DC2.consul.", wire::type::kA), "dc2");
  EXPECT_EQ(other("v1.web.service.dc2.dc.consul.", wire::type::kA), "dc2");
  EXPECT_EQ(other("_web._tcp.service.east.consul.", wire::type::kSrv), "east");
  EXPECT_EQ(other("n1.node.dc2.consul.", wire::type::kA), "dc2");
  // The local datacenter, named or not, is answered here.
  Message q;
  q.questions.push_back(wire::Question{"web.service.dc1.consul.", wire::type::kA, wire::kClassIn});
  Resolution local = resolve_full(q, snap(), config_, rand_, true, nullptr);
  EXPECT_EQ(local.other_datacenter, "");
  EXPECT_EQ(local.response.answers.size(), 1u);
}

TEST_F(ResolverTest, OutsideDomainIsRefused) {
  Message m = ask("example.com.", wire::type::kA);
  EXPECT_EQ(m.header.rcode, wire::rcode::kRefused);
  EXPECT_FALSE(m.header.ra);
  EXPECT_TRUE(m.answers.empty());
}

TEST_F(ResolverTest, FormErrAndNotImp) {
  Message none;
  none.header.id = 9;
  Message r = run(none);
  EXPECT_EQ(r.header.id, 9);
  EXPECT_EQ(r.header.rcode, wire::rcode::kFormErr);
  Message two;
  two.questions.push_back(wire::Question{"a.service.consul.", wire::type::kA, wire::kClassIn});
  two.questions.push_back(wire::Question{"b.service.consul.", wire::type::kA, wire::kClassIn});
  EXPECT_EQ(run(two).header.rcode, wire::rcode::kFormErr);
  Message notify;
  notify.header.opcode = 4;
  notify.questions.push_back(wire::Question{"consul.", wire::type::kSoa, wire::kClassIn});
  EXPECT_EQ(run(notify).header.rcode, wire::rcode::kNotImp);
}

TEST_F(ResolverTest, EdnsEchoed) {
  add("n1", "10.0.0.1", "web");
  Message q;
  q.questions.push_back(wire::Question{"web.service.consul.", wire::type::kA, wire::kClassIn});
  EXPECT_FALSE(run(q).edns.has_value());
  q.edns = wire::Edns{};
  q.edns->udp_payload_size = 1232;
  q.edns->options.push_back(wire::EdnsOption{10, {1, 2, 3, 4, 5, 6, 7, 8}});
  Message r = run(q);
  ASSERT_TRUE(r.edns.has_value());
  EXPECT_EQ(r.edns->udp_payload_size, 1232);
  EXPECT_TRUE(r.edns->options.empty());
}

TEST_F(ResolverTest, ARecordLimitAndShuffle) {
  for (int i = 1; i <= 6; ++i) {
    add("n" + std::to_string(i), "10.0.0." + std::to_string(i), "web");
  }
  config_.a_record_limit = 2;
  EXPECT_EQ(ask("web.service.consul.", wire::type::kA).answers.size(), 2u);
  config_.a_record_limit = 0;
  std::set<std::string> firsts;
  for (int i = 0; i < 20; ++i) {
    Message m = ask("web.service.consul.", wire::type::kA);
    ASSERT_EQ(m.answers.size(), 6u);
    firsts.insert(a_text(m.answers[0]));
  }
  EXPECT_GT(firsts.size(), 1u);
}

TEST_F(ResolverTest, ApexSoa) {
  Message m = ask("consul.", wire::type::kSoa);
  EXPECT_EQ(m.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, wire::type::kSoa);
}

TEST_F(ResolverTest, ServiceTtl) {
  config_.service_ttl = 30;
  add("n1", "10.0.0.1", "web");
  Message m = ask("web.service.consul.", wire::type::kA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].ttl, 30u);
}

TEST_F(ResolverTest, ServiceTtlByNameAndWildcard) {
  config_.service_ttl = 1;
  add("n1", "10.0.0.1", "web");
  add("n1", "10.0.0.1", "db");
  add("n1", "10.0.0.1", "api-v1");
  add("n1", "10.0.0.1", "cache");
  auto ttl_of = [&](const std::string& name, std::uint16_t qtype = wire::type::kA) {
    Message m = ask(name + ".service.consul.", qtype);
    EXPECT_EQ(m.answers.size(), 1u) << name;
    return m.answers.empty() ? 0u : m.answers[0].ttl;
  };
  EXPECT_EQ(ttl_of("web"), 1u);  // no map: the fallback
  config_.service_ttls = {{"*", 5}, {"web", 30}, {"api-*", 7}, {"api-v*", 9}};
  EXPECT_EQ(ttl_of("web"), 30u);
  EXPECT_EQ(ttl_of("db"), 5u);
  EXPECT_EQ(ttl_of("api-v1"), 9u);  // the longest prefix
  Message srv = ask("web.service.consul.", wire::type::kSrv);
  ASSERT_EQ(srv.answers.size(), 1u);
  EXPECT_EQ(srv.answers[0].ttl, 30u);
  ASSERT_EQ(srv.additional.size(), 1u);
  EXPECT_EQ(srv.additional[0].ttl, 30u);
  config_.service_ttls.erase("*");
  EXPECT_EQ(ttl_of("cache"), 1u);
  EXPECT_EQ(service_ttl_for(config_, "api-x"), 7u);
}

TEST_F(ResolverTest, NodeTtlOnNodeAddrAndPtr) {
  config_.node_ttl = 10;
  config_.service_ttl = 20;
  add("n1", "10.0.0.1", "web");
  Message node = ask("n1.node.consul.", wire::type::kA);
  ASSERT_EQ(node.answers.size(), 1u);
  EXPECT_EQ(node.answers[0].ttl, 10u);
  Message addr = ask("0a000001.addr.consul.", wire::type::kA);
  ASSERT_EQ(addr.answers.size(), 1u);
  EXPECT_EQ(addr.answers[0].ttl, 10u);
  Message ptr = ask("1.0.0.10.in-addr.arpa.", wire::type::kPtr);
  ASSERT_EQ(ptr.answers.size(), 1u);
  EXPECT_EQ(ptr.answers[0].ttl, 10u);
}

TEST_F(ResolverTest, SoaFromConfig) {
  config_.soa_min_ttl = 60;
  config_.soa_retry = 300;
  Message m = ask("nope.service.consul.", wire::type::kA);
  ASSERT_EQ(m.authority.size(), 1u);
  EXPECT_EQ(m.authority[0].ttl, 60u);
  const auto& soa = std::get<wire::SoaRdata>(m.authority[0].rdata);
  EXPECT_EQ(soa.minimum, 60u);
  EXPECT_EQ(soa.retry, 300u);
  EXPECT_EQ(soa.refresh, 3600u);
}

TEST_F(ResolverTest, UdpAnswerLimit) {
  for (int i = 1; i <= 6; ++i) {
    add("n" + std::to_string(i), "10.0.0." + std::to_string(i), "web");
  }
  Message q;
  q.questions.push_back(wire::Question{"web.service.consul.", wire::type::kA, wire::kClassIn});
  EXPECT_EQ(run(q).answers.size(), 6u);  // TCP: everything
  Message udp = run(q, true);            // UDP: Consul's default limit of 3
  EXPECT_EQ(udp.answers.size(), 3u);
  EXPECT_FALSE(udp.header.tc);
  config_.enable_truncate = true;
  EXPECT_TRUE(run(q, true).header.tc);
  config_.udp_answer_limit = 2;
  EXPECT_EQ(run(q, true).answers.size(), 2u);
  config_.udp_answer_limit = 6;
  Message all = run(q, true);
  EXPECT_EQ(all.answers.size(), 6u);
  EXPECT_FALSE(all.header.tc);   // nothing dropped
  config_.udp_answer_limit = 0;  // no limit
  EXPECT_EQ(run(q, true).answers.size(), 6u);
  // An EDNS0 payload above 512 bytes lifts the limit, as in Consul.
  config_.udp_answer_limit = 2;
  q.edns = wire::Edns{};
  q.edns->udp_payload_size = 1232;
  EXPECT_EQ(run(q, true).answers.size(), 6u);
  q.edns->udp_payload_size = 512;
  EXPECT_EQ(run(q, true).answers.size(), 2u);
  // SRV: the additional records follow the answers kept.
  Message srv_q;
  srv_q.questions.push_back(
      wire::Question{"web.service.consul.", wire::type::kSrv, wire::kClassIn});
  Message srv = run(srv_q, true);
  ASSERT_EQ(srv.answers.size(), 2u);
  ASSERT_EQ(srv.additional.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(srv.additional[i].name, std::get<wire::SrvRdata>(srv.answers[i].rdata).target);
  }
}

TEST_F(ResolverTest, ARecordLimitWithOnlyPassing) {
  add("n1", "10.0.0.1", "web");
  add("n2", "10.0.0.2", "web", {}, "warning");
  add("n3", "10.0.0.3", "web");
  config_.only_passing = true;
  config_.a_record_limit = 1;
  Message m = ask("web.service.consul.", wire::type::kA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_NE(a_text(m.answers[0]), "10.0.0.2");
  config_.a_record_limit = 0;
  EXPECT_EQ(addresses(ask("web.service.consul.", wire::type::kA)),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.3"}));
}

// --- alt_domain, CNAMEs, node meta, reverse IPv6, NS, recursion, staleness ---

TEST_F(ResolverTest, AltDomainAnswersInTheDomainAsked) {
  config_.alt_domain = "test-domain.";
  add("n1", "10.0.0.1", "web", {}, "passing", "", 8080);
  add("n2", "10.0.0.2", "api", {}, "passing", "127.0.0.2", 9090);
  Message alt = ask("web.service.test-domain.", wire::type::kSrv);
  ASSERT_EQ(alt.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(alt.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::SrvRdata>(alt.answers[0].rdata).target, "n1.node.dc1.test-domain.");
  ASSERT_EQ(alt.additional.size(), 1u);
  EXPECT_EQ(alt.additional[0].name, "n1.node.dc1.test-domain.");
  Message alt_addr = ask("api.service.dc1.TEST-DOMAIN.", wire::type::kSrv);
  ASSERT_EQ(alt_addr.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::SrvRdata>(alt_addr.answers[0].rdata).target,
            "7f000002.addr.dc1.test-domain.");
  Message primary = ask("web.service.consul.", wire::type::kSrv);
  EXPECT_EQ(std::get<wire::SrvRdata>(primary.answers[0].rdata).target, "n1.node.dc1.consul.");
  Message missing = ask("nope.service.test-domain.", wire::type::kA);
  EXPECT_EQ(missing.header.rcode, wire::rcode::kNxDomain);
  ASSERT_EQ(missing.authority.size(), 1u);
  EXPECT_EQ(missing.authority[0].name, "test-domain.");
  EXPECT_EQ(std::get<wire::SoaRdata>(missing.authority[0].rdata).mname, "ns.test-domain.");
  EXPECT_EQ(ask("n1.node.test-domain.", wire::type::kA).answers.size(), 1u);
}

TEST_F(ResolverTest, HostNameAddressIsCnameWithExternalRecords) {
  add("n1", "10.0.0.1", "db", {}, "passing", "db.example.com", 5432);
  Message q;
  q.questions.push_back(wire::Question{"db.service.consul.", wire::type::kA, wire::kClassIn});
  // Without recursors: the CNAME alone, nothing asked of the server.
  Resolution plain = resolve_full(q, snap(), config_, rand_, false, nullptr);
  ASSERT_EQ(plain.response.answers.size(), 1u);
  EXPECT_EQ(plain.response.answers[0].type, wire::type::kCname);
  EXPECT_EQ(std::get<wire::CnameRdata>(plain.response.answers[0].rdata).name, "db.example.com.");
  EXPECT_TRUE(plain.external_names.empty());
  // With recursors: the server is asked for the host, then answers with its records.
  config_.recursion_available = true;
  Resolution first = resolve_full(q, snap(), config_, rand_, false, nullptr);
  EXPECT_EQ(first.external_names, std::vector<std::string>{"db.example.com."});
  ExternalRecords found;
  Record a;
  a.name = "db.example.com.";
  a.type = wire::type::kA;
  a.ttl = 300;
  a.rdata = wire::ARdata{{192, 0, 2, 7}};
  found["db.example.com."].push_back(a);
  config_.service_ttl = 15;
  Resolution second = resolve_full(q, snap(), config_, rand_, false, &found);
  EXPECT_TRUE(second.external_names.empty());
  ASSERT_EQ(second.response.answers.size(), 2u);
  EXPECT_EQ(second.response.answers[0].type, wire::type::kCname);
  EXPECT_EQ(a_text(second.response.answers[1]), "192.0.2.7");
  EXPECT_EQ(second.response.answers[1].ttl, 15u);  // the service's TTL, as Consul
  EXPECT_TRUE(second.response.header.ra);
  // SRV: the host name is the target, its records are additional.
  q.questions[0].qtype = wire::type::kSrv;
  Resolution srv = resolve_full(q, snap(), config_, rand_, false, &found);
  ASSERT_EQ(srv.response.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::SrvRdata>(srv.response.answers[0].rdata).target, "db.example.com.");
  ASSERT_EQ(srv.response.additional.size(), 1u);
  EXPECT_EQ(a_text(srv.response.additional[0]), "192.0.2.7");
}

TEST_F(ResolverTest, IpAnswersWinOverCnames) {
  add("n1", "10.0.0.1", "web", {}, "passing", "web.example.com");
  add("n2", "10.0.0.2", "web");
  Message m = ask("web.service.consul.", wire::type::kA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(a_text(m.answers[0]), "10.0.0.2");
}

TEST_F(ResolverTest, CnameInsideTheDomainIsResolvedHere) {
  add("n1", "10.0.0.1", "db");
  add("n2", "10.0.0.2", "alias", {}, "passing", "db.service.consul");
  Message m = ask("alias.service.consul.", wire::type::kA);
  ASSERT_EQ(m.answers.size(), 2u);
  EXPECT_EQ(m.answers[0].type, wire::type::kCname);
  EXPECT_EQ(a_text(m.answers[1]), "10.0.0.1");
  // A loop ends at the recursion limit instead of hanging.
  add("n3", "10.0.0.3", "loop", {}, "passing", "loop.service.consul");
  add("n4", "10.0.0.4", "ping", {}, "passing", "pong.service.consul");
  add("n5", "10.0.0.5", "pong", {}, "passing", "ping.service.consul");
  Message loop = ask("ping.service.consul.", wire::type::kA);
  EXPECT_EQ(loop.header.rcode, wire::rcode::kNoError);
  EXPECT_LE(loop.answers.size(), 5u);
}

TEST_F(ResolverTest, NodeHostNameIsCname) {
  proto::Command c = catalog_register("ext");
  c.mutable_catalog_register()->set_address("ext.example.com");
  ASSERT_TRUE(apply(++index_, c).status);
  Message m = ask("ext.node.consul.", wire::type::kA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, wire::type::kCname);
  EXPECT_EQ(std::get<wire::CnameRdata>(m.answers[0].rdata).name, "ext.example.com.");
}

TEST_F(ResolverTest, NodeMetaTxt) {
  proto::Command c = catalog_register("n1");
  c.mutable_catalog_register()->set_address("10.0.0.1");
  auto add_meta = [&](const std::string& k, const std::string& v) {
    auto* m = c.mutable_catalog_register()->add_node_meta();
    m->set_key(k);
    m->set_value(v);
  };
  add_meta("rack", "r1");
  add_meta("rfc1035-raw", "just the value");
  add_meta("a=b", "x`y");
  ASSERT_TRUE(apply(++index_, c).status);
  auto texts = [](const std::vector<Record>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) {
      if (r.type == wire::type::kTxt) out.push_back(std::get<wire::TxtRdata>(r.rdata).strings[0]);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const std::vector<std::string> want{"a`=b=x``y", "just the value", "rack=r1"};
  Message txt = ask("n1.node.consul.", wire::type::kTxt);
  EXPECT_EQ(texts(txt.answers), want);
  EXPECT_EQ(txt.answers.size(), 3u);  // no A record for a TXT question
  Message any = ask("n1.node.consul.", wire::type::kAny);
  EXPECT_EQ(any.answers.size(), 4u);
  Message a = ask("n1.node.consul.", wire::type::kA);
  ASSERT_EQ(a.answers.size(), 1u);
  EXPECT_EQ(texts(a.additional), want);
  config_.node_meta_txt = false;
  EXPECT_TRUE(ask("n1.node.consul.", wire::type::kA).additional.empty());
  EXPECT_EQ(texts(ask("n1.node.consul.", wire::type::kTxt).answers), want);
  // SRV answers carry the target node's meta when enabled.
  config_.node_meta_txt = true;
  auto* s = with_service(c, "web1", "web", {}, 80);
  (void)s;
  ASSERT_TRUE(apply(++index_, c).status);
  Message srv = ask("web.service.consul.", wire::type::kSrv);
  ASSERT_EQ(srv.answers.size(), 1u);
  EXPECT_EQ(texts(srv.additional), want);
  for (const auto& r : srv.additional) EXPECT_EQ(r.name, "n1.node.dc1.consul.");
}

TEST_F(ResolverTest, Rfc1464KeyQuoting) {
  proto::Command c = catalog_register("n1");
  c.mutable_catalog_register()->set_address("10.0.0.1");
  auto* m = c.mutable_catalog_register()->add_node_meta();
  m->set_key(" k ");
  m->set_value("v");
  ASSERT_TRUE(apply(++index_, c).status);
  Message txt = ask("n1.node.consul.", wire::type::kTxt);
  ASSERT_EQ(txt.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::TxtRdata>(txt.answers[0].rdata).strings[0], "` k` =v");
}

TEST_F(ResolverTest, Ipv6Ptr) {
  add("n6", "2001:db8::1", "web");
  std::string name;
  const std::string hex = "20010db8000000000000000000000001";
  for (auto it = hex.rbegin(); it != hex.rend(); ++it) name += std::string(1, *it) + ".";
  name += "ip6.arpa.";
  Message m = ask(name, wire::type::kPtr);
  ASSERT_EQ(m.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::PtrRdata>(m.answers[0].rdata).name, "n6.node.dc1.consul.");
  name[0] = '2';
  EXPECT_EQ(ask(name, wire::type::kPtr).header.rcode, wire::rcode::kNxDomain);
  EXPECT_EQ(ask("1.ip6.arpa.", wire::type::kPtr).header.rcode, wire::rcode::kNxDomain);
}

TEST_F(ResolverTest, ServiceAddressPtrNamesTheService) {
  add("n1", "10.0.0.1", "web", {}, "passing", "10.9.9.9");
  Message m = ask("9.9.9.10.in-addr.arpa.", wire::type::kPtr);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::PtrRdata>(m.answers[0].rdata).name, "web.service.dc1.consul.");
}

TEST_F(ResolverTest, NsAndSoaNameTheServers) {
  for (int i = 1; i <= 4; ++i) {
    add("s" + std::to_string(i), "10.0.1." + std::to_string(i), "consul");
  }
  add("bad_name", "10.0.1.9", "consul");  // not a DNS name: never a name server
  Message ns = ask("consul.", wire::type::kNs);
  ASSERT_EQ(ns.header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(ns.answers.size(), 3u);  // at most three, as Consul
  ASSERT_EQ(ns.additional.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ns.answers[i].name, "consul.");
    const std::string target = std::get<wire::NsRdata>(ns.answers[i].rdata).name;
    EXPECT_TRUE(target.ends_with(".node.dc1.consul.")) << target;
    EXPECT_EQ(ns.additional[i].name, target);
  }
  Message soa = ask("web.service.consul.", wire::type::kSoa);
  ASSERT_EQ(soa.answers.size(), 1u);
  EXPECT_EQ(soa.answers[0].type, wire::type::kSoa);
  EXPECT_EQ(soa.answers[0].name, "consul.");
  EXPECT_EQ(soa.authority.size(), 3u);
  EXPECT_EQ(soa.additional.size(), 3u);
  EXPECT_EQ(ask("consul.", 252).header.rcode, wire::rcode::kNotImp);  // AXFR
}

TEST_F(ResolverTest, SrvWithoutServiceLabelAndExplicitDcLabel) {
  add("n1", "10.0.0.1", "web", {"primary"}, "passing", "", 8080);
  Message implicit = ask("_web._primary.consul.", wire::type::kSrv);
  ASSERT_EQ(implicit.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::SrvRdata>(implicit.answers[0].rdata).port, 8080);
  EXPECT_EQ(ask("web.service.dc1.dc.consul.", wire::type::kA).answers.size(), 1u);
  EXPECT_EQ(ask("web.service.dc2.dc.consul.", wire::type::kA).header.rcode, wire::rcode::kNxDomain);
  EXPECT_EQ(ask("web.service.a.b.consul.", wire::type::kA).header.rcode, wire::rcode::kNxDomain);
}

// NAME.query comes back to be run; answered from what running it gave: the instances in the
// given order with the query's TTL, SRV targets in the answering datacenter; nothing found is
// NXDOMAIN.
TEST_F(ResolverTest, PreparedQueryNamesAreHandedBackThenAnswered) {
  Message q;
  q.header.id = 7;
  q.questions.push_back(wire::Question{"geo-web.query.consul.", wire::type::kA, wire::kClassIn});
  Resolution first = resolve_full(q, snap(), config_, rand_, false, nullptr);
  EXPECT_EQ(first.prepared_query, "geo-web");
  EXPECT_FALSE(first.cacheable);
  PreparedQueryAnswer answer;
  answer.found = true;
  answer.service = "web";
  answer.datacenter = "dc2";
  answer.ttl = 9;
  endpoints::CheckServiceNode csn;
  csn.node.node = "far";
  csn.node.address = "10.9.0.1";
  csn.service.node = "far";
  csn.service.id = "web-far";
  csn.service.service = "web";
  csn.service.port = 8080;
  answer.nodes.push_back(csn);
  Resolution a = resolve_full(q, snap(), config_, rand_, false, nullptr, nullptr, &answer);
  ASSERT_EQ(a.response.answers.size(), 1u);
  EXPECT_EQ(a.response.answers[0].ttl, 9u);
  EXPECT_EQ(addresses(a.response), std::vector<std::string>{"10.9.0.1"});
  q.questions[0] = wire::Question{"geo-web.query.dc1.consul.", wire::type::kSrv, wire::kClassIn};
  Resolution srv = resolve_full(q, snap(), config_, rand_, false, nullptr, nullptr, &answer);
  ASSERT_EQ(srv.response.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::SrvRdata>(srv.response.answers[0].rdata).target, "far.node.dc2.consul.");
  PreparedQueryAnswer none;
  EXPECT_EQ(
      resolve_full(q, snap(), config_, rand_, false, nullptr, nullptr, &none).response.header.rcode,
      wire::rcode::kNxDomain);
}

TEST_F(ResolverTest, RecursorsTakeNamesOutsideTheDomain) {
  add("n1", "10.0.0.1", "web");
  config_.recursion_available = true;
  Message q;
  q.questions.push_back(wire::Question{"example.com.", wire::type::kA, wire::kClassIn});
  Resolution out = resolve_full(q, snap(), config_, rand_, true, nullptr);
  EXPECT_TRUE(out.forward);
  q.questions[0].name = "7.7.7.7.in-addr.arpa.";
  q.questions[0].qtype = wire::type::kPtr;
  EXPECT_TRUE(resolve_full(q, snap(), config_, rand_, true, nullptr).forward);
  q.questions[0].name = "1.0.0.10.in-addr.arpa.";  // known: answered here
  Resolution known = resolve_full(q, snap(), config_, rand_, true, nullptr);
  EXPECT_FALSE(known.forward);
  EXPECT_EQ(known.response.answers.size(), 1u);
  q.questions[0].name = "nope.service.consul.";  // inside the domain: never forwarded
  q.questions[0].qtype = wire::type::kA;
  Resolution inside = resolve_full(q, snap(), config_, rand_, true, nullptr);
  EXPECT_FALSE(inside.forward);
  EXPECT_EQ(inside.response.header.rcode, wire::rcode::kNxDomain);
  EXPECT_TRUE(inside.response.header.ra);
}

TEST_F(ResolverTest, StaleAnswers) {
  EXPECT_TRUE(stale_answer_allowed(config_, true, 0));  // the leader itself
  EXPECT_TRUE(stale_answer_allowed(config_, true, 5000));
  EXPECT_FALSE(stale_answer_allowed(config_, false, 0));
  config_.max_stale_ms = 1000;
  EXPECT_FALSE(stale_answer_allowed(config_, true, 5000));
  EXPECT_TRUE(stale_answer_allowed(config_, true, 900));
  config_.allow_stale = false;
  EXPECT_FALSE(stale_answer_allowed(config_, true, 900));
  EXPECT_TRUE(stale_answer_allowed(config_, true, 0));
}

}  // namespace
}  // namespace pc::dns
