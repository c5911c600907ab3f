// Raft message batches and configuration views from peers: decode must never crash, and what
// it accepts must re-encode to bytes that decode to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consensus/runtime/message_codec.h"
#include "core/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded =
      pc::consensus::decode_raft_batch(std::string_view(reinterpret_cast<const char*>(data), size));
  if (decoded) {
    auto again = pc::consensus::decode_raft_batch(pc::consensus::encode_raft_batch(*decoded));
    PC_ASSERT(again && *again == *decoded, "a decoded raft batch does not round-trip");
  }
  auto config = pc::consensus::decode_configuration(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (config) {
    auto again = pc::consensus::decode_configuration(pc::consensus::encode_configuration(*config));
    PC_ASSERT(again && *again == *config, "a decoded raft configuration does not round-trip");
  }
  return 0;
}
