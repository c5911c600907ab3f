// kRpcServerInfo replies from the network (daemon/server_info.h): decoding never crashes, and
// what it accepts re-encodes and decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/assert.h"
#include "daemon/server_info.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto info = pc::daemon::decode_server_info(in);
  if (!info) return 0;
  const std::string bytes = pc::daemon::encode_server_info(*info);
  // An old seven-line reply at the size limit grows by the empty eighth line.
  if (bytes.size() > pc::daemon::kServerInfoSizeMax) return 0;
  auto again = pc::daemon::decode_server_info(bytes);
  PC_ASSERT(again.has_value() && *again == *info, "a server info reply does not round-trip");
  return 0;
}
