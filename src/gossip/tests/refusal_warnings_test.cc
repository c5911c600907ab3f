// RefusalWarnings: one warning per sender IP per interval, the count of what went unlogged,
// and a bounded table.
#include "gossip/runtime/refusal_warnings.h"

#include <gtest/gtest.h>

#include <string>

namespace pc::gossip {
namespace {

TEST(RefusalWarnings, OneWarningPerIpPerIntervalCountingTheRest) {
  RefusalWarnings w(60'000);
  EXPECT_EQ(w.refused("10.0.0.9:8301", 1'000), 0u);
  // The same IP from another port (an inbound TCP connection) within the minute: counted.
  EXPECT_EQ(w.refused("10.0.0.9:41234", 2'000), std::nullopt);
  EXPECT_EQ(w.refused("10.0.0.9:8301", 60'999), std::nullopt);
  // Another sender is warned about at once.
  EXPECT_EQ(w.refused("10.0.0.7:8301", 3'000), 0u);
  // A minute after the last warning: due again, with the two that went unlogged.
  EXPECT_EQ(w.refused("10.0.0.9:8301", 61'000), 2u);
  EXPECT_EQ(w.refused("10.0.0.9:8301", 61'001), std::nullopt);
}

TEST(RefusalWarnings, SenderIpOfEachAddressForm) {
  EXPECT_EQ(sender_ip("10.0.0.1:8301"), "10.0.0.1");
  EXPECT_EQ(sender_ip("[fd00::2]:8301"), "fd00::2");
  EXPECT_EQ(sender_ip("fd00::2"), "fd00::2");
  EXPECT_EQ(sender_ip("10.0.0.1"), "10.0.0.1");
}

TEST(RefusalWarnings, TheTableStaysBounded) {
  RefusalWarnings w(60'000);
  for (std::size_t i = 0; i < 3 * RefusalWarnings::kSendersMax; ++i) {
    const std::string ip = "10." + std::to_string(i / 65536) + "." +
                           std::to_string((i / 256) % 256) + "." + std::to_string(i % 256);
    EXPECT_EQ(w.refused(ip + ":8301", 10), 0u) << ip;
    ASSERT_LE(w.senders_for_test(), RefusalWarnings::kSendersMax);
  }
  // Entries whose interval passed make room before the table is cleared.
  RefusalWarnings aged(100);
  for (std::size_t i = 0; i < RefusalWarnings::kSendersMax; ++i) {
    (void)aged.refused("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), 0);
  }
  EXPECT_EQ(aged.refused("10.2.0.1:8301", 100), 0u);
  EXPECT_EQ(aged.senders_for_test(), 1u);
}

}  // namespace
}  // namespace pc::gossip
