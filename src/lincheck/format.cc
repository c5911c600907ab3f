// Renderings for people (lincheck/format.h).
#include "lincheck/format.h"

#include <fmt/core.h>

#include <algorithm>

namespace pc::lincheck {
namespace {

std::string show(const Value& v) {
  return v ? fmt::format("\"{}\"", *v) : std::string("<absent>");
}

std::string show_time(std::uint64_t ns, std::uint64_t origin_ns) {
  const std::uint64_t d = ns - std::min(ns, origin_ns);
  return fmt::format("+{}.{:06}ms", d / 1'000'000, d % 1'000'000);
}

std::string_view outcome_name(const Operation& op) {
  switch (op.outcome) {
    case Outcome::kOk: return "ok";
    case Outcome::kFailed: return "failed";
    case Outcome::kUnknown: return "unknown";
  }
  return "?";
}

std::string body(const Operation& op) {
  switch (op.type) {
    case OpType::kWrite:
      return op.value ? fmt::format("write {} = {}", op.key, show(op.value))
                      : fmt::format("delete {}", op.key);
    case OpType::kRead: {
      std::string out = fmt::format("read {} -> {}", op.key, show(op.value));
      if (op.mode == ReadMode::kStale) out += " (stale)";
      if (op.mode == ReadMode::kConsistent) out += " (consistent)";
      if (op.index) out += fmt::format(" index {}", *op.index);
      return out;
    }
    case OpType::kCas:
      return fmt::format("cas {} {} -> {}", op.key, show(op.expected), show(op.value));
  }
  return "?";
}

}  // namespace

std::string format_operation(const Operation& op, std::uint64_t origin_ns) {
  std::string ret = op.outcome == Outcome::kUnknown || !op.return_ns
                        ? std::string("never")
                        : show_time(*op.return_ns, origin_ns);
  std::string out = fmt::format("[{}, {}] p{} {} {}", show_time(op.call_ns, origin_ns), ret,
                                op.process, body(op), outcome_name(op));
  if (op.line != 0) out += fmt::format("  (line {})", op.line);
  return out;
}

std::string format_history(const History& history) {
  std::vector<const Operation*> ops;
  std::uint64_t origin = history.empty() ? 0 : history.front().call_ns;
  for (const Operation& op : history) {
    ops.push_back(&op);
    origin = std::min(origin, op.call_ns);
  }
  std::stable_sort(ops.begin(), ops.end(),
                   [](const Operation* a, const Operation* b) { return a->call_ns < b->call_ns; });
  std::string out;
  for (const Operation* op : ops) out += "  " + format_operation(*op, origin) + "\n";
  return out;
}

std::string format_report(const CheckResult& result) {
  std::string out;
  for (const KeyResult& k : result.keys) {
    out += fmt::format("key {}: {} ops, {} checked: {} ({} steps)\n", k.key, k.ops, k.ops_checked,
                       verdict_name(k.verdict), k.steps);
  }
  out += fmt::format("stale reads: {} checked, {} index regression(s)\n",
                     result.stale_reads_checked, result.stale_violations.size());
  for (const StaleIndexViolation& v : result.stale_violations) {
    History pair{v.earlier, v.later};
    out +=
        fmt::format("stale index went back for process {}:\n{}", v.process, format_history(pair));
  }
  if (!result.failing_key.empty()) {
    out += fmt::format("minimal failing sub-history of key {} ({} ops{}):\n{}", result.failing_key,
                       result.minimal.size(),
                       result.minimal_is_one_minimal ? ", one-minimal" : ", shrink cut short",
                       format_history(result.minimal));
  }
  out += fmt::format("result: {}\n", verdict_name(result.verdict));
  return out;
}

}  // namespace pc::lincheck
