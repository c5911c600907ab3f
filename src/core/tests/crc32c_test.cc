#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace pc::core {
namespace {

// Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check.
TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string data = "the quick brown fox jumps over the lazy dog";
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    std::uint32_t head = crc32c(std::string_view(data).substr(0, cut));
    EXPECT_EQ(crc32c_extend(head, std::string_view(data).substr(cut)), crc32c(data));
  }
}

}  // namespace
}  // namespace pc::core
