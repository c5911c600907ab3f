// <data_dir>/acl-tokens.json as an agent reads it at start: decoding must never crash, and
// what decodes encodes and decodes back to the same secrets.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "endpoints/agent_tokens_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tokens = pc::endpoints::decode_agent_tokens_file(text);
  if (!tokens) return 0;
  auto again =
      pc::endpoints::decode_agent_tokens_file(pc::endpoints::encode_agent_tokens_file(*tokens));
  PC_ASSERT(again && *again == *tokens, "acl-tokens.json does not survive encode and decode");
  return 0;
}
