// Another member's answer to a key query, and a keyring file from disk: decoding must never
// crash; what decodes must encode and decode back to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "gossip/key_query.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto r = pc::gossip::decode_key_response(bytes);
  if (r) {
    auto again = pc::gossip::decode_key_response(pc::gossip::encode_key_response(*r));
    PC_ASSERT(again && *again == *r, "a key response does not survive encode and decode");
  }
  pc::gossip::KeyringSummary summary;
  summary.num_nodes = 1;
  summary.add("fuzz", bytes);
  (void)summary.error();
  return 0;
}
