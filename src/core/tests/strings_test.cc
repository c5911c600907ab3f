#include "core/strings.h"

#include <gtest/gtest.h>

namespace pc::core {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    std::string decoded;
    ASSERT_TRUE(base64_decode(base64_encode(data), decoded));
    EXPECT_EQ(decoded, data);
    data += static_cast<char>(i * 37);
  }
  EXPECT_EQ(base64_encode("bar"), "YmFy");
  EXPECT_EQ(base64_encode("ba"), "YmE=");
}

TEST(Base64, RejectsForeignBytes) {
  std::string out;
  EXPECT_FALSE(base64_decode("Ym!y", out));
  EXPECT_FALSE(base64_decode("Y", out));
}

TEST(JsonEscape, EscapesControlAndQuotes) {
  EXPECT_EQ(json_escape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

TEST(Strings, CaseInsensitiveEquality) {
  EXPECT_TRUE(iequals("LockDelay", "lockdelay"));
  EXPECT_FALSE(iequals("Lock", "Locks"));
}

}  // namespace
}  // namespace pc::core
