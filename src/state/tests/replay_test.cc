// Replay determinism: the same log applied to fresh stores, in any publish batching, yields
// byte-identical state. Plus the log entry encoding.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "state/tests/command_gen.h"
#include "state/tests/invariants.h"
#include "state/tests/store_test_util.h"

namespace pc::state {
namespace {

using proto::KvOp;
using testing::make_log;

// What an apply answered, flattened for comparison.
std::string describe(const ApplyResult& r) {
  std::string out = r.status ? "ok" : "err:" + r.status.error().message;
  out += r.ok ? "|true" : "|false";
  for (const auto& e : r.txn_results) {
    out += "|" + (e ? e->key + "=" + e->value + "@" + std::to_string(e->modify_index) : "-");
  }
  for (const auto& e : r.txn_errors) out += "|#" + std::to_string(e.op_index) + ":" + e.what;
  return out;
}

TEST(Replay, SameLogSameStateWhateverTheBatching) {
  for (std::uint64_t seed : {1u, 2u, 3u, 99u}) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    const auto log = make_log(seed, 3000);
    Store one_by_one;
    Store again;
    Store batched;
    std::mt19937_64 batch_rng(seed * 7919);
    std::vector<std::size_t> dump_hash;  // one_by_one's dump after each index
    std::size_t ok_locks = 0, failed_txns = 0, good_txns = 0, errors = 0, invalidations = 0;
    std::size_t catalog_ok = 0, catalog_errors = 0, sessions_ended = 0;
    for (std::size_t i = 0; i < log.size(); ++i) {
      const std::uint64_t index = i + 1;
      const std::size_t sessions_before = one_by_one.snapshot().session_list().size();
      if (log[i].has_session_destroy()) {
        invalidations +=
            !one_by_one.snapshot().session_locked_keys(log[i].session_destroy().id()).empty();
      }
      // Every command goes through the log encoding, as it would from disk.
      auto decoded = decode_command(encode_command(log[i]));
      ApplyResult a;
      if (decoded) {
        a = one_by_one.apply(index, *decoded);
      } else {
        a = one_by_one.apply(index, log[i]);  // the empty command has no body to decode
      }
      one_by_one.publish();
      ApplyResult b = again.apply(index, log[i]);
      again.publish();
      ApplyResult c = batched.apply(index, log[i]);
      if (batch_rng() % 13 == 0 || i + 1 == log.size()) {
        batched.publish();
        ASSERT_EQ(std::hash<std::string>{}(batched.snapshot().dump()),
                  std::hash<std::string>{}(one_by_one.snapshot().dump()))
            << "diverged by index " << index;
      }
      ASSERT_EQ(describe(a), describe(b)) << "at index " << index;
      ASSERT_EQ(describe(a), describe(c)) << "at index " << index;
      ASSERT_EQ(testing::check_store_invariants(one_by_one.snapshot()), "") << "at " << index;
      ok_locks += log[i].has_kv() && log[i].kv().verb() == KvOp::LOCK && a.ok;
      failed_txns += log[i].has_txn() && !a.ok;
      good_txns += log[i].has_txn() && a.ok && !a.txn_results.empty();
      errors += !a.status;
      if (log[i].has_catalog_register() || log[i].has_catalog_deregister()) {
        catalog_ok += a.status ? 1 : 0;
        catalog_errors += a.status ? 0 : 1;
        sessions_ended += one_by_one.snapshot().session_list().size() < sessions_before;
      }
    }
    EXPECT_EQ(one_by_one.snapshot().dump(), again.snapshot().dump());
    EXPECT_EQ(one_by_one.snapshot().dump(), batched.snapshot().dump());
    // The stream is worth replaying only if it took the interesting paths.
    EXPECT_GT(ok_locks, 10u);
    EXPECT_GT(failed_txns, 10u);
    EXPECT_GT(good_txns, 10u);
    EXPECT_GT(errors, 10u);
    EXPECT_GT(invalidations, 5u);
    EXPECT_GT(one_by_one.snapshot().session_list().size(), 0u);
    EXPECT_GT(catalog_ok, 50u);
    EXPECT_GT(catalog_errors, 10u);
    EXPECT_GT(sessions_ended, 5u);  // critical, deleted checks and deregistered nodes
    EXPECT_GT(one_by_one.snapshot().checks_in_state("any").size(), 0u);
    EXPECT_GT(one_by_one.snapshot().service_names().size(), 0u);
  }
}

TEST(Replay, DifferentLogsGiveDifferentDumps) {
  Store a;
  Store b;
  const auto log_a = make_log(5, 300);
  const auto log_b = make_log(6, 300);
  for (std::size_t i = 0; i < log_a.size(); ++i) {
    (void)a.apply(i + 1, log_a[i]);
    (void)b.apply(i + 1, log_b[i]);
  }
  a.publish();
  b.publish();
  EXPECT_NE(a.snapshot().dump(), b.snapshot().dump());
}

TEST(Encoding, RoundTrip) {
  proto::Command c = testing::kv(testing::kv_op(KvOp::LOCK, "k", std::string("v\0x", 3), 3, "s"));
  c.set_proposed_unix_ns(12345);
  auto decoded = decode_command(encode_command(c));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->proposed_unix_ns(), 12345);
  EXPECT_EQ(decoded->kv().value(), std::string("v\0x", 3));
  EXPECT_EQ(decoded->kv().verb(), KvOp::LOCK);
}

// KV keys and session IDs arrive URL-decoded and may be any bytes (Consul accepts them), but
// proto3 `string` fields refuse invalid UTF-8 on parse: such a command encodes, commits, and
// then fails to decode on every server. That is why commands.proto declares them `bytes`.
TEST(Encoding, NonUtf8KeyAndSessionRoundTrip) {
  proto::Command c = testing::kv(testing::kv_op(KvOp::LOCK, "k\xff", "v", 0, "s\xfe"));
  auto decoded = decode_command(encode_command(c));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->kv().key(), "k\xff");
  EXPECT_EQ(decoded->kv().session(), "s\xfe");
  auto destroy = decode_command(encode_command(testing::session_destroy("s\xfe")));
  ASSERT_TRUE(destroy);
}

TEST(Encoding, GarbageIsCorruption) {
  auto r = decode_command(std::string("\xff\xff\xff\xff", 4));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kCorruption);
  // Truncated in the middle of a field.
  std::string bytes = encode_command(testing::kv_set("some/key", "some value"));
  r = decode_command(std::string_view(bytes).substr(0, bytes.size() - 3));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kCorruption);
}

TEST(Encoding, NoBodyIsCorruption) {
  auto r = decode_command("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kCorruption);
  proto::Command only_time;
  only_time.set_proposed_unix_ns(5);
  r = decode_command(encode_command(only_time));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "command has no body");
}

}  // namespace
}  // namespace pc::state
