// Fuzz target: arbitrary bytes as a `?filter=` against the fake service schema, evaluated on
// a fixed record. Whatever the bytes, compile must return a value or an InvalidArgument, and
// evaluation must finish (crash or hang = bug).
//
// Under clang with -DPC_LIBFUZZER=ON this is a libFuzzer binary. Otherwise the replay main
// runs every file of the corpus directory (the ctest filter_fuzz_replay).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "filter/filter.h"
#include "filter/tests/fake_service.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pc::filter::testing::FakeSchema schema;
  static const pc::filter::testing::FakeService service;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expr = pc::filter::Expression::compile(text, schema);
  if (!expr) {
    // Every refusal is the client's fault, so the HTTP layer can answer 400.
    if (expr.error().code != pc::core::Code::kInvalidArgument || expr.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  const bool first = expr->matches(pc::filter::testing::FakeObject(service));
  // Evaluation is a pure function of the program and the record.
  if (expr->matches(pc::filter::testing::FakeObject(service)) != first) std::abort();
  (void)expr->dump();
  return 0;
}
