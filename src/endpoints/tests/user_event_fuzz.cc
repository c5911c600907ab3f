// A user event's payload from another member: decoding must never crash; what decodes
// encodes and decodes back to the same event, and matching it against filters never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "endpoints/user_event.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto event = pc::endpoints::decode_user_event(bytes);
  if (!event) return 0;
  auto again = pc::endpoints::decode_user_event(pc::endpoints::encode_user_event(*event));
  PC_ASSERT(again && *again == *event, "a user event does not survive encode and decode");
  (void)pc::endpoints::user_event_matches(*event, "node-1", {{"web", {"v1", "primary"}}});
  (void)pc::endpoints::user_event_index(event->id);
  return 0;
}
