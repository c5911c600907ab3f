// Fuzz target for service definition files (`proconsul services register FILE`), the CLI's
// decoder of bytes read from disk. Whatever the file holds, parsing must end in definitions
// or a clear error, never a crash; every definition must carry a body that serializes.
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "cli/commands/services/service_file.h"
#include "core/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::ostringstream warnings;
  auto defs = pc::cli::services_from_json(text, "fuzz.json", warnings);
  if (!defs) {
    PC_ASSERT(!defs.error().message.empty(), "an error without a message");
    return 0;
  }
  for (const auto& def : *defs) (void)boost::json::serialize(def.body);
  return 0;
}
