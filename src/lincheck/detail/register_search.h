#pragma once
// Private to lincheck: the search for a linearization of one register's operations, and the
// shrinking of a failing history. Values are interned as small integers by the caller.
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace pc::lincheck::detail {

constexpr std::int32_t kAbsent = -1;
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

// How an operation acts on the register at its linearization point.
enum class Step : std::uint8_t {
  kWrite,       // always allowed; the register becomes `value` (acknowledged or unknown)
  kRead,        // allowed when the register holds `value`
  kCas,         // allowed when it holds `expected`; it becomes `value`
  kCasUnknown,  // always allowed; becomes `value` if it held `expected`, else unchanged
  kReadNot,     // a failed cas: allowed when the register does not hold `expected`
};

struct RegisterOp {
  Step step = Step::kRead;
  std::int32_t value = kAbsent;
  std::int32_t expected = kAbsent;
  std::uint64_t call = 0;
  std::uint64_t ret = kNever;  // kNever: the outcome is unknown
  std::size_t source = 0;      // the caller's index of the operation
};

// Shared between searches so one budget bounds a whole check. Not thread-safe.
class Budget {
 public:
  Budget(std::chrono::milliseconds time_budget, std::uint64_t steps_max);
  // Counts one step; false once the steps or the time are used up.
  bool spend();
  bool exhausted() const { return exhausted_; }
  std::uint64_t steps() const { return steps_; }

 private:
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::uint64_t steps_max_ = 0;
  std::uint64_t steps_ = 0;
  bool exhausted_ = false;
};

enum class SearchOutcome : std::uint8_t { kLinearizable, kNotLinearizable, kOutOfBudget };

// The register starts absent. Two operations whose call and return times are equal count as
// concurrent (the more permissive reading of a tie).
SearchOutcome search(const std::vector<RegisterOp>& ops, Budget& budget);

struct ShrinkResult {
  std::vector<RegisterOp> ops;  // still not linearizable
  bool one_minimal = false;
};

// Removes operations while what remains is still not linearizable, only in ways that
// cannot turn a linearizable history into a failing one (never a write whose value a
// remaining operation observed, for one): so the result is itself a proof of the violation,
// not a new one made by the shrinking. `ops` must not be linearizable.
ShrinkResult shrink(std::vector<RegisterOp> ops, Budget& budget);

}  // namespace pc::lincheck::detail
