// cli/tls: the CA and the server, client and cli certificates read back with OpenSSL's own
// parsers (extensions, names, usages, validity, key ids) and verified against their CA;
// the `openssl` program, when installed, checks the same files from outside.
#include "cli/tls/agent_certs.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

namespace pc::cli::tls {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

constexpr long kSecondsPerDay = 86400;

X509Ptr parse_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

KeyPtr parse_key(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  KeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return key;
}

std::string common_name(X509* cert) {
  std::array<char, 256> buf{};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf.data(),
                            static_cast<int>(buf.size()));
  return buf.data();
}

// Subject alternative names as "DNS:x", "IP:1.2.3.4", "URI:x", in certificate order (an IP
// address as its bytes in decimal, joined by dots, whatever its family).
std::vector<std::string> alt_names(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS || name->type == GEN_URI) {
      const ASN1_IA5STRING* s = name->d.ia5;
      out.push_back(std::string(name->type == GEN_DNS ? "DNS:" : "URI:") +
                    std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                static_cast<std::size_t>(ASN1_STRING_length(s))));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      std::string addr;
      for (int b = 0; b < ASN1_STRING_length(ip); ++b) {
        addr += (b == 0 ? "" : ".") + std::to_string(ASN1_STRING_get0_data(ip)[b]);
      }
      out.push_back("IP:" + addr);
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

bool is_critical(X509* cert, int nid) {
  int at = X509_get_ext_by_NID(cert, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, at)) == 1;
}

bool has_extension(X509* cert, int nid) {
  return X509_get_ext_by_NID(cert, nid, -1) >= 0;
}

long validity_seconds(X509* cert) {
  int days = 0;
  int seconds = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)),
            1);
  return days * kSecondsPerDay + seconds;
}

// notBefore is "now": within a minute of the test's clock.
void expect_starts_now(X509* cert) {
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notBefore(cert)), 1);
  EXPECT_EQ(days, 0);
  EXPECT_LE(std::abs(seconds), 60);
}

std::string octets(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string sha256_of_public_key(X509* cert) {
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  EVP_Digest(der, static_cast<std::size_t>(size), digest.data(), &digest_size, EVP_sha256(),
             nullptr);
  OPENSSL_free(der);
  return std::string(reinterpret_cast<const char*>(digest.data()), digest_size);
}

void expect_p256_sec1_key(const std::string& pem) {
  EXPECT_TRUE(pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n")) << pem;
  KeyPtr key = parse_key(pem);
  ASSERT_TRUE(key);
  std::array<char, 64> group{};
  std::size_t len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &len), 1);
  EXPECT_STREQ(group.data(), "prime256v1");
}

PemPair make_ca(const CaOptions& options = {}) {
  core::Result<PemPair> ca = generate_ca(options);
  EXPECT_TRUE(ca) << ca.error().message;
  return ca ? *ca : PemPair{};
}

CertOptions server_options() {
  CertOptions o;
  o.common_name = "server.dc1.consul";
  o.dns_names = {"server.dc1.consul", "localhost"};
  o.ip_addresses = {"127.0.0.1"};
  o.ext_key_usages = {ExtKeyUsage::kServerAuth, ExtKeyUsage::kClientAuth};
  return o;
}

TEST(AgentCerts, CaIsSelfSignedP256WithConsulsExtensions) {
  PemPair ca = make_ca();
  expect_p256_sec1_key(ca.private_key);
  X509Ptr cert = parse_cert(ca.certificate);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);

  // "Consul Agent CA <serial>", the serial below 2^128.
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr);
  char* serial_text = BN_bn2dec(serial);
  EXPECT_EQ(common_name(cert.get()), std::string("Consul Agent CA ") + serial_text);
  EXPECT_LE(BN_num_bits(serial), 128);
  OPENSSL_free(serial_text);
  BN_free(serial);

  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_TRUE(is_critical(cert.get(), NID_basic_constraints));
  EXPECT_TRUE(is_critical(cert.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert.get()), KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  EXPECT_FALSE(has_extension(cert.get(), NID_ext_key_usage));
  EXPECT_FALSE(has_extension(cert.get(), NID_name_constraints));
  EXPECT_FALSE(has_extension(cert.get(), NID_subject_alt_name));
  // Both key ids are the SHA-256 of the public key.
  std::string id = octets(X509_get0_subject_key_id(cert.get()));
  EXPECT_EQ(id, sha256_of_public_key(cert.get()));
  EXPECT_EQ(octets(X509_get0_authority_key_id(cert.get())), id);
  EXPECT_EQ(validity_seconds(cert.get()), 1825 * kSecondsPerDay);
  expect_starts_now(cert.get());
  // Two CAs never share a serial number or a key.
  PemPair other = make_ca();
  EXPECT_NE(other.private_key, ca.private_key);
  X509Ptr other_cert = parse_cert(other.certificate);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(cert.get()),
                             X509_get0_serialNumber(other_cert.get())),
            0);
}

TEST(AgentCerts, CaOptionsNameDaysAndUri) {
  CaOptions options;
  options.common_name = "Example Root";
  options.days = 10;
  options.uri = "spiffe://abc.consul";
  X509Ptr cert = parse_cert(make_ca(options).certificate);
  ASSERT_TRUE(cert);
  EXPECT_EQ(common_name(cert.get()), "Example Root");
  EXPECT_EQ(validity_seconds(cert.get()), 10 * kSecondsPerDay);
  EXPECT_EQ(alt_names(cert.get()), std::vector<std::string>{"URI:spiffe://abc.consul"});
}

TEST(AgentCerts, CaOfZeroDaysLastsAYear) {
  CaOptions options;
  options.days = 0;
  X509Ptr cert = parse_cert(make_ca(options).certificate);
  ASSERT_TRUE(cert);
  EXPECT_EQ(validity_seconds(cert.get()), 365 * kSecondsPerDay);
}

TEST(AgentCerts, ServerCertificate) {
  PemPair ca = make_ca();
  core::Result<PemPair> made = generate_cert(server_options(), ca.certificate, ca.private_key);
  ASSERT_TRUE(made) << made.error().message;
  expect_p256_sec1_key(made->private_key);
  EXPECT_NE(made->private_key, ca.private_key);
  X509Ptr cert = parse_cert(made->certificate);
  X509Ptr ca_cert = parse_cert(ca.certificate);
  ASSERT_TRUE(cert);
  EXPECT_EQ(common_name(cert.get()), "server.dc1.consul");
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca_cert.get())),
            0);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca_cert.get())), 1);
  EXPECT_EQ(alt_names(cert.get()),
            (std::vector<std::string>{"DNS:server.dc1.consul", "DNS:localhost", "IP:127.0.0.1"}));
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_TRUE(is_critical(cert.get(), NID_basic_constraints));
  EXPECT_TRUE(is_critical(cert.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert.get()), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
  EXPECT_FALSE(is_critical(cert.get(), NID_ext_key_usage));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), XKU_SSL_SERVER | XKU_SSL_CLIENT);
  EXPECT_EQ(octets(X509_get0_subject_key_id(cert.get())), sha256_of_public_key(cert.get()));
  EXPECT_EQ(octets(X509_get0_authority_key_id(cert.get())),
            octets(X509_get0_subject_key_id(ca_cert.get())));
  EXPECT_EQ(validity_seconds(cert.get()), 365 * kSecondsPerDay);
  expect_starts_now(cert.get());

  EXPECT_TRUE(verify_cert(ca.certificate, made->certificate, "server.dc1.consul"));
  EXPECT_TRUE(verify_cert(ca.certificate, made->certificate, "localhost"));
  core::Status wrong = verify_cert(ca.certificate, made->certificate, "server.dc2.consul");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message, "x509: hostname mismatch");
  // Another CA did not sign it.
  EXPECT_FALSE(verify_cert(make_ca().certificate, made->certificate, "server.dc1.consul"));
}

TEST(AgentCerts, CliCertificateHasNoExtendedKeyUsage) {
  PemPair ca = make_ca();
  CertOptions o;
  o.common_name = "cli.dc1.consul";
  o.dns_names = {"cli.dc1.consul", "localhost"};
  o.days = 7;
  core::Result<PemPair> made = generate_cert(o, ca.certificate, ca.private_key);
  ASSERT_TRUE(made) << made.error().message;
  X509Ptr cert = parse_cert(made->certificate);
  EXPECT_FALSE(has_extension(cert.get(), NID_ext_key_usage));
  EXPECT_EQ(alt_names(cert.get()),
            (std::vector<std::string>{"DNS:cli.dc1.consul", "DNS:localhost"}));
  EXPECT_EQ(validity_seconds(cert.get()), 7 * kSecondsPerDay);
  EXPECT_TRUE(verify_cert(ca.certificate, made->certificate, "cli.dc1.consul"));
}

TEST(AgentCerts, ClientUsagesInConsulsOrderAndIpv6) {
  PemPair ca = make_ca();
  CertOptions o;
  o.common_name = "client.dc1.consul";
  o.dns_names = {"client.dc1.consul"};
  o.ip_addresses = {"10.1.2.3", "::1"};
  o.ext_key_usages = {ExtKeyUsage::kClientAuth, ExtKeyUsage::kServerAuth};
  core::Result<PemPair> made = generate_cert(o, ca.certificate, ca.private_key);
  ASSERT_TRUE(made) << made.error().message;
  X509Ptr cert = parse_cert(made->certificate);
  auto* usages = static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(cert.get(), NID_ext_key_usage, nullptr, nullptr));
  ASSERT_EQ(sk_ASN1_OBJECT_num(usages), 2);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(usages, 0)), NID_client_auth);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(usages, 1)), NID_server_auth);
  EXTENDED_KEY_USAGE_free(usages);
  std::vector<std::string> names = alt_names(cert.get());
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[1], "IP:10.1.2.3");
  EXPECT_EQ(names[2], "IP:0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1");  // ::1
}

TEST(AgentCerts, NameConstraintsLimitWhatTheCaSigns) {
  CaOptions options;
  options.permitted_dns_domains = {"consul", "localhost"};
  PemPair ca = make_ca(options);
  X509Ptr ca_cert = parse_cert(ca.certificate);
  EXPECT_TRUE(is_critical(ca_cert.get(), NID_name_constraints));

  core::Result<PemPair> inside = generate_cert(server_options(), ca.certificate, ca.private_key);
  ASSERT_TRUE(inside) << inside.error().message;
  EXPECT_TRUE(verify_cert(ca.certificate, inside->certificate, "server.dc1.consul"));

  CertOptions outside = server_options();
  outside.dns_names.push_back("example.com");
  core::Result<PemPair> made = generate_cert(outside, ca.certificate, ca.private_key);
  ASSERT_TRUE(made) << made.error().message;
  core::Status s = verify_cert(ca.certificate, made->certificate, "server.dc1.consul");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "x509: permitted subtree violation");
}

TEST(AgentCerts, ErrorsInConsulsWords) {
  PemPair ca = make_ca();
  PemPair other = make_ca();
  auto error_of = [](const core::Result<PemPair>& r) {
    return r ? std::string("(no error)") : r.error().message;
  };
  EXPECT_EQ(error_of(generate_cert(server_options(), ca.certificate, "not pem")),
            "no PEM-encoded data found");
  EXPECT_EQ(error_of(generate_cert(server_options(), ca.certificate, ca.certificate)),
            "unknown PEM block type for signing key: CERTIFICATE");
  EXPECT_EQ(error_of(generate_cert(server_options(), "", ca.private_key)),
            "failed to parse CA: no PEM-encoded data found");
  EXPECT_EQ(error_of(generate_cert(server_options(), ca.private_key, ca.private_key)),
            "failed to parse CA: first PEM-block should be CERTIFICATE type");
  EXPECT_EQ(error_of(generate_cert(server_options(), ca.certificate, other.private_key)),
            "failed to create certificate: x509: provided PrivateKey doesn't match parent's "
            "PublicKey");
  CertOptions bad_ip = server_options();
  bad_ip.ip_addresses.push_back("300.1.1.1");
  EXPECT_EQ(error_of(generate_cert(bad_ip, ca.certificate, ca.private_key)),
            "failed to create certificate: invalid IP address: 300.1.1.1");
  EXPECT_TRUE(check_ca_files(ca.certificate, ca.private_key));
}

TEST(AgentCerts, AcceptsPkcs8CaKey) {
  PemPair ca = make_ca();
  KeyPtr key = parse_key(ca.private_key);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pkcs8(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  ASSERT_TRUE(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
  core::Result<PemPair> made = generate_cert(server_options(), ca.certificate, pkcs8);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(verify_cert(ca.certificate, made->certificate, "server.dc1.consul"));
}

// An RSA CA made by other tools, without a subject key id: the leaf is signed with SHA-256
// and names the CA's key by its SHA-256.
TEST(AgentCerts, SignsWithAnRsaCaThatHasNoKeyId) {
  KeyPtr rsa(EVP_RSA_gen(2048));
  ASSERT_TRUE(rsa);
  X509Ptr ca(X509_new());
  X509_set_version(ca.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(ca.get()), 1);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(ca.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("RSA CA"), -1, -1, 0);
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  X509_gmtime_adj(X509_getm_notBefore(ca.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(ca.get()), kSecondsPerDay);
  X509_set_pubkey(ca.get(), rsa.get());
  X509_EXTENSION* bc =
      X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE");
  X509_add_ext(ca.get(), bc, -1);
  X509_EXTENSION_free(bc);
  ASSERT_GT(X509_sign(ca.get(), rsa.get(), EVP_sha256()), 0);
  ASSERT_EQ(X509_get0_subject_key_id(ca.get()), nullptr);

  auto to_pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return out;
  };
  std::string ca_pem = to_pem([&](BIO* b) { PEM_write_bio_X509(b, ca.get()); });
  std::string key_pem = to_pem([&](BIO* b) {
    PEM_write_bio_PrivateKey_traditional(b, rsa.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  ASSERT_TRUE(key_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));

  core::Result<PemPair> made = generate_cert(server_options(), ca_pem, key_pem);
  ASSERT_TRUE(made) << made.error().message;
  X509Ptr cert = parse_cert(made->certificate);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_sha256WithRSAEncryption);
  EXPECT_EQ(octets(X509_get0_authority_key_id(cert.get())), sha256_of_public_key(ca.get()));
  EXPECT_TRUE(verify_cert(ca_pem, made->certificate, "server.dc1.consul"));
}

// The `openssl` program agrees: the chain verifies for the server name and purpose, and its
// SAN listing is Consul's.
TEST(AgentCerts, OpensslProgramVerifies) {
  if (std::system("openssl version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl program";
  std::string dir = (std::filesystem::temp_directory_path() / "pc-tls-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  PemPair ca = make_ca();
  core::Result<PemPair> server = generate_cert(server_options(), ca.certificate, ca.private_key);
  ASSERT_TRUE(server);
  std::ofstream(dir + "/ca.pem") << ca.certificate;
  std::ofstream(dir + "/server.pem") << server->certificate;
  auto run = [](const std::string& command) {
    std::string out;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    std::array<char, 512> buf{};
    while (pipe != nullptr && std::fgets(buf.data(), static_cast<int>(buf.size()), pipe)) {
      out += buf.data();
    }
    int status = pipe != nullptr ? pclose(pipe) : -1;
    return std::make_pair(status, out);
  };
  auto [verify_status, verify_out] =
      run("openssl verify -purpose sslserver -verify_hostname server.dc1.consul -CAfile " + dir +
          "/ca.pem " + dir + "/server.pem");
  EXPECT_EQ(verify_status, 0) << verify_out;
  EXPECT_EQ(verify_out, dir + "/server.pem: OK\n");
  auto [san_status, san_out] =
      run("openssl x509 -noout -ext subjectAltName -in " + dir + "/server.pem");
  EXPECT_EQ(san_status, 0) << san_out;
  EXPECT_EQ(san_out,
            "X509v3 Subject Alternative Name: \n"
            "    DNS:server.dc1.consul, DNS:localhost, IP Address:127.0.0.1\n");
  auto [bad_status, bad_out] = run("openssl verify -verify_hostname server.dc2.consul -CAfile " +
                                   dir + "/ca.pem " + dir + "/server.pem");
  EXPECT_NE(bad_status, 0) << bad_out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pc::cli::tls
