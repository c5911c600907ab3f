#include "http/query.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/rand.h"

namespace pc::http {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

Request with_query(std::vector<std::pair<std::string, std::string>> query) {
  Request req;
  req.method = "GET";
  req.path = "/v1/kv/a";
  req.query = std::move(query);
  return req;
}

// A Rand that always returns one value, to pin the jitter.
class FixedRand final : public core::Rand {
 public:
  explicit FixedRand(std::uint64_t v) : v_(v) {}
  std::uint64_t next_u64() override { return v_; }

 private:
  std::uint64_t v_;
};

TEST(QueryOptions, Defaults) {
  FixedRand zero(0);
  auto q = parse_query_options(with_query({}), zero);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->min_index, 0u);
  EXPECT_FALSE(q->blocking());
  EXPECT_EQ(q->wait, minutes(5));
  EXPECT_FALSE(q->stale);
  EXPECT_FALSE(q->consistent);
  EXPECT_EQ(q->dc, "");
  EXPECT_EQ(q->token, "");
  EXPECT_EQ(q->filter, "");
}

TEST(QueryOptions, IndexWaitDcFilter) {
  FixedRand zero(0);
  auto q = parse_query_options(
      with_query({{"index", "42"}, {"wait", "30s"}, {"dc", "us-east-1"}, {"filter", "a == b"}}),
      zero);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->min_index, 42u);
  EXPECT_TRUE(q->blocking());
  EXPECT_EQ(q->wait, seconds(30));
  EXPECT_EQ(q->dc, "us-east-1");
  EXPECT_EQ(q->filter, "a == b");
}

TEST(QueryOptions, FirstValueCountsAndEmptyIsAbsent) {
  FixedRand zero(0);
  auto q = parse_query_options(with_query({{"index", "7"}, {"index", "9"}, {"wait", ""}}), zero);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->min_index, 7u);
  EXPECT_EQ(q->wait, minutes(5));
}

TEST(QueryOptions, BadIndex) {
  FixedRand zero(0);
  for (const char* bad : {"abc", "-1", "+1", "1.5", "18446744073709551616", " 1"}) {
    auto q = parse_query_options(with_query({{"index", bad}}), zero);
    ASSERT_FALSE(q.has_value()) << bad;
    EXPECT_EQ(q.error().code, core::Code::kInvalidArgument);
    EXPECT_EQ(q.error().message, "Invalid index");
  }
  auto max = parse_query_options(with_query({{"index", "18446744073709551615"}}), zero);
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->min_index, 18446744073709551615ull);
}

TEST(QueryOptions, BadWait) {
  FixedRand zero(0);
  for (const char* bad : {"10", "abc", "5 s", "1x"}) {
    auto q = parse_query_options(with_query({{"wait", bad}}), zero);
    ASSERT_FALSE(q.has_value()) << bad;
    EXPECT_EQ(q.error().message, "Invalid wait time");
  }
}

TEST(QueryOptions, WaitClampedToMaxAndZeroMeansDefault) {
  FixedRand zero(0);
  auto big = parse_query_options(with_query({{"wait", "1h"}}), zero);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->wait, minutes(10));
  auto z = parse_query_options(with_query({{"wait", "0s"}}), zero);
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->wait, minutes(5));
  auto neg = parse_query_options(with_query({{"wait", "-5s"}}), zero);
  ASSERT_TRUE(neg.has_value());
  EXPECT_EQ(neg->wait, minutes(5));
}

TEST(QueryOptions, JitterBelowOneSixteenth) {
  // The largest random value gives the largest jitter, which stays below wait/16.
  FixedRand max_rand(~0ull);
  auto q = parse_query_options(with_query({{"wait", "16s"}}), max_rand);
  ASSERT_TRUE(q.has_value());
  EXPECT_GE(q->wait, seconds(16));
  EXPECT_LT(q->wait, seconds(17));
  auto capped = parse_query_options(with_query({{"wait", "1h"}}), max_rand);
  ASSERT_TRUE(capped.has_value());
  EXPECT_LT(capped->wait, minutes(10) + std::chrono::nanoseconds(minutes(10)) / 16);

  core::SystemRand rand(1234);
  bool varied = false;
  core::Duration first{0};
  for (int i = 0; i < 200; ++i) {
    auto r = parse_query_options(with_query({{"wait", "160s"}}), rand);
    ASSERT_TRUE(r.has_value());
    EXPECT_GE(r->wait, seconds(160));
    EXPECT_LT(r->wait, seconds(170));
    if (i == 0) first = r->wait;
    if (r->wait != first) varied = true;
  }
  EXPECT_TRUE(varied);
  // The process-wide source obeys the same bound.
  auto p = parse_query_options(with_query({{"wait", "16s"}}));
  ASSERT_TRUE(p.has_value());
  EXPECT_LT(p->wait, seconds(17));
}

TEST(QueryOptions, StaleAndConsistentConflict) {
  FixedRand zero(0);
  auto q = parse_query_options(with_query({{"stale", ""}, {"consistent", ""}}), zero);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().message, "Cannot specify ?stale with ?consistent, conflicting semantics.");
  // Consistency is checked before the wait, as in Consul's parse.
  auto both = parse_query_options(
      with_query({{"wait", "bad"}, {"stale", "1"}, {"consistent", "false"}}), zero);
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error().message, "Cannot specify ?stale with ?consistent, conflicting semantics.");
  auto stale = parse_query_options(with_query({{"stale", "false"}}), zero);
  ASSERT_TRUE(stale.has_value());
  EXPECT_TRUE(stale->stale);  // presence is what counts
}

TEST(QueryOptions, MaxStaleImpliesStale) {
  FixedRand zero(0);
  auto q = parse_query_options(with_query({{"max_stale", "5s"}}), zero);
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(q->stale);
  EXPECT_EQ(q->max_stale, seconds(5));
  auto bad = parse_query_options(with_query({{"max_stale", "x"}}), zero);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "Invalid max_stale value \"x\"");
  auto conflict = parse_query_options(with_query({{"max_stale", "5s"}, {"consistent", ""}}), zero);
  ASSERT_FALSE(conflict.has_value());
}

TEST(QueryOptions, TokenSources) {
  Request req = with_query({});
  EXPECT_EQ(parse_token(req), "");
  req.headers = {{"authorization", "Bearer  abc def"}};
  EXPECT_EQ(parse_token(req), "abc");
  req.headers = {{"authorization", "bearer xyz"}};
  EXPECT_EQ(parse_token(req), "xyz");
  req.headers = {{"authorization", "Basic dXNlcjpwYXNz"}};
  EXPECT_EQ(parse_token(req), "");
  req.headers = {{"authorization", "Bearer"}};
  EXPECT_EQ(parse_token(req), "");
  req.headers = {{"authorization", "Bearer b"}, {"x-consul-token", "h"}};
  EXPECT_EQ(parse_token(req), "h");  // X-Consul-Token before Authorization
  req.query = {{"token", "q"}};
  EXPECT_EQ(parse_token(req), "q");  // ?token before both
  req.query = {{"token", ""}};
  EXPECT_EQ(parse_token(req), "h");  // an empty ?token is absent
  FixedRand zero(0);
  auto q = parse_query_options(req, zero);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->token, "h");
}

TEST(QueryOptions, FlagPresence) {
  Request req = with_query({{"recurse", ""}, {"keys", "True"}, {"raw", "false"}});
  EXPECT_TRUE(query_flag(req, "recurse"));
  EXPECT_TRUE(query_flag(req, "keys"));
  EXPECT_TRUE(query_flag(req, "raw"));
  EXPECT_FALSE(query_flag(req, "cas"));
}

TEST(QueryOptions, BlockingReadCarriesIndexAndWait) {
  FixedRand zero(0);
  auto q = parse_query_options(with_query({{"index", "5"}, {"wait", "2s"}}), zero);
  ASSERT_TRUE(q.has_value());
  BlockingRead br = blocking_read(*q, [](state::WatchSet&) { return ReadOutcome{}; });
  EXPECT_EQ(br.min_index, 5u);
  EXPECT_EQ(br.wait, seconds(2));
  EXPECT_TRUE(br.run);
}

}  // namespace
}  // namespace pc::http
