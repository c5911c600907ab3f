// A server answering a client agent's DNS question (kRpcClientDns) with the settings the agent
// sent along, not its own (Consul's agents each answer with their own dns_config), and the
// client's side of the call: what it sends, and how it asks an older server again.
#include "daemon/dns_service.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "daemon/client_rpc.h"
#include "daemon/dns_call.h"
#include "daemon/dns_options.h"
#include "dns/wire/message.h"
#include "state/tests/store_test_util.h"

namespace pc::daemon {
namespace {

using dns::wire::Message;
using state::testing::catalog_register;
using state::testing::with_check;
using state::testing::with_service;

// A Log that only reports a leader; DNS reads nothing else of it.
class LeaderOnlyLog final : public consensus::Log {
 public:
  void propose(std::string, consensus::ProposeDone done) override {
    done(core::make_error(core::Code::kInternal, "not in this test"));
  }
  consensus::LeaderInfo leader() const override { return info; }
  std::uint64_t last_index() const override { return 1; }
  std::uint64_t applied_index() const override { return 1; }
  std::vector<std::string> voters() const override { return {}; }
  consensus::RaftConfiguration configuration() const override { return {}; }
  void read_barrier(consensus::OperatorDone done) override { done(core::ok()); }
  bool lease_valid() const override { return true; }
  void remove_server(std::string, consensus::OperatorDone done) override { done(core::ok()); }
  void transfer_leadership(std::string, consensus::OperatorDone done) override { done(core::ok()); }

  consensus::LeaderInfo info{true, "127.0.0.1:8300", 0};
};

class ServerDnsTest : public state::testing::StoreTest {
 protected:
  ServerDnsTest() {
    // The server's own settings: warning instances in, a 30 s service TTL, 3 answers over UDP.
    server_config_.dns_config.service_ttl = {{"*", "30s"}};
    server_config_.dns_config.node_ttl = "10s";
    // The client's: only passing instances, 7 s for every service, 60 s for "db*", at most one
    // A record, its own domain.
    client_config_.domain = "example.";
    client_config_.dns_config.only_passing = true;
    client_config_.dns_config.service_ttl = {{"*", "7s"}, {"db*", "60s"}};
    client_config_.dns_config.node_ttl = "3s";
    client_config_.dns_config.a_record_limit = 1;
    add("n1", "10.0.0.1", "web", "passing");
    add("n2", "10.0.0.2", "web", "warning");
    add("n3", "10.0.0.3", "db", "passing");
  }

  void add(const std::string& node, const std::string& address, const std::string& name,
           const std::string& status) {
    proto::Command c = catalog_register(node);
    c.mutable_catalog_register()->set_address(address);
    with_service(c, node + "-" + name, name, {}, 80);
    with_check(c, node + "-" + name + "-check", status, node + "-" + name);
    ASSERT_TRUE(apply(++index_, c).status);
  }

  // The server's answer to `name`, asked with `options` (null: none sent); nullopt when the
  // server has none to give.
  std::optional<Message> ask(const std::string& name, std::uint16_t qtype,
                             const dns::ResolverConfig* options, bool tcp = true) {
    auto answer = ask_raw(name, qtype, options, tcp);
    if (!answer) return std::nullopt;
    auto decoded = dns::wire::decode(*answer);
    EXPECT_TRUE(decoded.has_value());
    if (!decoded) return std::nullopt;
    return std::move(*decoded);
  }
  // The encoded answer as answer_async gives it.
  std::optional<std::vector<std::uint8_t>> ask_raw(const std::string& name, std::uint16_t qtype,
                                                   const dns::ResolverConfig* options,
                                                   bool tcp = true) {
    Message q;
    q.header.id = 77;
    q.questions.push_back(dns::wire::Question{name, qtype, dns::wire::kClassIn});
    auto bytes = dns::wire::encode(q, dns::wire::kMaxUdpSize);
    EXPECT_TRUE(bytes.has_value());
    DnsService service(store_, log_, server_config_, "server-1");
    if (to_leader_) service.set_leader_forwarding(to_leader_);
    std::optional<std::vector<std::uint8_t>> out;
    bool called = false;
    service.answer_async(bytes->bytes, tcp, "", options,
                         [&](std::optional<std::vector<std::uint8_t>> answer) {
                           called = true;
                           out = std::move(answer);
                         });
    EXPECT_TRUE(called);
    return out;
  }

  dns::ResolverConfig client_options() const { return resolver_config_of(client_config_, "c"); }

  std::uint64_t index_ = 0;
  DnsService::LeaderForwarding to_leader_;
  LeaderOnlyLog log_;
  core::AgentConfig server_config_;
  core::AgentConfig client_config_;
};

TEST_F(ServerDnsTest, WithoutOptionsTheServersSettingsApply) {
  auto m = ask("web.service.consul.", dns::wire::type::kA, nullptr);
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->answers.size(), 2u);  // the warning instance too
  for (const auto& r : m->answers) EXPECT_EQ(r.ttl, 30u);
}

TEST_F(ServerDnsTest, TheClientsTtlsHealthFilterAndLimitsApply) {
  const dns::ResolverConfig options = client_options();
  auto m = ask("web.service.example.", dns::wire::type::kA, &options);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->header.rcode, dns::wire::rcode::kNoError);
  ASSERT_EQ(m->answers.size(), 1u);  // only_passing leaves n2 out
  EXPECT_EQ(std::get<dns::wire::ARdata>(m->answers[0].rdata).address[3], 1);
  EXPECT_EQ(m->answers[0].ttl, 7u);
  auto db = ask("db.service.example.", dns::wire::type::kA, &options);
  ASSERT_TRUE(db.has_value());
  ASSERT_EQ(db->answers.size(), 1u);
  EXPECT_EQ(db->answers[0].ttl, 60u);
  auto node = ask("n1.node.example.", dns::wire::type::kA, &options);
  ASSERT_TRUE(node.has_value());
  ASSERT_EQ(node->answers.size(), 1u);
  EXPECT_EQ(node->answers[0].ttl, 3u);
}

TEST_F(ServerDnsTest, TheClientsDomainIsAnsweredAndTheServersDatacenterKept) {
  // The server alone does not know the client's domain.
  auto refused = ask("web.service.example.", dns::wire::type::kA, nullptr);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->header.rcode, dns::wire::rcode::kRefused);
  // The client's options name "dc1" by default, as the server's do; a client whose decoded
  // options carry another datacenter still gets the server's (only the server knows which
  // is local).
  dns::ResolverConfig options = client_options();
  options.datacenter = "elsewhere";
  auto m = ask("_web._tcp.service.dc1.example.", dns::wire::type::kSrv, &options);
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->answers.size(), 1u);
  EXPECT_EQ(std::get<dns::wire::SrvRdata>(m->answers[0].rdata).target, "n1.node.dc1.example.");
}

TEST_F(ServerDnsTest, ReverseNamesTheCatalogLacksGoToTheClientsRecursors) {
  dns::ResolverConfig options = client_options();
  const std::string unknown = "9.9.9.10.in-addr.arpa.";
  // Without recursors on the client: NXDOMAIN from the catalog, as the server would say.
  auto m = ask(unknown, dns::wire::type::kPtr, &options);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->header.rcode, dns::wire::rcode::kNxDomain);
  EXPECT_FALSE(m->header.ra);
  // With them: an empty answer, which sends the client to its recursors.
  options.recursion_available = true;
  auto raw = ask_raw(unknown, dns::wire::type::kPtr, &options);
  ASSERT_TRUE(raw.has_value());
  EXPECT_TRUE(raw->empty());
  // A known address is answered here, with RA set as the client's recursors call for.
  m = ask("1.0.0.10.in-addr.arpa.", dns::wire::type::kPtr, &options);
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->answers.size(), 1u);
  EXPECT_TRUE(m->header.ra);
  EXPECT_EQ(std::get<dns::wire::PtrRdata>(m->answers[0].rdata).name, "n1.node.dc1.example.");
}

TEST_F(ServerDnsTest, TheClientsStaleLimitApplies) {
  log_.info = consensus::LeaderInfo{true, "127.0.0.1:8300", 5000};  // a follower, 5 s behind
  dns::ResolverConfig options = client_options();
  options.max_stale_ms = 1000;
  auto strict = ask("web.service.example.", dns::wire::type::kA, &options);
  ASSERT_TRUE(strict.has_value());
  EXPECT_EQ(strict->header.rcode, dns::wire::rcode::kServFail);
  options.max_stale_ms = 10000;
  auto loose = ask("web.service.example.", dns::wire::type::kA, &options);
  ASSERT_TRUE(loose.has_value());
  EXPECT_EQ(loose->header.rcode, dns::wire::rcode::kNoError);
}

TEST_F(ServerDnsTest, AFollowerTheClientsSettingsRefuseAsksTheLeader) {
  log_.info = consensus::LeaderInfo{true, "127.0.0.1:8300", 5000};
  std::vector<std::string> sent;
  bool leading = false;
  // The leader's answer: the question's own bytes with QR set stand in for it.
  to_leader_ = [&](std::vector<std::uint8_t> query, bool tcp, const std::string& token,
                   std::shared_ptr<const dns::ResolverConfig> options,
                   dns::DnsServer::Options::RemoteDone done) {
    if (leading) return false;
    sent.push_back(encode_dns_query(query, tcp, token, options.get()));
    std::vector<std::uint8_t> answer = query;
    answer[2] |= 0x80;
    done(answer);
    return true;
  };
  dns::ResolverConfig options = client_options();
  options.allow_stale = false;
  auto m = ask("web.service.example.", dns::wire::type::kA, &options);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->answers.empty());  // what the fake leader said, not an answer made here
  ASSERT_EQ(sent.size(), 1u);
  auto forwarded = decode_dns_query(sent[0]);
  ASSERT_TRUE(forwarded.has_value() && forwarded->options.has_value());
  // The leader answers with the client's settings, told that it may answer from its state
  // whatever it is by then (so it never passes the question on again).
  EXPECT_TRUE(forwarded->options->allow_stale);
  EXPECT_EQ(forwarded->options->service_ttls, options.service_ttls);
  EXPECT_TRUE(forwarded->options->only_passing);
  EXPECT_EQ(forwarded->options->domain, "example.");
  // Settings that allow this follower's answer, or a question with none, stay here.
  options.allow_stale = true;
  m = ask("web.service.example.", dns::wire::type::kA, &options);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->answers.size(), 1u);
  m = ask("web.service.consul.", dns::wire::type::kA, nullptr);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->answers.size(), 2u);
  EXPECT_EQ(sent.size(), 1u);
  // When the forwarder finds this server leads after all, the answer is made here.
  leading = true;
  options.allow_stale = false;
  m = ask("web.service.example.", dns::wire::type::kA, &options);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->header.rcode, dns::wire::rcode::kServFail);  // last contact 5 s: not allowed
}

TEST_F(ServerDnsTest, TheClientsUdpLimitAndTruncationApply) {
  for (int i = 4; i < 10; ++i)
    add("n" + std::to_string(i), "10.0.1." + std::to_string(i), "api", "passing");
  dns::ResolverConfig options = client_options();
  options.udp_answer_limit = 2;
  options.enable_truncate = true;
  auto m = ask("api.service.example.", dns::wire::type::kA, &options, /*tcp=*/false);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->answers.size(), 1u);  // a_record_limit = 1 comes first
  options.a_record_limit = 0;
  m = ask("api.service.example.", dns::wire::type::kA, &options, /*tcp=*/false);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->answers.size(), 2u);
  EXPECT_TRUE(m->header.tc);
  // Over TCP no UDP limit applies.
  m = ask("api.service.example.", dns::wire::type::kA, &options, /*tcp=*/true);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->answers.size(), 6u);
  EXPECT_FALSE(m->header.tc);
}

// call_dns against a fake transport: what goes out, and the second try an older server gets.
class CallDnsTest : public ::testing::Test {
 protected:
  DnsCall fake() {
    return [this](std::string payload, std::function<void(core::Result<std::string>)> reply) {
      sent.push_back(payload);
      auto decoded = decode_dns_query(payload);
      if (old_server && decoded && decoded->options) {
        // What a server that predates the options says (it knows bits 0 and 1 only).
        reply(core::make_error(core::Code::kInvalidArgument, "unknown DNS transport"));
        return;
      }
      reply(std::string("answer"));
    };
  }
  std::optional<std::vector<std::uint8_t>> run(std::shared_ptr<const dns::ResolverConfig> o,
                                               std::string token = "t") {
    std::optional<std::vector<std::uint8_t>> out;
    bool called = false;
    call_dns(fake(), std::vector<std::uint8_t>(12, 1), false, std::move(token), std::move(o),
             "test", [&](std::optional<std::vector<std::uint8_t>> a) {
               called = true;
               out = std::move(a);
             });
    EXPECT_TRUE(called);
    return out;
  }

  bool old_server = false;
  std::vector<std::string> sent;
};

TEST_F(CallDnsTest, SendsTheOptionsAndTheToken) {
  auto options = std::make_shared<dns::ResolverConfig>();
  options->only_passing = true;
  options->service_ttls = {{"*", 7}};
  ASSERT_TRUE(run(options).has_value());
  ASSERT_EQ(sent.size(), 1u);
  auto back = decode_dns_query(sent[0]);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->token, "t");
  ASSERT_TRUE(back->options.has_value());
  EXPECT_EQ(*back->options, *options);
}

TEST_F(CallDnsTest, AsksAnOlderServerAgainWithoutOptions) {
  old_server = true;
  auto answer = run(std::make_shared<dns::ResolverConfig>());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(std::string(answer->begin(), answer->end()), "answer");
  ASSERT_EQ(sent.size(), 2u);
  auto second = decode_dns_query(sent[1]);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->options.has_value());
  EXPECT_EQ(second->token, "t");
}

TEST_F(CallDnsTest, RefusesWhatNoServerWouldTake) {
  auto options = std::make_shared<dns::ResolverConfig>();
  for (std::size_t i = 0; i <= kDnsOptionsServiceTtlsMax; ++i) {
    options->service_ttls["s" + std::to_string(i)] = 1;
  }
  EXPECT_FALSE(run(options).has_value());
  EXPECT_FALSE(run(nullptr, std::string(kDnsQueryTokenMax + 1, 't')).has_value());
  EXPECT_TRUE(sent.empty());
}

}  // namespace
}  // namespace pc::daemon
