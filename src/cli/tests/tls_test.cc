// tls ca create and tls cert create: Consul's file names and numbering, texts, exit codes and
// refusals, run in a fresh working directory; the files' contents are checked in depth by
// agent_certs_test, here only that they chain and name what the flags asked for.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/tests/harness.h"
#include "cli/tls/agent_certs.h"

namespace pc::cli {
namespace {

using testing::Harness;

constexpr std::string_view kServerWarning =
    "==> WARNING: Server Certificates grants authority to become a\n"
    "    server and access all state in the cluster including root keys\n"
    "    and all ACL tokens. Do not distribute them to production hosts\n"
    "    that are not server nodes. Store them as securely as CA keys.\n";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool exists(const std::string& path) {
  return std::filesystem::exists(path);
}

unsigned permissions(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

// Each test runs in its own temporary working directory, as the commands write there.
class TlsCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    old_dir_ = std::filesystem::current_path();
    dir_ = (std::filesystem::temp_directory_path() / "pc-cli-tls-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    std::filesystem::current_path(dir_);
  }
  void TearDown() override {
    std::filesystem::current_path(old_dir_);
    std::filesystem::remove_all(dir_);
  }

  // Runs a command line in a fresh harness; returns the exit code, keeps the streams.
  int run(std::vector<std::string> args) {
    Harness h;
    int code = h.run(std::move(args));
    out_ = h.out.str();
    err_ = h.err.str();
    return code;
  }

  std::filesystem::path old_dir_;
  std::string dir_;
  std::string out_;
  std::string err_;
};

TEST_F(TlsCommands, CaCreateSavesBothFilesOnce) {
  ASSERT_EQ(run({"tls", "ca", "create"}), 0) << err_;
  EXPECT_EQ(out_, "==> Saved consul-agent-ca.pem\n==> Saved consul-agent-ca-key.pem\n");
  EXPECT_EQ(err_, "");
  EXPECT_TRUE(read_file("consul-agent-ca.pem").starts_with("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(read_file("consul-agent-ca-key.pem").starts_with("-----BEGIN EC PRIVATE KEY-----"));
  EXPECT_EQ(permissions("consul-agent-ca-key.pem"), 0600u);
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 2);

  // Never over an existing file, whichever of the two exists.
  std::string before = read_file("consul-agent-ca.pem");
  EXPECT_EQ(run({"tls", "ca", "create"}), 1);
  EXPECT_EQ(err_, "consul-agent-ca.pem already exists.\n");
  EXPECT_EQ(out_, "");
  EXPECT_EQ(read_file("consul-agent-ca.pem"), before);
  std::filesystem::remove("consul-agent-ca.pem");
  EXPECT_EQ(run({"tls", "ca", "create"}), 1);
  EXPECT_EQ(err_, "consul-agent-ca-key.pem already exists.\n");
  EXPECT_FALSE(exists("consul-agent-ca.pem"));
}

TEST_F(TlsCommands, CaCreateDomainNamesTheFiles) {
  ASSERT_EQ(run({"tls", "ca", "create", "-domain", "example", "-name-constraint",
                 "-additional-name-constraint", "ui.example.com", "-common-name", "Test CA",
                 "-days", "30"}),
            0)
      << err_;
  EXPECT_EQ(out_, "==> Saved example-agent-ca.pem\n==> Saved example-agent-ca-key.pem\n");
  // The name constraints let the CA sign for the domain only.
  ASSERT_EQ(run({"tls", "cert", "create", "-server", "-domain", "example"}), 0) << err_;
  EXPECT_TRUE(exists("dc1-server-example-0.pem"));
  EXPECT_EQ(run({"tls", "cert", "create", "-server", "-domain", "example", "-additional-dnsname",
                 "other.org"}),
            1);
  EXPECT_EQ(err_, "x509: permitted subtree violation\n");
  EXPECT_FALSE(exists("dc1-server-example-1.pem"));
}

TEST_F(TlsCommands, CertCreateKindsNumbersAndTexts) {
  ASSERT_EQ(run({"tls", "ca", "create"}), 0) << err_;
  const std::string using_ca = "==> Using consul-agent-ca.pem and consul-agent-ca-key.pem\n";

  ASSERT_EQ(run({"tls", "cert", "create", "-server"}), 0) << err_;
  EXPECT_EQ(out_, std::string(kServerWarning) + using_ca +
                      "==> Saved dc1-server-consul-0.pem\n==> Saved dc1-server-consul-0-key.pem\n");
  EXPECT_EQ(err_, "");
  EXPECT_EQ(permissions("dc1-server-consul-0-key.pem"), 0600u);

  // The next free number; a lone key file takes its number too.
  std::ofstream("dc1-server-consul-1-key.pem") << "x";
  ASSERT_EQ(run({"tls", "cert", "create", "-server", "-dc", "dc1"}), 0) << err_;
  EXPECT_TRUE(
      out_.ends_with("==> Saved dc1-server-consul-2.pem\n"
                     "==> Saved dc1-server-consul-2-key.pem\n"))
      << out_;

  ASSERT_EQ(run({"tls", "cert", "create", "-client", "-dc", "east"}), 0) << err_;
  EXPECT_EQ(
      out_,
      using_ca + "==> Saved east-client-consul-0.pem\n==> Saved east-client-consul-0-key.pem\n");
  ASSERT_EQ(run({"tls", "cert", "create", "-cli"}), 0) << err_;
  EXPECT_EQ(out_,
            using_ca + "==> Saved dc1-cli-consul-0.pem\n==> Saved dc1-cli-consul-0-key.pem\n");

  std::string ca = read_file("consul-agent-ca.pem");
  EXPECT_TRUE(tls::verify_cert(ca, read_file("dc1-server-consul-0.pem"), "server.dc1.consul"));
  EXPECT_TRUE(tls::verify_cert(ca, read_file("east-client-consul-0.pem"), "client.east.consul"));
  EXPECT_TRUE(tls::verify_cert(ca, read_file("dc1-cli-consul-0.pem"), "cli.dc1.consul"));
  EXPECT_FALSE(tls::verify_cert(ca, read_file("east-client-consul-0.pem"), "server.east.consul"));
}

TEST_F(TlsCommands, CertCreateNodeAndAdditionalNames) {
  ASSERT_EQ(run({"tls", "ca", "create"}), 0) << err_;
  ASSERT_EQ(run({"tls", "cert", "create", "-server", "-node", "web1", "-additional-dnsname",
                 " extra.example ", "-additional-ipaddress", "10.0.0.5"}),
            0)
      << err_;
  std::string ca = read_file("consul-agent-ca.pem");
  std::string cert = read_file("dc1-server-consul-0.pem");
  for (const char* name : {"web1.server.dc1.consul", "extra.example", "server.dc1.consul",
                           "localhost", "10.0.0.5", "127.0.0.1"}) {
    EXPECT_TRUE(tls::verify_cert(ca, cert, name)) << name;
  }
}

TEST_F(TlsCommands, CertCreateRefusals) {
  EXPECT_EQ(run({"tls", "cert", "create"}), 1);
  EXPECT_EQ(err_, "Please provide either -server, -client, or -cli\n");
  EXPECT_EQ(run({"tls", "cert", "create", "-server", "-client"}), 1);
  EXPECT_EQ(err_, "Please provide either -server, -client, or -cli\n");
  EXPECT_EQ(run({"tls", "cert", "create", "-client", "-node", "n1"}), 1);
  EXPECT_EQ(err_, "-node requires -server\n");
  EXPECT_EQ(run({"tls", "cert", "create", "-server", "-ca", ""}), 1);
  EXPECT_EQ(err_, "Please provide the ca\n");
  EXPECT_EQ(run({"tls", "cert", "create", "-server", "-key", ""}), 1);
  EXPECT_EQ(err_, "Please provide the key\n");
  EXPECT_EQ(run({"tls", "cert", "create", "-server"}), 1);
  EXPECT_EQ(err_, "Error reading CA: open consul-agent-ca.pem: no such file or directory\n");
  EXPECT_EQ(out_, "");
  std::ofstream("consul-agent-ca.pem") << "not a certificate";
  EXPECT_EQ(run({"tls", "cert", "create", "-client"}), 1);
  EXPECT_EQ(err_,
            "Error reading CA key: open consul-agent-ca-key.pem: no such file or directory\n");
  std::ofstream("consul-agent-ca-key.pem") << "not a key";
  EXPECT_EQ(run({"tls", "cert", "create", "-client"}), 1);
  EXPECT_EQ(err_, "no PEM-encoded data found\n");
  EXPECT_EQ(out_, "==> Using consul-agent-ca.pem and consul-agent-ca-key.pem\n");
  EXPECT_FALSE(exists("dc1-client-consul-0.pem"));
}

TEST_F(TlsCommands, HelpAndTable) {
  EXPECT_EQ(run({"tls"}), 1);
  EXPECT_NE(err_.find("Subcommands:\n    ca      Helpers for CAs\n    cert    Helpers for "
                      "certificates"),
            std::string::npos)
      << err_;
  EXPECT_EQ(run({"tls", "cert", "create", "-h"}), 0);
  EXPECT_NE(err_.find("-additional-ipaddress=<value>"), std::string::npos) << err_;
  EXPECT_EQ(run({}), kExitUnknownCommand);
  EXPECT_NE(err_.find("    tls            Builtin helpers for creating CAs and certificates\n"),
            std::string::npos)
      << err_;
}

}  // namespace
}  // namespace pc::cli
