#pragma once
// Keyring operations on every member of a pool, as serf's KeyManager does them: an internal
// query (_serf_install-key, _serf_use-key, _serf_remove-key, _serf_list-keys) goes to every
// member; each applies it to its own keyring, persists the keyring file, and answers with a
// KeyResponse (proto/gossip.proto); the origin sums the answers up (KeyringSummary).
//
// Request payloads are the key in base64 (none for list). Response payloads come from the
// network: decode_key_response refuses anything malformed or oversized, never asserts
// (gossip_key_response_fuzz).
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "gossip/keyring.h"

namespace pc::gossip {

enum class KeyOp : std::uint8_t { kInstall, kUse, kRemove, kList };

// serf's internal query names ("_serf_" + install-key, use-key, remove-key, list-keys).
std::string_view key_query_name(KeyOp op);
// The op an internal key query name stands for; nullopt for any other query.
std::optional<KeyOp> key_op_of_query(std::string_view name);

// Keys in one list answer at most (a keyring holds a handful; the response must fit a
// datagram's 1024-byte payload limit anyway).
inline constexpr std::size_t kKeysPerResponseMax = 32;

struct KeyResponse {
  bool result = false;
  std::string message;
  std::vector<std::string> keys;  // list only, base64
  std::string primary_key;        // list only, base64
  bool operator==(const KeyResponse&) const = default;
};

std::string encode_key_response(const KeyResponse& r);
core::Result<KeyResponse> decode_key_response(std::string_view bytes);

// The member's side: applies the op to `keyring` and, when it changed, calls `persist` with
// the keys (primary first) to keep them across restarts. serf's answers: a keyring without
// keys means encryption is off, and nothing is changed.
KeyResponse apply_key_query(
    Keyring& keyring, KeyOp op, std::string_view payload,
    const std::function<core::Status(const std::vector<std::string>&)>& persist);

// The origin's side: serf's KeyResponse, summed over the answers of one query.
struct KeyringSummary {
  std::map<std::string, std::string> messages;  // member → its message
  std::map<std::string, int> keys;              // key → members that have it installed
  std::map<std::string, int> primary_keys;      // key → members that use it as primary
  int num_nodes = 0;                            // live members when the query started
  int num_resp = 0;
  int num_err = 0;
  // serf's verdict: "N/M nodes reported failure" or "N/M nodes reported success" (too few
  // answers); empty when every member answered and none failed.
  std::string error() const;
  void add(const std::string& from, std::string_view payload);
};

}  // namespace pc::gossip
