// Fuzz target for ConfChange bytes read back from the log (disk or a peer's MsgApp):
// decoding either succeeds or returns an error; what decodes re-encodes to the same bytes
// (the encoding is canonical) and applies to a configuration without trouble.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consensus/core/conf_change.h"
#include "core/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pc::consensus::raft;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto cc = decode_conf_change(bytes);
  if (!cc) {
    PC_ASSERT(!cc.error().message.empty(), "a decode error without a reason");
    return 0;
  }
  PC_ASSERT(encode_conf_change(*cc) == bytes, "re-encoding changed the bytes");
  ConfState conf{{1, 2, 3}, {4}, {}};
  ConfState next = apply_to(conf, *cc);
  PC_ASSERT(next.voters.size() + next.learners.size() <= 5, "membership grew by more than one");
  return 0;
}
