#pragma once
// The gossip keyring: AES-GCM sealing of every gossip frame with the keys Consul's `encrypt`
// option and `keyring` command manage (memberlist's Keyring and security.go, with our own
// frame layout: docs/formats/gossip.md).
//
// Keys are 16, 24 or 32 random bytes (AES-128/192/256), given and listed as standard base64
// (what `consul keygen` prints: 32 bytes). Several keys may be installed; one is the primary.
// Frames are sealed with the primary and opened with whichever installed key fits, which is
// what lets a cluster rotate keys while it keeps talking: install the new key everywhere, make
// it the primary everywhere, then remove the old one.
//
// Consul's rules: the first key installed becomes the primary; use() needs an installed key;
// the primary cannot be removed (use another one first); installing a key twice or removing
// one that is not installed changes nothing.
//
// encrypt_verify_incoming / encrypt_verify_outgoing (Consul's options, for moving a running
// cluster from plaintext to encrypted gossip; both default to true): with outgoing false we
// send plaintext although keys are installed; with incoming false a frame that is not sealed
// is accepted as plaintext. A keyring without keys sends and accepts plaintext only.
//
// Thread-safety: every method may be called from any thread (one mutex; the key operations
// come from the owner's thread while the gossip runtime seals and opens on its I/O thread).
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::gossip {

// The first byte of a sealed frame. Plaintext frames start with kGossipFrameVersion (1, and
// later versions count up from there), so a receiver that accepts both can tell a sealed
// frame it has no key for from a plaintext one without trying to parse it.
inline constexpr std::uint8_t kSealedFrameVersion = 0x80;
inline constexpr std::size_t kSealNonceSize = 12;
inline constexpr std::size_t kSealTagSize = 16;
// What sealing adds to a frame: version byte, nonce, tag (GCM adds no padding).
inline constexpr std::size_t kSealOverhead = 1 + kSealNonceSize + kSealTagSize;

class Keyring {
 public:
  struct Options {
    bool verify_incoming = true;  // Consul's encrypt_verify_incoming
    bool verify_outgoing = true;  // Consul's encrypt_verify_outgoing
  };

  Keyring() = default;
  explicit Keyring(Options options) : options_(options) {}
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;

  // Base64 text to key bytes: kInvalidArgument unless it is valid base64 of 16, 24 or 32 bytes.
  static core::Result<std::string> decode_key(std::string_view base64);

  // Consul's `keyring -install`: adds the key (the primary if it is the first one).
  core::Status install(std::string_view base64);
  // `keyring -use`: makes an installed key the primary (kNotFound when not installed).
  core::Status use(std::string_view base64);
  // `keyring -remove`: kInvalidArgument for the primary; nothing when not installed.
  core::Status remove(std::string_view base64);
  // `keyring -list`: the installed keys in base64, the primary first.
  std::vector<std::string> list() const;
  std::string primary() const;  // base64; empty without keys
  bool has_keys() const;
  Options options() const;

  // Seals with the primary key; kUnavailable without keys. A fresh random nonce per frame.
  core::Result<std::string> seal(std::string_view plain) const;
  // Opens with any installed key: kPermissionDenied when none fits (wrong key, tampering,
  // truncation), kInvalidArgument when the bytes are not a sealed frame at all. Bytes from the
  // network: never asserts.
  core::Result<std::string> open(std::string_view sealed) const;

  // What the runtime calls: seal (or not) per the keys and verify_outgoing ...
  core::Result<std::string> outgoing(std::string_view frame) const;
  // ... and open (or accept as plaintext) per the keys and verify_incoming.
  core::Result<std::string> incoming(std::string_view bytes) const;

 private:
  Options options_;
  mutable std::mutex mu_;
  std::vector<std::string> keys_;  // raw key bytes; keys_[0] is the primary
};

}  // namespace pc::gossip
