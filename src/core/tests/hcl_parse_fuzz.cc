// Fuzz target for core/hcl.h: arbitrary bytes as an HCL (or JSON) document. Parsing either
// gives a tree or an error with a message; it never crashes, and a tree's nesting stays
// within the limit (the tree is freed recursively). The same bytes parse the same way twice.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/hcl.h"
#include "core/limits.h"

namespace {

std::size_t depth_of(const pc::core::hcl::Value& value) {
  std::size_t deepest = 0;
  for (const auto& element : value.list) deepest = std::max(deepest, depth_of(element));
  for (const auto& member : value.object) deepest = std::max(deepest, depth_of(member.value));
  const bool container =
      value.kind == pc::core::hcl::Kind::kList || value.kind == pc::core::hcl::Kind::kObject;
  return deepest + (container ? 1 : 0);
}

void check(const pc::core::Result<pc::core::hcl::Value>& result) {
  if (!result) {
    if (result.error().message.empty()) std::abort();
    return;
  }
  // The root object plus the bounded levels below it.
  if (depth_of(*result) > pc::core::limits::hcl_nesting_depth_max + 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto first = pc::core::hcl::parse(text);
  check(first);
  auto second = pc::core::hcl::parse(text);
  if (first.has_value() != second.has_value()) std::abort();
  check(pc::core::hcl::parse_json(text));
  return 0;
}
