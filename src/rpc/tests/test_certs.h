#pragma once
// Certificates for the TLS tests, made in memory with OpenSSL and written as PEM files: a CA
// and leaves signed by it, each with the DNS names asked for (EC P-256 keys, valid for a day).
// Test-only: failures abort the test binary.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace pc::rpc::testing {

struct CertFiles {
  std::string cert, key;
};

class TestPki {
 public:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {
    ca_key_ = EVP_EC_gen("P-256");
    ca_ = make_cert(ca_key_, "Test CA", {}, nullptr, nullptr, /*ca=*/true, 1);
    ca_file_ = write_cert(ca_, "ca.pem");
  }
  ~TestPki() {
    X509_free(ca_);
    EVP_PKEY_free(ca_key_);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& ca_file() const { return ca_file_; }

  // A leaf for `names` (the first is also the common name), written as <file>.pem and
  // <file>-key.pem.
  CertFiles leaf(const std::string& file, const std::vector<std::string>& names, long serial) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = make_cert(key, names.front(), names, ca_, ca_key_, /*ca=*/false, serial);
    CertFiles out{write_cert(cert, file + ".pem"), write_key(key, file + "-key.pem")};
    X509_free(cert);
    EVP_PKEY_free(key);
    return out;
  }

 private:
  static void check(bool ok) {
    if (!ok) std::abort();
  }

  static void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }

  static X509* make_cert(EVP_PKEY* key, const std::string& cn,
                         const std::vector<std::string>& names, X509* issuer, EVP_PKEY* issuer_key,
                         bool ca, long serial) {
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
    if (ca) {
      add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
      add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
      std::string san;
      for (const std::string& n : names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
      add_ext(cert, issuer, NID_subject_alt_name, san);
      add_ext(cert, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    check(X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0);
    return cert;
  }

  std::string write_cert(X509* cert, const std::string& file) {
    std::string path = (std::filesystem::path(dir_) / file).string();
    FILE* f = std::fopen(path.c_str(), "wb");
    check(f != nullptr && PEM_write_X509(f, cert) == 1);
    std::fclose(f);
    return path;
  }

  std::string write_key(EVP_PKEY* key, const std::string& file) {
    std::string path = (std::filesystem::path(dir_) / file).string();
    FILE* f = std::fopen(path.c_str(), "wb");
    check(f != nullptr && PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
    std::fclose(f);
    return path;
  }

  std::string dir_;
  EVP_PKEY* ca_key_ = nullptr;
  X509* ca_ = nullptr;
  std::string ca_file_;
};

}  // namespace pc::rpc::testing
