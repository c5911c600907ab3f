// Known linearizable and known non-linearizable histories for check() (lincheck/checker.h).
#include "lincheck/checker.h"

#include <gtest/gtest.h>

#include "lincheck/format.h"
#include "lincheck/tests/history_builder.h"

namespace pc::lincheck {
namespace {

using namespace testing;  // NOLINT: the builders read as a history

constexpr std::nullopt_t kAbsent = std::nullopt;

Verdict verdict_of(const History& h, const CheckOptions& options = {}) {
  auto r = check(h, options);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  if (r->verdict == Verdict::kViolation) std::printf("%s", format_report(*r).c_str());
  return r->verdict;
}

TEST(Checker, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(verdict_of({}), Verdict::kLinearizable);
}

TEST(Checker, SequentialWriteThenRead) {
  EXPECT_EQ(verdict_of({write("k", "v1", 0, 10), read("k", "v1", 20, 30)}), Verdict::kLinearizable);
}

TEST(Checker, ReadBeforeAnyWriteSeesAbsent) {
  EXPECT_EQ(verdict_of({read("k", kAbsent, 0, 5), write("k", "v1", 10, 20)}),
            Verdict::kLinearizable);
}

TEST(Checker, StaleReadAfterAcknowledgedWrite) {
  History h{write("k", "v1", 0, 10), write("k", "v2", 20, 30), read("k", "v1", 40, 50)};
  auto r = check(h);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verdict, Verdict::kViolation);
  EXPECT_EQ(r->failing_key, "k");
  // Every operation is needed to explain it, and the shrink must keep the writer of v1.
  EXPECT_EQ(r->minimal.size(), 3u);
  EXPECT_TRUE(r->minimal_is_one_minimal);
}

TEST(Checker, ConcurrentWritesReadInEitherOrder) {
  History base{write("k", "v1", 0, 100), write("k", "v2", 10, 90)};
  for (const char* first : {"v1", "v2"}) {
    const char* second = std::string(first) == "v1" ? "v2" : "v1";
    History h = base;
    // During the writes a read may see one and then the other, but not switch back.
    h.push_back(read("k", first, 20, 30));
    h.push_back(read("k", second, 40, 50));
    EXPECT_EQ(verdict_of(h), Verdict::kLinearizable) << first;
    h.push_back(read("k", first, 110, 120));
    EXPECT_EQ(verdict_of(h), Verdict::kViolation) << first;
  }
}

TEST(Checker, LostWrite) {
  History h{write("k", "v1", 0, 10), read("k", kAbsent, 20, 30)};
  auto r = check(h);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verdict, Verdict::kViolation);
  EXPECT_EQ(r->minimal.size(), 2u);
}

TEST(Checker, DeleteThenReadAbsent) {
  EXPECT_EQ(verdict_of(
                {write("k", "v1", 0, 10), write("k", kAbsent, 20, 30), read("k", kAbsent, 40, 50)}),
            Verdict::kLinearizable);
  EXPECT_EQ(
      verdict_of({write("k", "v1", 0, 10), write("k", kAbsent, 20, 30), read("k", "v1", 40, 50)}),
      Verdict::kViolation);
}

TEST(Checker, CasSucceedsOnExpectedValue) {
  EXPECT_EQ(verdict_of({write("k", "v1", 0, 10), cas("k", "v1", "v2", Outcome::kOk, 20, 30),
                        read("k", "v2", 40, 50)}),
            Verdict::kLinearizable);
  // A cas on an absent key.
  EXPECT_EQ(verdict_of({cas("k", kAbsent, "v1", Outcome::kOk, 0, 10), read("k", "v1", 20, 30)}),
            Verdict::kLinearizable);
}

TEST(Checker, CasSucceedingOnAnotherValueIsAViolation) {
  EXPECT_EQ(verdict_of({write("k", "v1", 0, 10), cas("k", "v0", "v2", Outcome::kOk, 20, 30)}),
            Verdict::kViolation);
}

TEST(Checker, CasFailingWhenItMustHaveSucceededIsAViolation) {
  EXPECT_EQ(verdict_of({write("k", "v1", 0, 10), cas("k", "v1", "v2", Outcome::kFailed, 20, 30)}),
            Verdict::kViolation);
}

TEST(Checker, FailedCasHasNoEffect) {
  EXPECT_EQ(verdict_of({write("k", "v1", 0, 10), cas("k", "v0", "v2", Outcome::kFailed, 20, 30),
                        read("k", "v1", 40, 50)}),
            Verdict::kLinearizable);
  EXPECT_EQ(verdict_of({write("k", "v1", 0, 10), cas("k", "v0", "v2", Outcome::kFailed, 20, 30),
                        read("k", "v2", 40, 50)}),
            Verdict::kViolation);
}

TEST(Checker, CasMayFailWhenAConcurrentWriteChangedTheValue) {
  EXPECT_EQ(verdict_of({write("k", "v1", 0, 10), write("k", "v3", 15, 40),
                        cas("k", "v1", "v2", Outcome::kFailed, 20, 30)}),
            Verdict::kLinearizable);
}

TEST(Checker, UnknownCasMayTakeEffectOrNot) {
  History took{write("k", "v1", 0, 10), cas("k", "v1", "v2", Outcome::kUnknown, 20, 0),
               read("k", "v2", 40, 50)};
  EXPECT_EQ(verdict_of(took), Verdict::kLinearizable);
  History did_not{write("k", "v1", 0, 10), cas("k", "v1", "v2", Outcome::kUnknown, 20, 0),
                  read("k", "v1", 40, 50)};
  EXPECT_EQ(verdict_of(did_not), Verdict::kLinearizable);
  // But not before it was called.
  History early{write("k", "v1", 0, 10), read("k", "v2", 12, 15),
                cas("k", "v1", "v2", Outcome::kUnknown, 20, 0)};
  EXPECT_EQ(verdict_of(early), Verdict::kViolation);
}

TEST(Checker, UnknownWriteThatTookEffect) {
  EXPECT_EQ(verdict_of({write_unknown("k", "v1", 0), read("k", "v1", 100, 110)}),
            Verdict::kLinearizable);
  // Late: long after the client gave up.
  EXPECT_EQ(verdict_of({write_unknown("k", "v1", 0), read("k", kAbsent, 100, 110),
                        read("k", "v1", 1000, 1010)}),
            Verdict::kLinearizable);
}

TEST(Checker, UnknownWriteThatNeverTookEffect) {
  EXPECT_EQ(
      verdict_of({write("k", "v0", 0, 5), write_unknown("k", "v1", 10), read("k", "v0", 100, 110)}),
      Verdict::kLinearizable);
}

TEST(Checker, UnknownWriteSeenBeforeItsCall) {
  EXPECT_EQ(verdict_of({read("k", "v1", 0, 5), write_unknown("k", "v1", 10)}), Verdict::kViolation);
}

TEST(Checker, UnknownWriteCannotComeBackAfterBeingOverwritten) {
  EXPECT_EQ(verdict_of({write_unknown("k", "v1", 0), read("k", "v1", 10, 20),
                        write("k", "v2", 30, 40), read("k", "v1", 50, 60)}),
            Verdict::kViolation);
}

TEST(Checker, ReadOfAValueNeverWritten) {
  auto r = check({write("k", "v1", 0, 10), read("k", "v9", 20, 30)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verdict, Verdict::kViolation);
  // The write does not explain the read, so the shrink drops it.
  ASSERT_EQ(r->minimal.size(), 1u);
  EXPECT_EQ(r->minimal[0].value, "v9");
}

TEST(Checker, UnknownAndFailedReadsAreDropped) {
  Operation unknown = read("k", "v9", 20, 30);
  unknown.outcome = Outcome::kUnknown;
  unknown.return_ns.reset();
  Operation failed = read("k", "v8", 20, 30);
  failed.outcome = Outcome::kFailed;
  auto r = check({write("k", "v1", 0, 10), unknown, failed});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verdict, Verdict::kLinearizable);
  EXPECT_EQ(r->keys.at(0).ops, 3u);
  EXPECT_EQ(r->keys.at(0).ops_checked, 1u);
}

TEST(Checker, StaleReadsAreNotCheckedForLinearizability) {
  EXPECT_EQ(verdict_of({write("k", "v1", 0, 10), write("k", "v2", 20, 30),
                        stale_read("k", "v1", 5, 40, 50, 7)}),
            Verdict::kLinearizable);
}

TEST(Checker, StaleIndexGoingBackwards) {
  History h{stale_read("k", "v1", 7, 0, 10, 3), stale_read("k", "v1", 9, 20, 30, 3),
            stale_read("k", "v1", 8, 40, 50, 3),
            // Another process may lag behind the first.
            stale_read("k", "v1", 2, 60, 70, 4)};
  auto r = check(h);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verdict, Verdict::kViolation);
  EXPECT_EQ(r->stale_reads_checked, 4u);
  ASSERT_EQ(r->stale_violations.size(), 1u);
  EXPECT_EQ(r->stale_violations[0].process, 3u);
  EXPECT_EQ(r->stale_violations[0].earlier.index, 9u);
  EXPECT_EQ(r->stale_violations[0].later.index, 8u);
  h.pop_back();
  h[2].index = 9;  // equal is fine
  EXPECT_EQ(verdict_of(h), Verdict::kLinearizable);
}

// Only one server's view of one key must move forward: another key, or another server that
// lags behind, may report a lower index.
TEST(Checker, StaleIndexIsPerKeyAndServer) {
  auto at = [](Operation op, const char* server) {
    op.server = server;
    return op;
  };
  History h{at(stale_read("k", "v1", 9, 0, 10, 3), "s1"),
            at(stale_read("other", "v1", 2, 20, 30, 3), "s1"),
            at(stale_read("k", "v1", 5, 40, 50, 3), "s2")};
  EXPECT_EQ(verdict_of(h), Verdict::kLinearizable);
  h.push_back(at(stale_read("k", "v1", 8, 60, 70, 3), "s1"));
  EXPECT_EQ(verdict_of(h), Verdict::kViolation);
}

TEST(Checker, KeysAreIndependent) {
  History h{write("a", "v1", 0, 10), write("b", "v2", 0, 10), read("a", "v1", 20, 30),
            read("b", kAbsent, 20, 30), read("c", kAbsent, 0, 1)};
  auto r = check(h);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verdict, Verdict::kViolation);
  ASSERT_EQ(r->keys.size(), 3u);
  EXPECT_EQ(r->keys[0].verdict, Verdict::kLinearizable);
  EXPECT_EQ(r->keys[1].verdict, Verdict::kViolation);
  EXPECT_EQ(r->keys[2].verdict, Verdict::kLinearizable);
  EXPECT_EQ(r->failing_key, "b");
}

TEST(Checker, ShrinksToTheFailingCore) {
  History h;
  std::uint64_t t = 0;
  for (int i = 0; i < 40; ++i, t += 100) {
    std::string v = "v" + std::to_string(i);
    h.push_back(write("k", v, t, t + 60));
    h.push_back(read("k", v, t + 70, t + 80));
  }
  // The lost write: acknowledged, then never seen.
  h.push_back(write("k", "lost", t, t + 10));
  h.push_back(read("k", "v39", t + 20, t + 30));
  auto r = check(h);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->verdict, Verdict::kViolation);
  EXPECT_TRUE(r->minimal_is_one_minimal);
  // Its core: v39 written, "lost" written after it, v39 read again.
  EXPECT_EQ(r->minimal.size(), 3u) << format_history(r->minimal);
}

TEST(Checker, RefusesAReturnBeforeItsCall) {
  auto r = check({write("k", "v1", 10, 5)});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::Code::kInvalidArgument);
}

TEST(Checker, RunsOutOfBudget) {
  History h;
  for (std::uint64_t i = 0; i < 50; ++i) h.push_back(write("k", "v" + std::to_string(i), 0, 100));
  CheckOptions o;
  o.step_budget = 10;
  EXPECT_EQ(verdict_of(h, o), Verdict::kTimedOut);
}

TEST(Checker, ReportNamesTheViolation) {
  auto r = check({write("k", "v1", 0, 10), read("k", kAbsent, 20, 30)});
  ASSERT_TRUE(r.has_value());
  std::string report = format_report(*r);
  EXPECT_NE(report.find("NOT linearizable"), std::string::npos) << report;
  EXPECT_NE(report.find("write k = \"v1\""), std::string::npos) << report;
  EXPECT_NE(report.find("read k -> <absent>"), std::string::npos) << report;
}

}  // namespace
}  // namespace pc::lincheck
