#pragma once
// Human-readable renderings of operations and check results, for test failures and the
// command-line tool. Times are printed relative to `origin_ns` (the earliest call).
#include <cstdint>
#include <string>

#include "lincheck/checker.h"
#include "lincheck/history.h"

namespace pc::lincheck {

// One line: "[+1.000000ms, +2.500000ms] p3 write k1 = \"v17\" ok".
std::string format_operation(const Operation& op, std::uint64_t origin_ns);
// One operation per line, sorted by call time, each indented by two spaces.
std::string format_history(const History& history);
// The per-key verdicts, the stale index check, and on a violation the minimal failing
// sub-history: what the command-line tool prints.
std::string format_report(const CheckResult& result);

}  // namespace pc::lincheck
