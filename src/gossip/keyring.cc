// AES-GCM sealing of gossip frames with OpenSSL 3's EVP interface: see keyring.h, and
// docs/formats/gossip.md for the layout.
#include "gossip/keyring.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

#include "core/assert.h"
#include "core/strings.h"

namespace pc::gossip {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const EVP_CIPHER* gcm_for(std::size_t key_size) {
  switch (key_size) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    default: PC_UNREACHABLE("gossip key of {} bytes got into the keyring", key_size);
  }
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes_of(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

// The version byte is the additional authenticated data: it is sent in the clear, and binding
// it to the tag means a frame cannot be passed off as another (future) format by flipping it.
const unsigned char kAad[1] = {kSealedFrameVersion};

// A GCM context keyed and given its nonce and the additional data, ready for the text.
// Failures here are OpenSSL failing on valid parameters (out of memory), not outside input.
CipherCtx start_gcm(const std::string& key, const unsigned char* nonce, bool encrypt) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  const int enc = encrypt ? 1 : 0;
  int len = 0;
  PC_ASSERT(
      ctx &&
          EVP_CipherInit_ex(ctx.get(), gcm_for(key.size()), nullptr, nullptr, nullptr, enc) == 1 &&
          EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kSealNonceSize, nullptr) == 1 &&
          EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key), nonce, enc) == 1 &&
          EVP_CipherUpdate(ctx.get(), nullptr, &len, kAad, sizeof kAad) == 1,
      "gossip keyring: AES-GCM setup failed");
  return ctx;
}

std::string seal_with(const std::string& key, std::string_view plain) {
  std::string out(kSealOverhead + plain.size(), '\0');
  out[0] = static_cast<char>(kSealedFrameVersion);
  unsigned char* nonce = bytes_of(out) + 1;
  PC_ASSERT(RAND_bytes(nonce, kSealNonceSize) == 1, "gossip keyring: no random bytes for a nonce");
  unsigned char* cipher_text = nonce + kSealNonceSize;
  CipherCtx ctx = start_gcm(key, nonce, true);
  int len = 0;
  int written = 0;
  if (!plain.empty()) {
    PC_ASSERT(EVP_EncryptUpdate(ctx.get(), cipher_text, &len, bytes_of(plain),
                                static_cast<int>(plain.size())) == 1,
              "gossip keyring: AES-GCM encrypt failed");
    written = len;
  }
  PC_ASSERT(EVP_EncryptFinal_ex(ctx.get(), cipher_text + written, &len) == 1 &&
                EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kSealTagSize,
                                    cipher_text + plain.size()) == 1,
            "gossip keyring: AES-GCM finish failed");
  return out;
}

// False when the key does not authenticate the frame.
bool open_with(const std::string& key, std::string_view sealed, std::string& plain) {
  const std::size_t text_size = sealed.size() - kSealOverhead;
  const unsigned char* nonce = bytes_of(sealed) + 1;
  const unsigned char* cipher_text = nonce + kSealNonceSize;
  // OpenSSL wants a writable tag buffer.
  unsigned char tag[kSealTagSize];
  std::copy_n(cipher_text + text_size, kSealTagSize, tag);
  plain.assign(text_size, '\0');
  CipherCtx ctx = start_gcm(key, nonce, false);
  int len = 0;
  int written = 0;
  if (text_size > 0) {
    if (EVP_DecryptUpdate(ctx.get(), bytes_of(plain), &len, cipher_text,
                          static_cast<int>(text_size)) != 1) {
      return false;
    }
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kSealTagSize, tag) != 1) return false;
  // The tag is checked here: a wrong key or any changed byte fails.
  return EVP_DecryptFinal_ex(ctx.get(), bytes_of(plain) + written, &len) == 1;
}

}  // namespace

core::Result<std::string> Keyring::decode_key(std::string_view base64) {
  std::string key;
  if (!core::base64_decode(base64, key)) {
    return core::make_error(core::Code::kInvalidArgument, "gossip key: not valid base64");
  }
  if (key.size() != 16 && key.size() != 24 && key.size() != 32) {
    return core::make_error(core::Code::kInvalidArgument,
                            "gossip key: " + std::to_string(key.size()) +
                                " bytes, want 16, 24 or 32 (AES-128, AES-192 or AES-256)");
  }
  return key;
}

core::Status Keyring::install(std::string_view base64) {
  auto key = decode_key(base64);
  if (!key) return key.error();
  std::lock_guard lock(mu_);
  if (std::find(keys_.begin(), keys_.end(), *key) == keys_.end()) keys_.push_back(*key);
  return core::ok();
}

core::Status Keyring::use(std::string_view base64) {
  auto key = decode_key(base64);
  if (!key) return key.error();
  std::lock_guard lock(mu_);
  auto it = std::find(keys_.begin(), keys_.end(), *key);
  if (it == keys_.end()) {
    return core::make_error(core::Code::kNotFound,
                            "gossip key: not installed; install it before using it");
  }
  std::rotate(keys_.begin(), it, it + 1);
  return core::ok();
}

core::Status Keyring::remove(std::string_view base64) {
  auto key = decode_key(base64);
  if (!key) return key.error();
  std::lock_guard lock(mu_);
  if (!keys_.empty() && keys_.front() == *key) {
    return core::make_error(core::Code::kInvalidArgument,
                            "gossip key: the primary key cannot be removed; use another first");
  }
  std::erase(keys_, *key);
  return core::ok();
}

std::vector<std::string> Keyring::list() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(keys_.size());
  for (const std::string& key : keys_) out.push_back(core::base64_encode(key));
  return out;
}

std::string Keyring::primary() const {
  std::lock_guard lock(mu_);
  return keys_.empty() ? std::string() : core::base64_encode(keys_.front());
}

bool Keyring::has_keys() const {
  std::lock_guard lock(mu_);
  return !keys_.empty();
}

Keyring::Options Keyring::options() const {
  return options_;
}

core::Result<std::string> Keyring::seal(std::string_view plain) const {
  std::string key;
  {
    std::lock_guard lock(mu_);
    if (keys_.empty()) {
      return core::make_error(core::Code::kUnavailable, "gossip keyring: no key installed");
    }
    key = keys_.front();
  }
  return seal_with(key, plain);
}

core::Result<std::string> Keyring::open(std::string_view sealed) const {
  if (sealed.size() < kSealOverhead ||
      static_cast<std::uint8_t>(sealed[0]) != kSealedFrameVersion) {
    return core::make_error(core::Code::kInvalidArgument, "gossip frame: not sealed");
  }
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    keys = keys_;
  }
  std::string plain;
  for (const std::string& key : keys) {
    if (open_with(key, sealed, plain)) return plain;
  }
  return core::make_error(core::Code::kPermissionDenied, "gossip frame: no installed key opens it");
}

core::Result<std::string> Keyring::outgoing(std::string_view frame) const {
  if (!options_.verify_outgoing || !has_keys()) return std::string(frame);
  return seal(frame);
}

core::Result<std::string> Keyring::incoming(std::string_view bytes) const {
  const bool looks_sealed =
      !bytes.empty() && static_cast<std::uint8_t>(bytes[0]) == kSealedFrameVersion;
  if (!has_keys()) {
    if (!looks_sealed) return std::string(bytes);
    // Counted as a refusal to decrypt, which is what it is, not as a bad packet.
    return core::make_error(core::Code::kPermissionDenied,
                            "gossip frame: encrypted, and no key is installed");
  }
  if (!looks_sealed && !options_.verify_incoming) return std::string(bytes);
  if (!looks_sealed) {
    return core::make_error(core::Code::kPermissionDenied,
                            "gossip frame: not encrypted, and encrypt_verify_incoming is on");
  }
  return open(bytes);
}

}  // namespace pc::gossip
