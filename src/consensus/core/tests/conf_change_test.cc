#include "consensus/core/conf_change.h"

#include <gtest/gtest.h>

namespace pc::consensus::raft {
namespace {

TEST(ConfChange, RoundTrip) {
  for (auto type :
       {ConfChangeType::kAddVoter, ConfChangeType::kAddLearner, ConfChangeType::kRemoveNode}) {
    ConfChange cc{type, 0x0102030405060708ULL, "10.0.0.1:8300"};
    auto decoded = decode_conf_change(encode_conf_change(cc));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, cc);
  }
}

TEST(ConfChange, RejectsMalformedBytes) {
  std::string good = encode_conf_change(ConfChange{ConfChangeType::kAddVoter, 7, "ctx"});
  EXPECT_FALSE(decode_conf_change("").has_value());
  EXPECT_FALSE(decode_conf_change(good.substr(0, good.size() - 1)).has_value());  // truncated
  EXPECT_FALSE(decode_conf_change(good + "x").has_value());                       // trailing
  std::string bad_version = good;
  bad_version[0] = 9;
  EXPECT_FALSE(decode_conf_change(bad_version).has_value());
  std::string bad_type = good;
  bad_type[1] = 3;
  EXPECT_FALSE(decode_conf_change(bad_type).has_value());
  std::string zero_id = encode_conf_change(ConfChange{ConfChangeType::kAddVoter, 1, ""});
  zero_id[2] = 0;
  EXPECT_FALSE(decode_conf_change(zero_id).has_value());
  std::string huge_len = good;
  huge_len[10] = huge_len[11] = huge_len[12] = huge_len[13] = static_cast<char>(0xff);
  auto err = decode_conf_change(huge_len);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().code, core::Code::kCorruption);
}

TEST(ConfChange, ApplyTo) {
  ConfState cs{{1, 2, 3}, {}, {}};
  cs = apply_to(cs, ConfChange{ConfChangeType::kAddLearner, 4, ""});
  EXPECT_EQ(cs.learners, std::vector<NodeId>{4});
  cs = apply_to(cs, ConfChange{ConfChangeType::kAddVoter, 4, ""});  // promote
  EXPECT_EQ(cs.voters, (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_TRUE(cs.learners.empty());
  cs = apply_to(cs, ConfChange{ConfChangeType::kAddLearner, 2, ""});  // demote
  EXPECT_EQ(cs.voters, (std::vector<NodeId>{1, 3, 4}));
  EXPECT_EQ(cs.learners, std::vector<NodeId>{2});
  cs = apply_to(cs, ConfChange{ConfChangeType::kRemoveNode, 2, ""});
  cs = apply_to(cs, ConfChange{ConfChangeType::kRemoveNode, 9, ""});  // absent: no-op
  EXPECT_EQ(cs.voters, (std::vector<NodeId>{1, 3, 4}));
  EXPECT_TRUE(cs.learners.empty());
  auto again = apply_to(cs, ConfChange{ConfChangeType::kAddVoter, 3, ""});  // idempotent
  EXPECT_EQ(again, cs);
}

}  // namespace
}  // namespace pc::consensus::raft
