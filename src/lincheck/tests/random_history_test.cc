// Random histories that are linearizable by construction: a sequential model of a few
// registers decides every result, and each operation's interval is jittered around its
// linearization point so that many overlap. The checker must accept them quickly, and must
// reject them once a single read is corrupted.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "core/split_mix64.h"
#include "lincheck/checker.h"
#include "lincheck/format.h"
#include "lincheck/tests/history_builder.h"

namespace pc::lincheck {
namespace {

using Rng = core::SplitMix64;

struct GeneratedHistory {
  History history;
  std::size_t reads = 0;
};

// `ops` operations over `keys` registers; a linearization point every 10 ns, each interval
// reaching up to `jitter` ns on either side of it.
GeneratedHistory generate(std::uint64_t seed, int ops, int keys, std::uint64_t jitter) {
  Rng rng(seed);
  std::map<std::string, Value> model;
  GeneratedHistory out;
  int written = 0;
  for (int i = 0; i < ops; ++i) {
    const std::uint64_t at = 1000 + 10 * static_cast<std::uint64_t>(i);
    const std::uint64_t call = at - rng.below(jitter + 1);
    const std::uint64_t ret = at + rng.below(jitter + 1);
    std::string key = "k" + std::to_string(rng.below(static_cast<std::uint64_t>(keys)));
    Value& reg = model[key];
    Operation op;
    switch (rng.below(10)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        Value v = rng.below(8) == 0 ? Value() : Value("v" + std::to_string(++written));
        op = testing::write(key, v, call, ret);
        if (rng.below(10) == 0) {
          // Unknown: it took effect at its point, or (half the time) never did.
          op.outcome = Outcome::kUnknown;
          op.return_ns.reset();
          if (rng.below(2) == 0) break;
        }
        reg = v;
        break;
      }
      case 4:
      case 5: {
        // Expect the current value (success) or a stale guess (failure).
        Value expected = rng.below(2) == 0 ? reg : Value("v" + std::to_string(written + 1000));
        Value v("v" + std::to_string(++written));
        bool ok = expected == reg;
        op = testing::cas(key, expected, v, ok ? Outcome::kOk : Outcome::kFailed, call, ret);
        if (ok) reg = v;
        break;
      }
      default:
        op = testing::read(key, reg, call, ret);
        ++out.reads;
        break;
    }
    op.process = static_cast<std::uint64_t>(i % 7);
    out.history.push_back(std::move(op));
  }
  return out;
}

TEST(RandomHistory, LinearizableByConstructionPassesFast) {
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t steps = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    GeneratedHistory g = generate(seed, 1500, 3, 60);
    auto r = check(g.history);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->verdict, Verdict::kLinearizable) << "seed " << seed << "\n" << format_report(*r);
    for (const KeyResult& k : r->keys) steps += k.steps;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("20 random histories of 1500 ops: %llu steps, %lld ms\n",
              static_cast<unsigned long long>(steps),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(RandomHistory, ACorruptedReadIsCaught) {
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    GeneratedHistory g = generate(seed, 300, 3, 60);
    // The last read of the history now returns a value nobody wrote.
    for (auto it = g.history.rbegin(); it != g.history.rend(); ++it) {
      if (it->type == OpType::kRead) {
        it->value = "never-written";
        break;
      }
    }
    auto r = check(g.history);
    ASSERT_TRUE(r.has_value());
    if (r->verdict == Verdict::kViolation) ++caught;
    EXPECT_EQ(r->verdict, Verdict::kViolation) << "seed " << seed;
    EXPECT_EQ(r->minimal.size(), 1u);
  }
  EXPECT_EQ(caught, 20);
}

TEST(RandomHistory, AReadOfAnOverwrittenValueIsCaught) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    GeneratedHistory g = generate(seed, 200, 1, 60);
    // Append, long after everything, a write and then a read of the value it replaced...
    History& h = g.history;
    h.push_back(testing::write("k0", "final", 100'000, 100'010));
    h.push_back(testing::read("k0", "final", 100'020, 100'030));
    EXPECT_EQ(check(h)->verdict, Verdict::kLinearizable) << "seed " << seed;
    // ...which must fail once the read claims an earlier acknowledged value.
    Value earlier;
    for (const Operation& op : h) {
      if (op.type != OpType::kRead && op.outcome == Outcome::kOk && op.value) {
        earlier = op.value;
        break;
      }
    }
    ASSERT_TRUE(earlier.has_value());
    h.back().value = earlier;
    auto r = check(h);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->verdict, Verdict::kViolation) << "seed " << seed;
  }
}

}  // namespace
}  // namespace pc::lincheck
