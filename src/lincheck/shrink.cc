// Shrinking a failing register history (detail/register_search.h): delta debugging with
// chunks that halve down to single operations, then passes of single removals until none
// succeeds (one-minimal: removing any one operation left makes the history linearizable,
// or is a removal that could turn a linearizable history into a failing one).
#include <algorithm>
#include <set>

#include "lincheck/detail/register_search.h"

namespace pc::lincheck::detail {
namespace {

bool changes_state(const RegisterOp& op) {
  return op.step == Step::kWrite || op.step == Step::kCas || op.step == Step::kCasUnknown;
}

// Whether removing operations from a history that is linearizable always leaves one that
// is: then a failing candidate proves the original fails, and explains it. Removing a read
// or a failed cas only drops constraints. Removing a state change makes the operations
// linearized after it see the value before it, which is harmless unless one of them
// observes the removed value (a read or cas of it: "absent" included), or acts on whatever
// value is there (a failed cas, which saw "not expected", and an unknown cas whose effect
// someone saw) and may come after it (it did not return before the removed one was called).
bool removal_is_monotone(const std::vector<RegisterOp>& ops,
                         const std::vector<RegisterOp>& candidate) {
  // An unknown cas whose value nobody in the candidate observed can always move to the
  // end, where its effect (or lack of one) is seen by no one: only one that is observed
  // depends on the state it meets.
  std::set<std::int32_t> observed;
  for (const RegisterOp& op : candidate) {
    if (op.step == Step::kRead) observed.insert(op.value);
    if (op.step == Step::kCas) observed.insert(op.expected);
  }
  std::multiset<std::size_t> kept;
  for (const RegisterOp& op : candidate) kept.insert(op.source);
  for (const RegisterOp& removed : ops) {
    auto it = kept.find(removed.source);
    if (it != kept.end()) {
      kept.erase(it);
      continue;
    }
    if (!changes_state(removed)) continue;
    for (const RegisterOp& op : candidate) {
      // Operations that returned before it was called come before it in any linearization.
      if (op.ret < removed.call) continue;
      if (op.step == Step::kReadNot) return false;
      if (op.step == Step::kCasUnknown && observed.count(op.value) != 0) return false;
      if (op.step == Step::kRead && op.value == removed.value) return false;
      if (op.step == Step::kCas && op.expected == removed.value) return false;
    }
  }
  return true;
}

enum class Pass : std::uint8_t { kDone, kOutOfBudget };

// Delta debugging over the operations `eligible` selects: removes chunks of them (from the
// end backwards, halving the chunk size down to one) while the rest still fails, then
// repeats single removals until none succeeds.
template <typename Eligible>
Pass ddmin(std::vector<RegisterOp>& ops, Budget& budget, Eligible eligible) {
  auto positions = [&] {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (eligible(ops[i])) out.push_back(i);
    }
    return out;
  };
  std::size_t chunk = std::max<std::size_t>(1, positions().size() / 2);
  for (;;) {
    bool removed_any = false;
    // From the end backwards: a violation tends to need the history up to it and little
    // after it, and the search is cheapest once the tail is gone.
    std::vector<std::size_t> pos = positions();
    std::size_t end = pos.size();
    while (end > 0) {
      const std::size_t from = end > chunk ? end - chunk : 0;
      std::vector<bool> drop(ops.size());
      for (std::size_t k = from; k < end; ++k) drop[pos[k]] = true;
      end = from;
      std::vector<RegisterOp> candidate;
      for (std::size_t i = 0; i < ops.size(); ++i) {
        if (!drop[i]) candidate.push_back(ops[i]);
      }
      if (!removal_is_monotone(ops, candidate)) continue;
      const SearchOutcome outcome = search(candidate, budget);
      if (outcome == SearchOutcome::kOutOfBudget) return Pass::kOutOfBudget;
      if (outcome == SearchOutcome::kNotLinearizable) {
        // Positions before `end` are unaffected by removing ones after it.
        ops = std::move(candidate);
        removed_any = true;
      }
    }
    if (chunk > 1) {
      chunk /= 2;
    } else if (!removed_any) {
      return Pass::kDone;
    }
  }
}

}  // namespace

ShrinkResult shrink(std::vector<RegisterOp> ops, Budget& budget) {
  // First the operations that change nothing (reads, failed cas): removing them is always
  // allowed, and once they are gone the rule for removing writes binds far less.
  auto observes_only = [](const RegisterOp& op) {
    return op.step == Step::kRead || op.step == Step::kReadNot;
  };
  if (ddmin(ops, budget, observes_only) == Pass::kOutOfBudget) return {std::move(ops), false};
  if (ddmin(ops, budget, [](const RegisterOp&) { return true; }) == Pass::kOutOfBudget) {
    return {std::move(ops), false};
  }
  return {std::move(ops), true};
}

}  // namespace pc::lincheck::detail
