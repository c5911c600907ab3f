// Outcomes of forwarded writes, from the network: decode never crashes, and what it accepts
// re-encodes and decodes to the same outcome.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "daemon/apply_outcome.h"
#include "state/store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded =
      pc::daemon::decode_apply_outcome(std::string_view(reinterpret_cast<const char*>(data), size));
  if (decoded) {
    auto again = pc::daemon::decode_apply_outcome(pc::daemon::encode_apply_outcome(*decoded));
    PC_ASSERT(again.has_value(), "a decoded outcome does not re-decode");
    const auto& a = std::any_cast<const pc::state::ApplyResult&>(*decoded);
    const auto& b = std::any_cast<const pc::state::ApplyResult&>(*again);
    PC_ASSERT(a.ok == b.ok && a.txn_results == b.txn_results &&
                  a.txn_errors.size() == b.txn_errors.size(),
              "an outcome does not round-trip");
  }
  return 0;
}
