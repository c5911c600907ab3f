#pragma once
// Linearizability check of a history of KV register operations.
//
// Each key is an independent register, and linearizability is compositional (a history is
// linearizable if and only if its restriction to every object is), so every key is checked
// on its own: a depth-first search for a linearization (Wing & Gong, with Lowe's cache of
// visited (linearized set, register state) pairs) that undoes its last choice on a dead end.
//
// What each operation contributes (documented for the test bed in docs/testing.md):
//   - write/read/cas with an unknown outcome: may take effect at any time after its call, or
//     never. Unknown reads observed nothing and are dropped; unknown writes and cas are kept
//     with a return time of +infinity (an operation that never took effect is linearized
//     after everything else, where it changes nothing anyone saw).
//   - a failed cas had no effect; it is checked as a read that saw "anything but expected".
//   - failed reads and writes (ok false) had no effect and are dropped.
//   - stale reads are not linearizable by design: they are not searched; instead the index
//     each one reported must never go back for one process reading one key from one server
//     (the optional "server" field; reads without it count as one server).
// Every register starts absent.
//
// Thread-safety: check() is a pure function of its arguments; call it from any thread.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "lincheck/history.h"

namespace pc::lincheck {

struct CheckOptions {
  // Budgets for the search over all keys; zero means none. Steps make a run reproducible
  // (the simulation uses them); wall time bounds a command-line run.
  std::chrono::milliseconds time_budget{0};
  std::uint64_t step_budget = 0;
  // After a violation, shrink the failing key's history to a smaller failing one (see
  // CheckResult::minimal). Its own budgets, so a slow shrink never hides the verdict.
  bool minimize = true;
  std::chrono::milliseconds minimize_time_budget{10'000};
  std::uint64_t minimize_step_budget = 0;
};

enum class Verdict : std::uint8_t { kLinearizable, kViolation, kTimedOut };

struct KeyResult {
  std::string key;
  std::size_t ops = 0;          // operations on the key in the history
  std::size_t ops_checked = 0;  // of which searched (stale, failed and unknown reads are not)
  Verdict verdict = Verdict::kLinearizable;
  std::uint64_t steps = 0;
};

// A process whose stale reads saw the index go back: `later` was invoked after `earlier`.
struct StaleIndexViolation {
  std::uint64_t process = 0;
  Operation earlier;
  Operation later;
};

struct CheckResult {
  // kViolation if any key or the stale index check failed; else kTimedOut if any key ran
  // out of budget; else kLinearizable.
  Verdict verdict = Verdict::kLinearizable;
  std::vector<KeyResult> keys;  // sorted by key
  // The first key (in key order) found not linearizable, and a sub-history of it that is
  // still not linearizable. `minimal_is_one_minimal`: removing any single operation from it
  // makes it linearizable (false when the shrink ran out of budget first).
  std::string failing_key;
  History minimal;
  bool minimal_is_one_minimal = false;
  std::size_t stale_reads_checked = 0;
  std::vector<StaleIndexViolation> stale_violations;
};

// InvalidArgument when an operation is malformed (a return before its call, a known
// outcome without a return time, ...), naming its line when it came from a file.
core::Result<CheckResult> check(const History& history, const CheckOptions& options = {});

std::string_view verdict_name(Verdict verdict);

}  // namespace pc::lincheck
