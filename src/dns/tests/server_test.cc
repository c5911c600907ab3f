// DnsServer over loopback with a stub recursor: an answer another process built (a client
// agent's server) comes back with a CNAME or SRV target outside the domain and no records for
// it; the server completes it from its own recursors before relaying it.
#include "dns/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pc::dns {
namespace {

using wire::Message;
using wire::Record;

// A UDP socket on 127.0.0.1 (port 0: an ephemeral one) whose reads give up after 100 ms.
int udp_socket(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -1;
  socklen_t size = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  port = ntohs(addr.sin_port);
  timeval timeout{0, 100 * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Answers A questions for the names in `hosts` (lower case, fully qualified) with one
// address each, anything else with NXDOMAIN; counts the questions it got.
class StubRecursor {
 public:
  explicit StubRecursor(std::map<std::string, std::uint8_t> hosts) : hosts_(std::move(hosts)) {
    fd_ = udp_socket(port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~StubRecursor() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int questions() const { return questions_.load(); }

 private:
  void serve() {
    std::vector<std::uint8_t> buf(4096);
    while (!stop_) {
      sockaddr_in peer{};
      socklen_t size = sizeof(peer);
      const ssize_t n =
          ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&peer), &size);
      if (n <= 0) continue;
      auto query = wire::decode(std::span<const std::uint8_t>(buf.data(), std::size_t(n)));
      if (!query || query->questions.size() != 1) continue;
      ++questions_;
      Message reply;
      reply.header.id = query->header.id;
      reply.header.qr = true;
      reply.header.rd = query->header.rd;
      reply.header.ra = true;
      reply.questions = query->questions;
      const wire::Question& q = query->questions[0];
      auto it = hosts_.find(q.name);
      if (it == hosts_.end() || q.qtype != wire::type::kA) {
        reply.header.rcode = wire::rcode::kNxDomain;
      } else {
        Record a;
        a.name = q.name;
        a.type = wire::type::kA;
        a.ttl = 600;
        a.rdata = wire::ARdata{{192, 0, 2, it->second}};
        reply.answers.push_back(a);
      }
      auto bytes = wire::encode(reply, wire::kMaxUdpSize);
      if (!bytes) continue;
      ::sendto(fd_, bytes->bytes.data(), bytes->bytes.size(), 0, reinterpret_cast<sockaddr*>(&peer),
               size);
    }
  }

  std::map<std::string, std::uint8_t> hosts_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> questions_{0};
  std::thread thread_;
};

Record cname(const std::string& name, const std::string& target, std::uint32_t ttl) {
  Record r;
  r.name = name;
  r.type = wire::type::kCname;
  r.ttl = ttl;
  r.rdata = wire::CnameRdata{target};
  return r;
}

Record srv(const std::string& name, const std::string& target, std::uint32_t ttl) {
  Record r;
  r.name = name;
  r.type = wire::type::kSrv;
  r.ttl = ttl;
  r.rdata = wire::SrvRdata{1, 1, 5432, target};
  return r;
}

class RemoteCompletionTest : public ::testing::Test {
 protected:
  // A server whose every answer comes from `remote` (here: the records below, as a server
  // that cannot reach the recursors builds them), completed with `config` unless null.
  void start(std::shared_ptr<const ResolverConfig> config) {
    DnsServer::Options options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.remote = [this](std::vector<std::uint8_t> query, bool,
                            DnsServer::Options::RemoteDone done) {
      auto q = wire::decode(query);
      if (!q) return done(std::nullopt);
      Message answer;
      answer.header.id = q->header.id;
      answer.header.qr = true;
      answer.header.aa = true;
      answer.header.ra = true;
      answer.questions = q->questions;
      const std::string& name = q->questions.at(0).name;
      if (q->questions[0].qtype == wire::type::kSrv) {
        answer.answers.push_back(srv(name, "db.example.com.", 15));
        answer.answers.push_back(srv(name, "n1.node.dc1.consul.", 15));
        Record a;
        a.name = "n1.node.dc1.consul.";
        a.type = wire::type::kA;
        a.ttl = 15;
        a.rdata = wire::ARdata{{10, 0, 0, 1}};
        answer.additional.push_back(a);
      } else {
        answer.answers.push_back(cname(name, "db.example.com.", 15));
      }
      auto bytes = wire::encode(answer, wire::kMaxUdpSize);
      done(std::move(bytes->bytes));
    };
    server_ = std::make_unique<DnsServer>(options,
                                          [config](const Message&, bool, const ExternalRecords*) {
                                            Resolution r;
                                            r.remote = true;
                                            r.cacheable = false;
                                            r.complete_with = config;
                                            return r;
                                          });
    DnsServer::Recursors recursors;
    recursors.servers.emplace_back("127.0.0.1", recursor_.port());
    server_->set_recursors(recursors);
    auto port = server_->start();
    ASSERT_TRUE(port.has_value());
    port_ = *port;
  }

  // The server's answer to one UDP question.
  std::optional<Message> ask(const std::string& name, std::uint16_t qtype) {
    Message q;
    q.header.id = 321;
    q.header.rd = true;
    q.questions.push_back(wire::Question{name, qtype, wire::kClassIn});
    auto bytes = wire::encode(q, wire::kMaxUdpSize);
    std::uint16_t own = 0;
    const int fd = udp_socket(own);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port_);
    ::sendto(fd, bytes->bytes.data(), bytes->bytes.size(), 0, reinterpret_cast<sockaddr*>(&to),
             sizeof(to));
    std::vector<std::uint8_t> buf(4096);
    std::optional<Message> out;
    for (int tries = 0; tries < 100 && !out; ++tries) {  // 10 s at most
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) continue;
      auto decoded = wire::decode(std::span<const std::uint8_t>(buf.data(), std::size_t(n)));
      if (decoded) out = std::move(*decoded);
    }
    ::close(fd);
    return out;
  }

  StubRecursor recursor_{{{"db.example.com.", 7}}};
  std::unique_ptr<DnsServer> server_;
  std::uint16_t port_ = 0;
};

std::shared_ptr<const ResolverConfig> with_recursors() {
  auto config = std::make_shared<ResolverConfig>();
  config->recursion_available = true;
  return config;
}

TEST_F(RemoteCompletionTest, CnameTargetsGetTheirAddressFromTheRecursors) {
  start(with_recursors());
  auto m = ask("db.service.consul.", wire::type::kA);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->header.id, 321);
  EXPECT_EQ(m->header.rcode, wire::rcode::kNoError);
  ASSERT_EQ(m->answers.size(), 2u);
  EXPECT_EQ(m->answers[0].type, wire::type::kCname);
  EXPECT_EQ(m->answers[1].name, "db.example.com.");
  EXPECT_EQ(std::get<wire::ARdata>(m->answers[1].rdata).address[3], 7);
  EXPECT_EQ(m->answers[1].ttl, 15u);  // the CNAME's (the service's TTL), not the recursor's
  EXPECT_EQ(recursor_.questions(), 1);
}

TEST_F(RemoteCompletionTest, SrvTargetsOutsideTheDomainGetAdditionalRecords) {
  start(with_recursors());
  auto m = ask("db.service.consul.", wire::type::kSrv);
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->answers.size(), 2u);
  ASSERT_EQ(m->additional.size(), 2u);
  EXPECT_EQ(m->additional[0].name, "n1.node.dc1.consul.");  // inside the domain: untouched
  EXPECT_EQ(m->additional[1].name, "db.example.com.");
  EXPECT_EQ(std::get<wire::ARdata>(m->additional[1].rdata).address[3], 7);
  EXPECT_EQ(recursor_.questions(), 1);  // only the host outside the domain was asked about
}

TEST_F(RemoteCompletionTest, WithoutSettingsOrRecursionTheAnswerIsRelayedAsItCame) {
  start(nullptr);
  auto m = ask("db.service.consul.", wire::type::kA);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->answers.size(), 1u);
  server_->stop();
  start(std::make_shared<ResolverConfig>());  // an agent without recursors
  m = ask("db.service.consul.", wire::type::kA);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->answers.size(), 1u);
  EXPECT_EQ(recursor_.questions(), 0);
}

}  // namespace
}  // namespace pc::dns
