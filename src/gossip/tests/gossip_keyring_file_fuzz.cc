// A keyring file as read from disk (<data_dir>/serf/local.keyring): parsing must never crash,
// and what parses must encode and parse back to the same keys.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "gossip/keyring_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto keys = pc::gossip::parse_keyring_file(text);
  if (!keys) return 0;
  auto again = pc::gossip::parse_keyring_file(pc::gossip::encode_keyring_file(*keys));
  PC_ASSERT(again && *again == *keys, "a keyring file does not survive encode and parse");
  return 0;
}
