// Fuzz target for DNS messages from the network: decoding either succeeds or returns an
// error; a decoded message re-encodes at the UDP and TCP limits, and what we write decodes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/assert.h"
#include "dns/wire/message.h"

namespace {

void check_reencode(const pc::dns::wire::Message& message, std::size_t max_size) {
  auto encoded = pc::dns::wire::encode(message, max_size);
  // Decoded names, TXT strings and rdata are all within the wire limits, so writing them back
  // cannot fail.
  PC_ASSERT(encoded.has_value(), "re-encoding a decoded message failed: {}",
            encoded.error().message);
  PC_ASSERT(encoded->bytes.size() <= max_size, "encoded {} bytes over the limit {}",
            encoded->bytes.size(), max_size);
  auto again = pc::dns::wire::decode(encoded->bytes);
  PC_ASSERT(again.has_value(), "decoding our own encoding failed: {}", again.error().message);
  if (!encoded->truncated) {
    PC_ASSERT(again->answers.size() == message.answers.size(), "answers lost");
    PC_ASSERT(again->additional.size() == message.additional.size(), "additional lost");
    PC_ASSERT(again->edns.has_value() == message.edns.has_value(), "OPT lost");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto message = pc::dns::wire::decode(std::span<const std::uint8_t>(data, size));
  if (!message) {
    PC_ASSERT(!message.error().message.empty(), "a decode error without a reason");
    return 0;
  }
  check_reencode(*message, pc::dns::wire::kMaxUdpSize);
  check_reencode(*message, pc::dns::wire::kMaxMessageSize);
  return 0;
}
