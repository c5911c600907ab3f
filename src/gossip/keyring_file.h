#pragma once
// The keyring file Consul keeps per pool: <data_dir>/serf/local.keyring for the LAN pool
// (remote.keyring for the WAN pool). A JSON array of base64 keys, the primary first, as
// serf writes it. An agent that finds the file uses it and ignores `encrypt` (Consul:
// `encrypt` only seeds a keyring that does not exist yet); every keyring change made through
// the key queries rewrites it, so a restarted agent comes back with the keys in use.
//
// The file is read from disk: parse_keyring_file refuses anything but a JSON array of at
// most kKeyringFileKeysMax valid keys (gossip_keyring_file_fuzz), never asserts.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "gossip/keyring.h"

namespace pc::gossip {

inline constexpr std::size_t kKeyringFileKeysMax = 32;
inline constexpr std::size_t kKeyringFileSizeMax = 64 * 1024;
inline constexpr std::string_view kLanKeyringFile = "serf/local.keyring";
inline constexpr std::string_view kWanKeyringFile = "serf/remote.keyring";

// The keys in the file's order (primary first); each a valid key (Keyring::decode_key).
core::Result<std::vector<std::string>> parse_keyring_file(std::string_view text);
std::string encode_keyring_file(const std::vector<std::string>& keys);

// nullopt when the file does not exist; kCorruption when it does not parse; kIoError.
core::Result<std::optional<std::vector<std::string>>> read_keyring_file(const std::string& path);
// Writes atomically through core::write_file_atomic (a temporary file, fsync, rename, then
// fsync of the directory), mode 0600 whatever the umask, creating the directory (0700).
core::Status write_keyring_file(const std::string& path, const std::vector<std::string>& keys);

// The keyring an agent starts with: the file's keys if it exists (`encrypt` ignored, with
// a warning for the caller to log in `ignored_encrypt`), else `encrypt` (written to the file
// when `path` is not empty), else none. Keys go into `keyring` primary first.
core::Status load_keyring(Keyring& keyring, const std::string& path, const std::string& encrypt,
                          bool& ignored_encrypt);

}  // namespace pc::gossip
