// Raft snapshot files from disk: decode must refuse damage without crashing, and whatever it
// accepts must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consensus/runtime/snapshot_store.h"
#include "core/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = pc::consensus::SnapshotStore::decode(bytes);
  if (decoded) {
    PC_ASSERT(pc::consensus::SnapshotStore::encode(*decoded) == bytes,
              "a decoded snapshot re-encodes differently");
  }
  return 0;
}
