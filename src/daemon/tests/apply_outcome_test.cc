#include "daemon/apply_outcome.h"

#include <gtest/gtest.h>

#include "state/store.h"

namespace pc::daemon {
namespace {

TEST(ApplyOutcome, RoundTripsResultsErrorsAndStatus) {
  state::ApplyResult r;
  r.ok = false;
  r.txn_results.push_back(state::DirEntry{"k", std::string("v\0w", 3), 7, "sess", 3, 1, 2});
  r.txn_results.push_back(std::nullopt);
  r.txn_errors.push_back(state::TxnError{2, "key \"x\" does not exist"});
  auto back = decode_apply_outcome(encode_apply_outcome(std::any(r)));
  ASSERT_TRUE(back) << back.error().message;
  const auto& got = std::any_cast<const state::ApplyResult&>(*back);
  EXPECT_TRUE(got.status);
  EXPECT_FALSE(got.ok);
  EXPECT_EQ(got.txn_results, r.txn_results);
  ASSERT_EQ(got.txn_errors.size(), 1u);
  EXPECT_EQ(got.txn_errors[0].op_index, 2u);
  EXPECT_EQ(got.txn_errors[0].what, "key \"x\" does not exist");

  state::ApplyResult failed;
  failed.status = core::make_error(core::Code::kNotFound, "Missing node registration");
  auto f = decode_apply_outcome(encode_apply_outcome(std::any(failed)));
  ASSERT_TRUE(f);
  const auto& fs = std::any_cast<const state::ApplyResult&>(*f);
  ASSERT_FALSE(fs.status);
  EXPECT_EQ(fs.status.error().code, core::Code::kNotFound);
  EXPECT_EQ(fs.status.error().message, "Missing node registration");
}

TEST(ApplyOutcome, RefusesGarbage) {
  EXPECT_FALSE(decode_apply_outcome("\xff\xff\xff\xff"));

  std::string unknown_code("\x08\xff\x01", 3);  // code = 255
  EXPECT_FALSE(decode_apply_outcome(unknown_code));
}

}  // namespace
}  // namespace pc::daemon
