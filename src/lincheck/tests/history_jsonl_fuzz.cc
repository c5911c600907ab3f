// Fuzz target: arbitrary bytes as a JSON Lines history file. Whatever the bytes, the decoder
// must return a history or an InvalidArgument naming a line, and a decoded history must check
// to an error or a verdict within a small budget (crash or hang = bug).
//
// Under clang with -DPC_LIBFUZZER=ON this is a libFuzzer binary. Otherwise the replay main
// runs every file of the corpus directory (the ctest history_jsonl_fuzz_replay).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lincheck/checker.h"
#include "lincheck/jsonl.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto history = pc::lincheck::parse_history_jsonl(text);
  if (!history) {
    if (history.error().code != pc::core::Code::kInvalidArgument ||
        history.error().message.rfind("line ", 0) != 0) {
      std::abort();
    }
    return 0;
  }
  pc::lincheck::CheckOptions options;
  options.step_budget = 100'000;
  options.minimize_step_budget = 100'000;
  auto result = pc::lincheck::check(*history, options);
  if (result && result->verdict == pc::lincheck::Verdict::kViolation &&
      result->failing_key.empty() && result->stale_violations.empty()) {
    std::abort();  // a violation must say where
  }
  return 0;
}
