#include "cli/tls/agent_certs.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <array>
#include <memory>
#include <optional>

namespace pc::cli::tls {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using OctetsPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using ConstraintsPtr = std::unique_ptr<NAME_CONSTRAINTS, Deleter<NAME_CONSTRAINTS_free>>;
using AkidPtr = std::unique_ptr<AUTHORITY_KEYID, Deleter<AUTHORITY_KEYID_free>>;

// Consul's serial numbers are uniform in [0, 2^128).
constexpr std::size_t kSerialBytes = 16;
// Consul's tlsutil.GenerateCA treats 0 days as a year.
constexpr int kCaDaysWhenZero = 365;
// Consul's key type: ECDSA on P-256.
constexpr const char* kCurve = "P-256";

core::Error openssl_error(std::string_view what) {
  std::string message(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    message += ": ";
    message += text.data();
  }
  ERR_clear_error();
  return core::make_error(core::Code::kInternal, std::move(message));
}

core::Error invalid(std::string message) {
  return core::make_error(core::Code::kInvalidArgument, std::move(message));
}

BioPtr memory_bio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

// The type of the first PEM block ("CERTIFICATE"), as Go's pem.Decode finds it; nullopt
// when there is none.
std::optional<std::string> first_pem_type(std::string_view text) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kDashes = "-----";
  std::size_t start = text.find(kBegin);
  if (start == std::string_view::npos) return std::nullopt;
  start += kBegin.size();
  std::size_t end = text.find(kDashes, start);
  std::size_t line_end = text.find('\n', start);
  if (end == std::string_view::npos || (line_end != std::string_view::npos && end > line_end)) {
    return std::nullopt;
  }
  return std::string(text.substr(start, end - start));
}

// Consul's ParseSigner: EC, RSA or PKCS#8 private keys.
core::Result<KeyPtr> parse_signer(std::string_view pem) {
  std::optional<std::string> type = first_pem_type(pem);
  if (!type) return invalid("no PEM-encoded data found");
  if (*type != "EC PRIVATE KEY" && *type != "RSA PRIVATE KEY" && *type != "PRIVATE KEY") {
    return invalid("unknown PEM block type for signing key: " + *type);
  }
  BioPtr bio = memory_bio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return openssl_error("error parsing signing key");
  return key;
}

core::Result<X509Ptr> parse_certificate(std::string_view pem) {
  std::optional<std::string> type = first_pem_type(pem);
  if (!type) return invalid("no PEM-encoded data found");
  if (*type != "CERTIFICATE") return invalid("first PEM-block should be CERTIFICATE type");
  BioPtr bio = memory_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return invalid("x509: malformed certificate");
  }
  return cert;
}

core::Result<KeyPtr> new_private_key() {
  KeyPtr key(EVP_EC_gen(kCurve));
  if (!key) return openssl_error("error generating private key");
  return key;
}

// SEC1 "EC PRIVATE KEY" PEM, as Go's x509.MarshalECPrivateKey and pem.Encode write it.
core::Result<std::string> private_key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    return openssl_error("error encoding private key");
  }
  return bio_text(bio.get());
}

core::Result<std::string> certificate_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return openssl_error("error encoding certificate");
  return bio_text(bio.get());
}

// Consul's keyID: SHA-256 of the DER SubjectPublicKeyInfo (RFC 5280 suggests SHA-1 of the
// key bits; any unique value will do as long as issuer and subject ids match).
core::Result<OctetsPtr> key_id(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int der_size = i2d_PUBKEY(key, &der);
  if (der_size <= 0) return openssl_error("error encoding public key");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  int hashed = EVP_Digest(der, static_cast<std::size_t>(der_size), digest.data(), &digest_size,
                          EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (hashed != 1) return openssl_error("error hashing public key");
  OctetsPtr id(ASN1_OCTET_STRING_new());
  if (!id || ASN1_OCTET_STRING_set(id.get(), digest.data(), static_cast<int>(digest_size)) != 1) {
    return openssl_error("error building key id");
  }
  return id;
}

core::Result<BignumPtr> random_serial() {
  std::array<unsigned char, kSerialBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return openssl_error("error generating serial number");
  }
  BignumPtr serial(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!serial) return openssl_error("error generating serial number");
  return serial;
}

std::string decimal(const BIGNUM* n) {
  char* text = BN_bn2dec(n);
  std::string out = text != nullptr ? text : "";
  OPENSSL_free(text);
  return out;
}

// An extension from OpenSSL's configuration syntax, for fixed values only (never user text).
core::Status add_conf_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return openssl_error("error adding extension");
  return core::ok();
}

core::Status add_key_ids(X509* cert, EVP_PKEY* subject_key, const ASN1_OCTET_STRING* issuer_id) {
  core::Result<OctetsPtr> id = key_id(subject_key);
  if (!id) return id.error();
  if (X509_add1_ext_i2d(cert, NID_subject_key_identifier, id->get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return openssl_error("error adding subject key id");
  }
  AkidPtr akid(AUTHORITY_KEYID_new());
  // A self-signed CA names its own key (Go copies the template's AuthorityKeyId).
  akid->keyid = ASN1_OCTET_STRING_dup(issuer_id != nullptr ? issuer_id : id->get());
  if (akid->keyid == nullptr || X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid.get(), 0,
                                                  X509V3_ADD_DEFAULT) != 1) {
    return openssl_error("error adding authority key id");
  }
  return core::ok();
}

bool is_ia5(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) > 0x7f) return false;
  }
  return true;
}

core::Status push_string_name(GENERAL_NAMES* names, int type, std::string_view value) {
  if (!is_ia5(value)) {
    return invalid("x509: \"" + std::string(value) + "\" cannot be encoded as an IA5String");
  }
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (name == nullptr || text == nullptr ||
      ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return openssl_error("error building subject alternative name");
  }
  GENERAL_NAME_set0_value(name, type, text);
  if (sk_GENERAL_NAME_push(names, name) == 0) {
    GENERAL_NAME_free(name);
    return openssl_error("error building subject alternative name");
  }
  return core::ok();
}

core::Status push_ip_name(GENERAL_NAMES* names, const std::string& address) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(address.c_str());
  if (ip == nullptr) {
    ERR_clear_error();
    return invalid("invalid IP address: " + address);
  }
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) {
    ASN1_OCTET_STRING_free(ip);
    return openssl_error("error building subject alternative name");
  }
  GENERAL_NAME_set0_value(name, GEN_IPADD, ip);
  if (sk_GENERAL_NAME_push(names, name) == 0) {
    GENERAL_NAME_free(name);
    return openssl_error("error building subject alternative name");
  }
  return core::ok();
}

// Subject alternative names in Go's order: DNS names, then IP addresses, then URIs.
core::Status add_alt_names(X509* cert, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses, std::string_view uri) {
  if (dns_names.empty() && ip_addresses.empty() && uri.empty()) return core::ok();
  NamesPtr names(GENERAL_NAMES_new());
  if (!names) return openssl_error("error building subject alternative names");
  for (const std::string& dns : dns_names) {
    if (core::Status s = push_string_name(names.get(), GEN_DNS, dns); !s) return s;
  }
  for (const std::string& ip : ip_addresses) {
    if (core::Status s = push_ip_name(names.get(), ip); !s) return s;
  }
  if (!uri.empty()) {
    if (core::Status s = push_string_name(names.get(), GEN_URI, uri); !s) return s;
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return openssl_error("error adding subject alternative names");
  }
  return core::ok();
}

// A critical name constraints extension with permitted DNS subtrees, as Go writes
// PermittedDNSDomains with PermittedDNSDomainsCritical.
core::Status add_name_constraints(X509* cert, const std::vector<std::string>& domains) {
  if (domains.empty()) return core::ok();
  ConstraintsPtr constraints(NAME_CONSTRAINTS_new());
  if (!constraints) return openssl_error("error building name constraints");
  constraints->permittedSubtrees = sk_GENERAL_SUBTREE_new_null();
  if (constraints->permittedSubtrees == nullptr) {
    return openssl_error("error building name constraints");
  }
  for (const std::string& domain : domains) {
    NamesPtr one(GENERAL_NAMES_new());
    if (!one) return openssl_error("error building name constraints");
    if (core::Status s = push_string_name(one.get(), GEN_DNS, domain); !s) return s;
    GENERAL_SUBTREE* subtree = GENERAL_SUBTREE_new();
    if (subtree == nullptr) return openssl_error("error building name constraints");
    // GENERAL_SUBTREE_new() allocates an empty base; ours replaces it.
    GENERAL_NAME_free(subtree->base);
    subtree->base = sk_GENERAL_NAME_pop(one.get());
    if (sk_GENERAL_SUBTREE_push(constraints->permittedSubtrees, subtree) == 0) {
      GENERAL_SUBTREE_free(subtree);
      return openssl_error("error building name constraints");
    }
  }
  if (X509_add1_ext_i2d(cert, NID_name_constraints, constraints.get(), 1, X509V3_ADD_DEFAULT) !=
      1) {
    return openssl_error("error adding name constraints");
  }
  return core::ok();
}

// Version 3, serial, subject, issuer, validity from now for `days`, public key.
core::Status fill_basics(X509* cert, const BIGNUM* serial, std::string_view common_name,
                         X509_NAME* issuer, EVP_PKEY* subject_key, int days) {
  X509_NAME* subject = X509_get_subject_name(cert);
  ASN1_INTEGER* serial_field = X509_get_serialNumber(cert);
  if (X509_set_version(cert, X509_VERSION_3) != 1 ||
      BN_to_ASN1_INTEGER(serial, serial_field) == nullptr ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_set_issuer_name(cert, issuer != nullptr ? issuer : subject) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert), 0) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, nullptr) == nullptr ||
      X509_set_pubkey(cert, subject_key) != 1) {
    return openssl_error("error building certificate");
  }
  return core::ok();
}

// Go picks the hash by the signing key: SHA-256 for P-256 and RSA, larger for larger curves.
const EVP_MD* signature_digest(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits > 384) return EVP_sha512();
    if (bits > 256) return EVP_sha384();
  }
  return EVP_sha256();
}

core::Status sign(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, signature_digest(key)) <= 0) {
    return openssl_error("error signing certificate");
  }
  return core::ok();
}

struct LoadedCa {
  X509Ptr certificate;
  KeyPtr key;
};

// The CA files in the order Consul reads them: the key (ParseSigner), the certificate
// (GenerateCert's parseCert), then whether they belong together (x509.CreateCertificate).
core::Result<LoadedCa> load_ca(std::string_view ca_pem, std::string_view ca_key_pem) {
  core::Result<KeyPtr> key = parse_signer(ca_key_pem);
  if (!key) return key.error();
  core::Result<X509Ptr> cert = parse_certificate(ca_pem);
  if (!cert) return cert.error().with_context("failed to parse CA");
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return invalid(
        "failed to create certificate: x509: provided PrivateKey doesn't match parent's "
        "PublicKey");
  }
  return LoadedCa{std::move(*cert), std::move(*key)};
}

}  // namespace

core::Result<PemPair> generate_ca(const CaOptions& options) {
  core::Result<KeyPtr> key = new_private_key();
  if (!key) return key.error();
  core::Result<BignumPtr> serial = random_serial();
  if (!serial) return serial.error();
  std::string name = options.common_name;
  if (name.empty()) name = "Consul Agent CA " + decimal(serial->get());
  const int days = options.days == 0 ? kCaDaysWhenZero : options.days;

  X509Ptr cert(X509_new());
  if (!cert) return openssl_error("error generating CA certificate");
  for (core::Status s : {
           fill_basics(cert.get(), serial->get(), name, nullptr, key->get(), days),
           add_conf_extension(cert.get(), cert.get(), NID_key_usage,
                              "critical,digitalSignature,keyCertSign,cRLSign"),
           add_conf_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"),
           add_key_ids(cert.get(), key->get(), nullptr),
           add_alt_names(cert.get(), {}, {}, options.uri),
           add_name_constraints(cert.get(), options.permitted_dns_domains),
           sign(cert.get(), key->get()),
       }) {
    if (!s) return s.error().with_context("error generating CA certificate");
  }
  core::Result<std::string> cert_text = certificate_pem(cert.get());
  if (!cert_text) return cert_text.error();
  core::Result<std::string> key_text = private_key_pem(key->get());
  if (!key_text) return key_text.error();
  return PemPair{std::move(*cert_text), std::move(*key_text)};
}

core::Status check_ca_files(std::string_view ca_pem, std::string_view ca_key_pem) {
  core::Result<LoadedCa> ca = load_ca(ca_pem, ca_key_pem);
  if (!ca) return ca.error();
  return core::ok();
}

core::Result<PemPair> generate_cert(const CertOptions& options, std::string_view ca_pem,
                                    std::string_view ca_key_pem) {
  core::Result<LoadedCa> loaded = load_ca(ca_pem, ca_key_pem);
  if (!loaded) return loaded.error();
  X509Ptr& ca = loaded->certificate;
  KeyPtr& signer = loaded->key;
  core::Result<KeyPtr> key = new_private_key();
  if (!key) return key.error().with_context("failed to generate private key");
  core::Result<BignumPtr> serial = random_serial();
  if (!serial) return serial.error();

  std::string usages;
  for (ExtKeyUsage usage : options.ext_key_usages) {
    usages += usages.empty() ? "" : ",";
    usages += usage == ExtKeyUsage::kServerAuth ? "serverAuth" : "clientAuth";
  }
  const ASN1_OCTET_STRING* ca_id = X509_get0_subject_key_id(ca.get());
  OctetsPtr computed_ca_id;
  if (ca_id == nullptr) {
    // A CA made elsewhere may lack a subject key id (Go would then write no authority key
    // id); naming its key as ours are named keeps chains easy to follow.
    core::Result<OctetsPtr> id = key_id(X509_get0_pubkey(ca.get()));
    if (!id) return id.error();
    computed_ca_id = std::move(*id);
    ca_id = computed_ca_id.get();
  }

  X509Ptr cert(X509_new());
  if (!cert) return openssl_error("failed to create certificate");
  for (core::Status s : {
           fill_basics(cert.get(), serial->get(), options.common_name,
                       X509_get_subject_name(ca.get()), key->get(), options.days),
           add_conf_extension(cert.get(), ca.get(), NID_key_usage,
                              "critical,digitalSignature,keyEncipherment"),
           usages.empty()
               ? core::ok()
               : add_conf_extension(cert.get(), ca.get(), NID_ext_key_usage, usages.c_str()),
           add_conf_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE"),
           add_key_ids(cert.get(), key->get(), ca_id),
           add_alt_names(cert.get(), options.dns_names, options.ip_addresses, {}),
           sign(cert.get(), signer.get()),
       }) {
    if (!s) return s.error().with_context("failed to create certificate");
  }
  core::Result<std::string> cert_text = certificate_pem(cert.get());
  if (!cert_text) return cert_text.error();
  core::Result<std::string> key_text = private_key_pem(key->get());
  if (!key_text) return key_text.error();
  return PemPair{std::move(*cert_text), std::move(*key_text)};
}

core::Status verify_cert(std::string_view ca_pem, std::string_view cert_pem,
                         std::string_view dns_name) {
  core::Result<X509Ptr> ca = parse_certificate(ca_pem);
  if (!ca) return invalid("failed to parse root certificate");
  core::Result<X509Ptr> cert = parse_certificate(cert_pem);
  if (!cert) return invalid("failed to parse certificate");
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca->get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1) {
    return openssl_error("x509: cannot set up verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  std::string host(dns_name);
  // Go's VerifyHostname matches an IP address against the IP SANs, any other text against
  // the DNS SANs.
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  ERR_clear_error();
  int name_set = ip != nullptr ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  ASN1_OCTET_STRING_free(ip);
  if (name_set != 1 || X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER) != 1) {
    return openssl_error("x509: cannot set up verification");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int code = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return invalid(std::string("x509: ") + X509_verify_cert_error_string(code));
  }
  return core::ok();
}

}  // namespace pc::cli::tls
