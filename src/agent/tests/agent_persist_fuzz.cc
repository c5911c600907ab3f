// The files an agent reads back from its data directory at start (services/, checks/,
// checks/state/): every decoder must refuse what it cannot take without crashing, and what it
// takes must encode and decode back to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/local_persist_codec.h"
#include "core/assert.h"

namespace {

template <typename Decode, typename Encode>
void round_trip(std::string_view text, Decode decode, Encode encode, const char* what) {
  auto first = decode(text);
  if (!first) return;
  auto again = decode(encode(*first));
  PC_ASSERT(again && *again == *first, "a {} does not survive encode and decode", what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pc::agent;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  round_trip(text, decode_persisted_service, encode_persisted_service, "service file");
  round_trip(text, decode_persisted_check, encode_persisted_check, "check file");
  round_trip(text, decode_persisted_check_state, encode_persisted_check_state, "check state file");
  return 0;
}
