// proconsul-lincheck: checks a recorded JSON Lines history (docs/testing.md) for
// linearizability and prints a summary.
//
// Exit codes (a contract with the fault test bed): 0 linearizable, 1 violation (with a
// minimal failing sub-history), 2 bad input or usage, 3 out of time before a verdict.
#include <fmt/core.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "lincheck/checker.h"
#include "lincheck/format.h"
#include "lincheck/jsonl.h"

namespace {

constexpr int kExitLinearizable = 0;
constexpr int kExitViolation = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitTimedOut = 3;

constexpr std::string_view kUsage =
    "usage: proconsul-lincheck [--time-budget-ms=N] [--minimize-budget-ms=N] [--no-minimize]\n"
    "                          <history.jsonl>\n"
    "exit: 0 linearizable, 1 violation, 2 bad input, 3 timed out\n";

struct Args {
  std::string path;
  pc::lincheck::CheckOptions options;
};

bool parse_ms(std::string_view text, std::chrono::milliseconds& out) {
  std::uint64_t ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  out = std::chrono::milliseconds(ms);
  return true;
}

bool parse_args(int argc, char** argv, Args& args) {
  // Default: a minute for the search, ten seconds for the shrink; 0 means no limit.
  args.options.time_budget = std::chrono::milliseconds(60'000);
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    constexpr std::string_view kTime = "--time-budget-ms=";
    constexpr std::string_view kShrink = "--minimize-budget-ms=";
    if (a.starts_with(kTime)) {
      if (!parse_ms(a.substr(kTime.size()), args.options.time_budget)) return false;
    } else if (a.starts_with(kShrink)) {
      if (!parse_ms(a.substr(kShrink.size()), args.options.minimize_time_budget)) return false;
    } else if (a == "--no-minimize") {
      args.options.minimize = false;
    } else if (a.starts_with("-") || !args.path.empty()) {
      return false;
    } else {
      args.path = std::string(a);
    }
  }
  return !args.path.empty();
}

void print_summary(const pc::lincheck::History& history) {
  std::map<std::string_view, std::size_t> by_type;
  for (const auto& op : history) {
    std::string_view type = op.type == pc::lincheck::OpType::kWrite  ? "write"
                            : op.type == pc::lincheck::OpType::kRead ? "read"
                                                                     : "cas";
    ++by_type[type];
  }
  std::string counts;
  for (const auto& [type, n] : by_type) counts += fmt::format(" {}={}", type, n);
  std::printf("history: %zu ops:%s\n", history.size(), counts.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) {
    std::fputs(kUsage.data(), stderr);
    return kExitBadInput;
  }
  std::ifstream in(args.path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "proconsul-lincheck: cannot open %s\n", args.path.c_str());
    return kExitBadInput;
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto history = pc::lincheck::parse_history_jsonl(bytes.str());
  if (!history) {
    std::fprintf(stderr, "proconsul-lincheck: %s: %s\n", args.path.c_str(),
                 history.error().message.c_str());
    return kExitBadInput;
  }
  print_summary(*history);
  auto result = pc::lincheck::check(*history, args.options);
  if (!result) {
    std::fprintf(stderr, "proconsul-lincheck: %s: %s\n", args.path.c_str(),
                 result.error().message.c_str());
    return kExitBadInput;
  }
  std::printf("keys checked: %zu\n%s", result->keys.size(),
              pc::lincheck::format_report(*result).c_str());
  switch (result->verdict) {
    case pc::lincheck::Verdict::kLinearizable: return kExitLinearizable;
    case pc::lincheck::Verdict::kViolation: return kExitViolation;
    case pc::lincheck::Verdict::kTimedOut: return kExitTimedOut;
  }
  return kExitBadInput;
}
