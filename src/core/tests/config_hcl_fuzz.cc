// Fuzz target for HCL configuration files (bytes read from disk): converting a document to the
// JSON the config loader checks either gives a value or an error with a message; it never
// crashes, and the same bytes convert the same way twice.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/detail/config_hcl.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto first = pc::core::detail::hcl_config_to_json(text);
  auto second = pc::core::detail::hcl_config_to_json(text);
  if (first.has_value() != second.has_value()) std::abort();
  if (!first) {
    if (first.error().message.empty()) std::abort();
    return 0;
  }
  if (boost::json::serialize(*first) != boost::json::serialize(*second)) std::abort();
  return 0;
}
