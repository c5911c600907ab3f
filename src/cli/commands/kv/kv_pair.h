#pragma once
// Consul's KVPair as /v1/kv returns it, and how `kv get` prints one.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::cli {

struct KvPair {
  std::string key;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  std::uint64_t lock_index = 0;
  std::uint64_t flags = 0;
  std::string value;    // decoded from base64; "" for a null Value
  std::string session;  // "" when unlocked
};

// Parses a /v1/kv response body: a JSON array of KVPair objects.
core::Result<std::vector<KvPair>> parse_kv_pairs(std::string_view body);
// Parses a /v1/kv?keys response body: a JSON array of strings.
core::Result<std::vector<std::string>> parse_kv_keys(std::string_view body);

// `kv get -detailed`, laid out as Consul's tabwriter (padding 6) does, without a final
// newline:
//   CreateIndex      12
//   Flags            0
//   Key              foo
//   LockIndex        0
//   ModifyIndex      12
//   Session          -
//   Value            bar
// With `keys_only` (kv get -keys -recurse -detailed) the Value row is left out and the text
// ends with the Session row's newline, as Consul's prettyKVPair does.
std::string format_kv_detailed(const KvPair& pair, bool base64_value, bool keys_only = false);

// The single KEY argument of `kv get` and `kv delete` ("" when absent), with a leading '/'
// stripped: keys cannot start with one, but people write "/foo" and Consul strips it for them.
// nullopt, after saying so on `err`, when more than one argument was given.
std::optional<std::string> kv_key_argument(const std::vector<std::string>& positional,
                                           std::ostream& err);

}  // namespace pc::cli
