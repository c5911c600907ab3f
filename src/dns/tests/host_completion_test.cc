// complete_hosts: an answer built elsewhere (a client agent's server) completed with the
// records of its host names, so that it ends up as the answer built here would be.
#include "dns/host_completion.h"

#include <gtest/gtest.h>

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

Record a_record(const std::string& name, std::uint8_t last, std::uint32_t ttl = 300) {
  Record r;
  r.name = name;
  r.type = wire::type::kA;
  r.ttl = ttl;
  r.rdata = wire::ARdata{{192, 0, 2, last}};
  return r;
}

std::string describe(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records) {
    out += r.name + " " + std::to_string(r.type) + " " + std::to_string(r.ttl);
    if (const auto* a = std::get_if<wire::ARdata>(&r.rdata)) {
      out += " " + std::to_string(a->address[3]);
    } else if (const auto* c = std::get_if<wire::CnameRdata>(&r.rdata)) {
      out += " " + c->name;
    } else if (const auto* s = std::get_if<wire::SrvRdata>(&r.rdata)) {
      out += " " + s->target;
    }
    out += "\n";
  }
  return out;
}

class HostCompletionTest : public state::testing::StoreTest {
 protected:
  HostCompletionTest() {
    config_.recursion_available = true;
    config_.service_ttl = 15;
    // What the recursors know.
    recursors_["db.example.com."] = {a_record("db.example.com.", 7),
                                     a_record("db.example.com.", 8)};
    recursors_["cache.example.net."] = {a_record("cache.example.net.", 9)};
  }

  void add(const std::string& node, const std::string& address, const std::string& name,
           const std::string& service_address, int port = 80) {
    proto::Command c = catalog_register(node);
    c.mutable_catalog_register()->set_address(address);
    auto* s = with_service(c, node + "-" + name, name, {}, port);
    s->set_address(service_address);
    with_check(c, node + "-" + name + "-check", "passing", node + "-" + name);
    ASSERT_TRUE(apply(++index_, c).status);
  }

  static Message question(const std::string& name, std::uint16_t qtype, bool edns = false) {
    Message q;
    q.header.id = 9;
    q.questions.push_back(wire::Question{name, qtype, wire::kClassIn});
    if (edns) q.edns = wire::Edns{};
    return q;
  }

  // The answer as a server builds it for an agent whose recursors it cannot reach.
  Message remote_answer(const Message& q, bool udp = false) {
    return resolve_full(q, snap(), config_, rand_, udp, nullptr).response;
  }

  // The answer built by an agent that has the recursors: resolve, look up, resolve again.
  Message local_answer(const Message& q, bool udp = false) {
    Resolution first = resolve_full(q, snap(), config_, rand_, udp, nullptr);
    ExternalRecords found = lookup(first.external_names);
    return resolve_full(q, snap(), config_, rand_, udp, &found).response;
  }

  // The remote answer completed as the agent that was asked does it.
  Message completed(const Message& q, const Message& remote, bool udp = false) {
    Resolution first = complete_hosts(q, remote, config_, nullptr, udp);
    ExternalRecords found = lookup(first.external_names);
    Resolution second = complete_hosts(q, remote, config_, &found, udp);
    EXPECT_TRUE(second.external_names.empty());
    EXPECT_TRUE(wire::encode(second.response, wire::kMaxMessageSize).has_value());
    return second.response;
  }

  ExternalRecords lookup(const std::vector<std::string>& names) {
    ExternalRecords found;
    for (const auto& name : names) {
      asked_.push_back(name);
      if (auto it = recursors_.find(name); it != recursors_.end()) found[name] = it->second;
    }
    return found;
  }

  std::uint64_t index_ = 0;
  ResolverConfig config_;
  core::SystemRand rand_{7};
  ExternalRecords recursors_;
  std::vector<std::string> asked_;
};

TEST_F(HostCompletionTest, CnameIsFollowedByTheHostsRecords) {
  add("n1", "10.0.0.1", "db", "DB.Example.com");
  const Message q = question("db.service.consul.", wire::type::kA);
  const Message remote = remote_answer(q);
  ASSERT_EQ(remote.answers.size(), 1u);  // what a client agent got before: the CNAME alone
  Resolution first = complete_hosts(q, remote, config_, nullptr, false);
  EXPECT_EQ(first.external_names, std::vector<std::string>{"db.example.com."});
  EXPECT_EQ(describe(first.response.answers), describe(remote.answers));
  const Message done = completed(q, remote);
  EXPECT_EQ(describe(done.answers),
            "db.service.consul. 5 15 db.example.com.\n"
            "db.example.com. 1 15 7\n"
            "db.example.com. 1 15 8\n");
  // The same as the answer an agent with the recursors builds itself.
  EXPECT_EQ(describe(done.answers), describe(local_answer(q).answers));
  EXPECT_TRUE(done.header.ra);
}

TEST_F(HostCompletionTest, SrvTargetsGetTheirRecordsInAdditional) {
  add("n1", "10.0.0.1", "db", "db.example.com", 5432);
  add("n2", "10.0.0.2", "db", "cache.example.net", 6379);
  add("n3", "10.0.0.3", "db", "", 5433);  // the node: a target inside the domain
  const Message q = question("db.service.consul.", wire::type::kSrv);
  const Message remote = remote_answer(q);
  ASSERT_EQ(remote.answers.size(), 3u);
  Resolution first = complete_hosts(q, remote, config_, nullptr, false);
  EXPECT_EQ(first.external_names,
            (std::vector<std::string>{"cache.example.net.", "db.example.com."}));
  const Message done = completed(q, remote);
  const Message local = local_answer(q);
  EXPECT_EQ(describe(done.answers), describe(remote.answers));
  // The same records as a local answer, whatever their order in the section.
  auto sorted = [](std::vector<Record> records) {
    std::string text = describe(records);
    std::vector<std::string> lines;
    for (std::size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
      lines.push_back(text.substr(at, end - at));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  EXPECT_EQ(sorted(done.additional), sorted(local.additional));
  EXPECT_EQ(done.additional.size(), 4u);  // n3's A, db's two, cache's one
}

TEST_F(HostCompletionTest, NothingIsAskedWithoutRecursorsOrForNamesInTheDomains) {
  add("n1", "10.0.0.1", "db", "db.example.com");
  add("n2", "10.0.0.2", "alias", "web.service.consul");
  add("n3", "10.0.0.3", "alt", "web.service.alt.test");
  add("n4", "10.0.0.4", "web", "");
  config_.alt_domain = "alt.test.";
  // A CNAME into the domain was resolved by the server; one into the alt domain too.
  for (const char* name : {"alias.service.consul.", "alt.service.consul."}) {
    const Message q = question(name, wire::type::kA);
    Resolution r = complete_hosts(q, remote_answer(q), config_, nullptr, false);
    EXPECT_TRUE(r.external_names.empty()) << name;
  }
  // An agent without recursors relays the CNAME alone.
  config_.recursion_available = false;
  const Message q = question("db.service.consul.", wire::type::kA);
  const Message remote = remote_answer(q);
  Resolution r = complete_hosts(q, remote, config_, nullptr, false);
  EXPECT_TRUE(r.external_names.empty());
  EXPECT_EQ(describe(r.response.answers), describe(remote.answers));
}

TEST_F(HostCompletionTest, ACnameChainThroughTheDomainEndsWithTheHostsRecords) {
  add("n1", "10.0.0.1", "db", "db.example.com");
  add("n2", "10.0.0.2", "alias", "db.service.consul");
  const Message q = question("alias.service.consul.", wire::type::kA);
  const Message remote = remote_answer(q);
  ASSERT_EQ(remote.answers.size(), 2u);  // alias -> db.service.consul -> db.example.com
  const Message done = completed(q, remote);
  EXPECT_EQ(done.answers.size(), 4u);
  EXPECT_EQ(describe(done.answers), describe(local_answer(q).answers));
}

TEST_F(HostCompletionTest, AnswersThatHaveTheRecordsOrFailedAreLeftAlone) {
  add("n1", "10.0.0.1", "db", "db.example.com");
  const Message q = question("db.service.consul.", wire::type::kA);
  // Already complete (built by an agent with recursors): nothing more to ask.
  const Message full = local_answer(q);
  Resolution r = complete_hosts(q, full, config_, nullptr, false);
  EXPECT_TRUE(r.external_names.empty());
  EXPECT_EQ(describe(r.response.answers), describe(full.answers));
  // NXDOMAIN and SERVFAIL pass through untouched.
  Message failed = remote_answer(q);
  failed.header.rcode = wire::rcode::kServFail;
  EXPECT_TRUE(complete_hosts(q, failed, config_, nullptr, false).external_names.empty());
  const Message none = question("nothing.service.consul.", wire::type::kA);
  EXPECT_TRUE(
      complete_hosts(none, remote_answer(none), config_, nullptr, false).external_names.empty());
}

TEST_F(HostCompletionTest, HostRecordsAreCappedWithoutEdnsAndTrimmedOverUdp) {
  std::vector<Record> many;
  for (std::uint8_t i = 1; i <= 7; ++i) many.push_back(a_record("big.example.org.", i));
  recursors_["big.example.org."] = many;
  add("n1", "10.0.0.1", "big", "big.example.org");
  const Message plain = question("big.service.consul.", wire::type::kA);
  EXPECT_EQ(completed(plain, remote_answer(plain)).answers.size(), 1u + kHostRecordsNoEdnsMax);
  const Message edns = question("big.service.consul.", wire::type::kA, /*edns=*/true);
  EXPECT_EQ(completed(edns, remote_answer(edns)).answers.size(), 8u);
  // Over plain UDP the agent's udp_answer_limit applies to the completed answer, as it does
  // to one built here.
  config_.udp_answer_limit = 3;
  config_.enable_truncate = true;
  const Message udp = completed(plain, remote_answer(plain, true), /*udp=*/true);
  EXPECT_EQ(udp.answers.size(), 3u);
  EXPECT_TRUE(udp.header.tc);
  EXPECT_EQ(describe(udp.answers), describe(local_answer(plain, true).answers));
}

TEST_F(HostCompletionTest, NodeHostNamesAreCompletedToo) {
  proto::Command c = catalog_register("ext");
  c.mutable_catalog_register()->set_address("db.example.com");
  ASSERT_TRUE(apply(++index_, c).status);
  config_.node_ttl = 4;
  const Message q = question("ext.node.consul.", wire::type::kA);
  const Message done = completed(q, remote_answer(q));
  // A node's host records stand as the recursors gave them (their TTL of 300), as in an
  // answer built here; a service's take the service's TTL.
  EXPECT_EQ(describe(done.answers),
            "ext.node.consul. 5 4 db.example.com.\n"
            "db.example.com. 1 300 7\n"
            "db.example.com. 1 300 8\n");
  EXPECT_EQ(describe(done.answers), describe(local_answer(q).answers));
  // A service named "node" is a service: the rightmost kind label decides.
  add("n1", "10.0.0.1", "node", "db.example.com");
  const Message tagged = question("node.service.consul.", wire::type::kA);
  EXPECT_EQ(describe(completed(tagged, remote_answer(tagged)).answers),
            describe(local_answer(tagged).answers));
  EXPECT_EQ(completed(tagged, remote_answer(tagged)).answers[1].ttl, 15u);
}

TEST(HostRecordsOf, KeepsAddressesAndCnamesWithTheAnswersTtl) {
  Record txt;
  txt.name = "h.example.";
  txt.type = wire::type::kTxt;
  txt.rdata = wire::TxtRdata{{"x"}};
  Record cname;
  cname.name = "h.example.";
  cname.type = wire::type::kCname;
  cname.ttl = 900;
  cname.rdata = wire::CnameRdata{"i.example."};
  auto out = host_records_of({txt, cname, a_record("i.example.", 1, 60)}, 20, false);
  EXPECT_EQ(describe(out), "h.example. 5 20 i.example.\ni.example. 1 20 1\n");
}

}  // namespace
}  // namespace pc::dns
