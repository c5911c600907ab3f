// check(): validation, the split by key, the stale index check, and the translation of each
// key's operations into the register search (lincheck/detail/register_search.h).
#include "lincheck/checker.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "lincheck/detail/register_search.h"

namespace pc::lincheck {
namespace {

using detail::RegisterOp;
using detail::Step;

std::string where(const Operation& op, std::size_t position) {
  if (op.line != 0) return fmt::format("line {}", op.line);
  return fmt::format("operation {}", position + 1);
}

core::Status validate(const History& history) {
  for (std::size_t i = 0; i < history.size(); ++i) {
    const Operation& op = history[i];
    if (op.outcome != Outcome::kUnknown) {
      if (!op.return_ns) {
        return core::make_error(
            core::Code::kInvalidArgument,
            fmt::format("{}: a known outcome needs a return time", where(op, i)));
      }
      if (*op.return_ns < op.call_ns) {
        return core::make_error(core::Code::kInvalidArgument,
                                fmt::format("{}: returned before its call", where(op, i)));
      }
    }
  }
  return core::ok();
}

bool is_searched(const Operation& op) {
  if (op.type == OpType::kRead) return op.outcome == Outcome::kOk && op.mode != ReadMode::kStale;
  if (op.type == OpType::kWrite) return op.outcome != Outcome::kFailed;
  return true;
}

// Interns a key's values as small integers (kAbsent for none).
class Values {
 public:
  std::int32_t id(const Value& v) {
    if (!v) return detail::kAbsent;
    auto [it, fresh] = ids_.emplace(*v, static_cast<std::int32_t>(ids_.size()));
    return it->second;
  }

 private:
  std::map<std::string, std::int32_t> ids_;
};

RegisterOp to_register_op(const Operation& op, std::size_t source, Values& values) {
  RegisterOp r;
  r.source = source;
  r.call = op.call_ns;
  r.ret = op.outcome == Outcome::kUnknown ? detail::kNever : *op.return_ns;
  r.value = values.id(op.value);
  switch (op.type) {
    case OpType::kWrite: r.step = Step::kWrite; break;
    case OpType::kRead: r.step = Step::kRead; break;
    case OpType::kCas:
      r.expected = values.id(op.expected);
      r.step = op.outcome == Outcome::kOk       ? Step::kCas
               : op.outcome == Outcome::kFailed ? Step::kReadNot
                                                : Step::kCasUnknown;
      break;
  }
  return r;
}

// An unknown write of a value nobody observed can always be linearized last, and leaving it
// out changes nothing else when the key has no failed or unknown cas (whose outcome could
// hinge on the value it overwrote). Dropping such writes keeps the search from trying every
// place for them, which is exponential in their number.
std::vector<RegisterOp> drop_unobserved_unknown_writes(std::vector<RegisterOp> ops) {
  std::set<std::int32_t> observed;
  for (const RegisterOp& op : ops) {
    if (op.step == Step::kCasUnknown || op.step == Step::kReadNot) return ops;
    if (op.step == Step::kRead) observed.insert(op.value);
    if (op.step == Step::kCas) observed.insert(op.expected);
  }
  std::erase_if(ops, [&](const RegisterOp& op) {
    return op.step == Step::kWrite && op.ret == detail::kNever && op.value != detail::kAbsent &&
           observed.count(op.value) == 0;
  });
  return ops;
}

// What a stale read promises: one server's view of one key only moves forward (its modify
// index, or the table's index once deleted). Across keys the indexes are unrelated, and
// another server may lag behind, so reads are compared per process, key and server.
void check_stale_indexes(const History& history, CheckResult& result) {
  using Stream = std::tuple<std::uint64_t, std::string, std::string>;  // process, key, server
  std::map<Stream, std::vector<const Operation*>> by_stream;
  for (const Operation& op : history) {
    if (op.type == OpType::kRead && op.mode == ReadMode::kStale && op.outcome == Outcome::kOk &&
        op.index) {
      by_stream[{op.process, op.key, op.server}].push_back(&op);
    }
  }
  for (auto& [stream, reads] : by_stream) {
    const std::uint64_t process = std::get<0>(stream);
    std::stable_sort(reads.begin(), reads.end(), [](const Operation* a, const Operation* b) {
      return a->call_ns < b->call_ns;
    });
    result.stale_reads_checked += reads.size();
    const Operation* highest = nullptr;
    for (const Operation* r : reads) {
      if (highest != nullptr && *r->index < *highest->index) {
        result.stale_violations.push_back({process, *highest, *r});
      }
      if (highest == nullptr || *r->index > *highest->index) highest = r;
    }
  }
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable: return "linearizable";
    case Verdict::kViolation: return "NOT linearizable";
    case Verdict::kTimedOut: return "unknown (out of budget)";
  }
  return "?";
}

core::Result<CheckResult> check(const History& history, const CheckOptions& options) {
  if (auto st = validate(history); !st) return st.error();
  CheckResult result;
  check_stale_indexes(history, result);
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < history.size(); ++i) by_key[history[i].key].push_back(i);

  detail::Budget budget(options.time_budget, options.step_budget);
  bool timed_out = false;
  for (const auto& [key, positions] : by_key) {
    KeyResult kr;
    kr.key = key;
    kr.ops = positions.size();
    Values values;
    std::vector<RegisterOp> ops;
    for (std::size_t p : positions) {
      if (is_searched(history[p])) ops.push_back(to_register_op(history[p], p, values));
    }
    kr.ops_checked = ops.size();
    // In call order, so that the shrink's chunks are stretches of time.
    std::stable_sort(ops.begin(), ops.end(),
                     [](const RegisterOp& a, const RegisterOp& b) { return a.call < b.call; });
    std::vector<RegisterOp> searched = drop_unobserved_unknown_writes(ops);
    const std::uint64_t steps_before = budget.steps();
    switch (detail::search(searched, budget)) {
      case detail::SearchOutcome::kLinearizable: kr.verdict = Verdict::kLinearizable; break;
      case detail::SearchOutcome::kNotLinearizable: kr.verdict = Verdict::kViolation; break;
      case detail::SearchOutcome::kOutOfBudget:
        kr.verdict = Verdict::kTimedOut;
        timed_out = true;
        break;
    }
    kr.steps = budget.steps() - steps_before;
    if (kr.verdict == Verdict::kViolation && result.failing_key.empty()) {
      result.failing_key = key;
      std::vector<RegisterOp> failing = std::move(searched);
      if (options.minimize) {
        detail::Budget shrink_budget(options.minimize_time_budget, options.minimize_step_budget);
        detail::ShrinkResult shrunk = detail::shrink(std::move(failing), shrink_budget);
        failing = std::move(shrunk.ops);
        result.minimal_is_one_minimal = shrunk.one_minimal;
      }
      for (const RegisterOp& op : failing) result.minimal.push_back(history[op.source]);
      std::stable_sort(
          result.minimal.begin(), result.minimal.end(),
          [](const Operation& a, const Operation& b) { return a.call_ns < b.call_ns; });
    }
    result.keys.push_back(std::move(kr));
  }
  if (!result.failing_key.empty() || !result.stale_violations.empty()) {
    result.verdict = Verdict::kViolation;
  } else if (timed_out) {
    result.verdict = Verdict::kTimedOut;
  }
  return result;
}

}  // namespace pc::lincheck
