// TLS for server RPC: TlsContext loading (Consul's errors), and RpcServer/RpcClient over
// loopback with make_tls_wrapper on both sides: verified calls, the server name check,
// plaintext and uncertified peers refused, plaintext accepted without verify_incoming, and a
// reload that changes what new connections use while an open one goes on.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "rpc/tests/test_certs.h"
#include "rpc/tls_context.h"
#include "rpc/tls_sniff.h"
#include "rpc/tls_stream.h"
#include "rpc/transport.h"

namespace pc::rpc {
namespace {

using namespace std::chrono_literals;

constexpr Method kEcho = 1;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pc-tls-test-XXXXXX").string();
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One call's outcome, waited for with a deadline.
class CallResult {
 public:
  RpcClient::Callback callback() {
    return [this](core::Result<std::string> r) {
      std::lock_guard lock(mu_);
      result_ = std::move(r);
      done_ = true;
      cv_.notify_all();
    };
  }
  core::Result<std::string> wait() {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, 15s, [&] { return done_; })) << "no answer";
    return result_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  core::Result<std::string> result_ = core::make_error(core::Code::kInternal, "none");
};

class RpcTlsTest : public ::testing::Test {
 protected:
  RpcTlsTest() : pki_(dir_.path()) {
    server_ = pki_.leaf("server", {"server.dc1.consul", "localhost"}, 100);
    other_dc_ = pki_.leaf("other", {"server.dc2.consul", "localhost"}, 200);
    client_ = pki_.leaf("client", {"client.dc1.consul"}, 300);
  }

  core::TlsListenerConfig config(const testing::CertFiles& files, bool verify_incoming = true) {
    core::TlsListenerConfig c;
    c.ca_file = pki_.ca_file();
    c.cert_file = files.cert;
    c.key_file = files.key;
    c.verify_incoming = verify_incoming;
    c.verify_outgoing = true;
    c.verify_server_hostname = true;
    return c;
  }

  std::shared_ptr<TlsContextHolder> holder(const core::TlsListenerConfig& c) {
    auto ctx = TlsContext::load(c, "server.dc1.consul");
    EXPECT_TRUE(ctx) << ctx.error().message;
    auto h = std::make_shared<TlsContextHolder>();
    if (ctx) h->set(*ctx);
    return h;
  }

  // An echo server on an ephemeral port; returns "127.0.0.1:port".
  std::string start_server(std::shared_ptr<TlsContextHolder> h) {
    RpcServer::Options o;
    o.port = 0;
    if (h) o.wrap_stream = make_tls_wrapper(std::move(h));
    server_rpc_ = std::make_unique<RpcServer>(o);
    server_rpc_->handle(
        kEcho, [](Request r, Responder responder) { responder.respond("echo:" + r.payload); });
    auto port = server_rpc_->start();
    EXPECT_TRUE(port);
    return "127.0.0.1:" + std::to_string(port ? *port : 0);
  }

  core::Result<std::string> call(std::shared_ptr<TlsContextHolder> h, const std::string& address,
                                 const std::string& payload = "hi") {
    RpcClient::Options o;
    o.backoff_initial = 10ms;
    o.backoff_max = 20ms;
    if (h) o.wrap_stream = make_tls_wrapper(std::move(h));
    RpcClient client(o);
    client.start();
    CallResult result;
    EXPECT_TRUE(client.call(address, kEcho, payload, 10s, result.callback()));
    auto r = result.wait();
    client.stop();
    return r;
  }

  TempDir dir_;
  testing::TestPki pki_;
  testing::CertFiles server_, other_dc_, client_;
  std::unique_ptr<RpcServer> server_rpc_;
};

TEST_F(RpcTlsTest, LoadReportsConsulsErrors) {
  core::TlsListenerConfig c = config(server_);
  c.cert_file = dir_.path() + "/missing.pem";
  auto missing = TlsContext::load(c, "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "Failed to load cert/key pair: open " + dir_.path() +
                                         "/missing.pem: no such file or directory");

  c = config(server_);
  c.key_file = client_.key;  // another certificate's key
  auto mismatch = TlsContext::load(c, "");
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().message,
            "Failed to load cert/key pair: tls: private key does not match public key");

  c = config(server_);
  c.ca_file = dir_.path() + "/no-ca.pem";
  auto no_ca = TlsContext::load(c, "");
  ASSERT_FALSE(no_ca);
  EXPECT_EQ(no_ca.error().message, "Error loading from " + dir_.path() + "/no-ca.pem: open " +
                                       dir_.path() + "/no-ca.pem: no such file or directory");

  c = config(server_);
  c.ca_file.clear();
  c.ca_path = dir_.path() + "/cas";  // every file under it is read
  std::filesystem::create_directories(c.ca_path + "/more");
  std::filesystem::copy_file(pki_.ca_file(), c.ca_path + "/more/ca.pem");
  auto path = TlsContext::load(c, "");
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ((*path)->cert_serial(), "64");  // 100
  EXPECT_TRUE((*path)->can_serve());
}

TEST_F(RpcTlsTest, VerifiedCallsWork) {
  const std::string address = start_server(holder(config(server_)));
  auto r = call(holder(config(client_)), address);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "echo:hi");
  server_rpc_->stop();
}

TEST_F(RpcTlsTest, ServerForAnotherDatacenterIsRefused) {
  const std::string address = start_server(holder(config(other_dc_)));
  auto r = call(holder(config(client_)), address);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("hostname mismatch (want server.dc1.consul, certificate "
                                   "names server.dc2.consul, localhost)"),
            std::string::npos)
      << r.error().message;
  server_rpc_->stop();
}

// A call to another datacenter's server checks that datacenter's name (federation/).
TEST_F(RpcTlsTest, ServerOfAnotherDatacenterIsCheckedByItsName) {
  const std::string address = start_server(holder(config(other_dc_)));
  RpcClient::Options o;
  o.backoff_initial = 10ms;
  o.backoff_max = 20ms;
  std::string want = "server.dc2.consul";
  o.wrap_stream = make_tls_wrapper(holder(config(client_)), [&want, address](const std::string& p) {
    EXPECT_EQ(p, address);
    return want;
  });
  RpcClient client(o);
  client.start();
  CallResult named;
  EXPECT_TRUE(client.call(address, kEcho, "x", 10s, named.callback()));
  auto r = named.wait();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "echo:x");
  client.stop();
  // The same server named as another datacenter's is refused.
  want = "server.dc3.consul";
  RpcClient again(o);
  again.start();
  CallResult wrong;
  EXPECT_TRUE(again.call(address, kEcho, "x", 10s, wrong.callback()));
  auto w = wrong.wait();
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("want server.dc3.consul"), std::string::npos)
      << w.error().message;
  again.stop();
  server_rpc_->stop();
}

TEST_F(RpcTlsTest, PlaintextAndUncertifiedPeersAreRefused) {
  const std::string address = start_server(holder(config(server_)));
  EXPECT_FALSE(call(nullptr, address));  // plaintext
  core::TlsListenerConfig no_cert = config(client_);
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  EXPECT_FALSE(call(holder(no_cert), address));
  EXPECT_GE(server_rpc_->stats().connections_accepted, 2u);
  server_rpc_->stop();
}

TEST_F(RpcTlsTest, WithoutVerifyIncomingBothTlsAndPlaintextAreServed) {
  const std::string address = start_server(holder(config(server_, /*verify_incoming=*/false)));
  auto plain = call(nullptr, address, "plain");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(*plain, "echo:plain");
  auto tls = call(holder(config(client_)), address, "tls");
  ASSERT_TRUE(tls) << tls.error().message;
  EXPECT_EQ(*tls, "echo:tls");
  server_rpc_->stop();
}

TEST_F(RpcTlsTest, ReloadChangesNewConnectionsOnly) {
  auto server_holder = holder(config(server_));
  const std::string address = start_server(server_holder);
  // A client whose connection opens before the reload and stays open.
  RpcClient::Options o;
  o.wrap_stream = make_tls_wrapper(holder(config(client_)));
  RpcClient kept(o);
  kept.start();
  CallResult first;
  ASSERT_TRUE(kept.call(address, kEcho, "1", 10s, first.callback()));
  ASSERT_TRUE(first.wait());

  // The server now presents the dc2 certificate: new verified connections fail...
  server_holder->set(*TlsContext::load(config(other_dc_), ""));
  EXPECT_FALSE(call(holder(config(client_)), address));
  // ...while the established one goes on with the certificate it began with.
  CallResult second;
  ASSERT_TRUE(kept.call(address, kEcho, "2", 10s, second.callback()));
  auto r = second.wait();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "echo:2");
  kept.stop();
  server_rpc_->stop();
}

TEST(RpcTlsSniff, FirstByte) {
  EXPECT_EQ(classify_first_byte(0x16), FirstByte::kTlsHandshake);
  for (int b = 0; b < 256; ++b) {
    if (b == 0x16) continue;
    EXPECT_EQ(classify_first_byte(static_cast<std::uint8_t>(b)), FirstByte::kPlaintext);
  }
}

}  // namespace
}  // namespace pc::rpc
