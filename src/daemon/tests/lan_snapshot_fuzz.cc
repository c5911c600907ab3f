// Fuzz target: a member list file as a restarted agent reads it (torn, foreign or hostile
// bytes): decoding never fails hard, and what it yields is well-formed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/lan_snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  pc::daemon::LanSnapshotState s = pc::daemon::decode_lan_snapshot(in);
  for (const auto& [name, address] : s.alive) {
    if (name.empty() || address.empty() || name.find(' ') != std::string::npos) {
      __builtin_trap();
    }
  }
  auto rejoin = pc::daemon::lan_snapshot_rejoin_addresses(s, "self");
  if (s.left && !rejoin.empty()) __builtin_trap();
  return 0;
}
