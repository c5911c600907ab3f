// Another member's meta, read as serf tags: decoding must never crash, and what it accepts
// must encode back to the very same bytes (the encoding is canonical).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "gossip/tags.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view meta(reinterpret_cast<const char*>(data), size);
  auto tags = pc::gossip::decode_tags(meta);
  if (!tags) return 0;
  auto again = pc::gossip::encode_tags(*tags);
  PC_ASSERT(again && (*again == meta || (meta.empty() && tags->empty())),
            "decoded serf tags do not encode back to the same bytes");
  return 0;
}
