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

// One escaper serves the HTTP API, the audit log and JSON log lines: Go's encoding/json.
TEST(JsonEscape, AsGoEncodingJson) {
  std::string out = "x";
  append_json_escaped(out, "<a&b>\b\f\x7f");
  EXPECT_EQ(out, "x\\u003ca\\u0026b\\u003e\\b\\f\x7f");
  EXPECT_EQ(json_escape("caf\xc3\xa9 \xe2\x80\xa8"), "caf\xc3\xa9 \\u2028");
  EXPECT_EQ(json_escape("a\xff\xc0\xaf"), "a\\ufffd\\ufffd\\ufffd");
}

TEST(Utf8Sequence, AcceptsWhatGoDecodes) {
  char32_t rune = 0;
  EXPECT_EQ(utf8_sequence("\xc3\xa9", 0, rune), 2u);
  EXPECT_EQ(rune, U'\u00e9');
  EXPECT_EQ(utf8_sequence("\xf0\x9f\x98\x80", 0, rune), 4u);
  EXPECT_EQ(rune, U'\U0001f600');
  EXPECT_EQ(utf8_sequence("\xc0\xaf", 0, rune), 0u);          // overlong
  EXPECT_EQ(utf8_sequence("\xed\xa0\x80", 0, rune), 0u);      // surrogate
  EXPECT_EQ(utf8_sequence("\xf4\x90\x80\x80", 0, rune), 0u);  // past U+10FFFF
  EXPECT_EQ(utf8_sequence("\xe2\x82", 0, rune), 0u);          // truncated
  EXPECT_EQ(utf8_sequence("\x80", 0, rune), 0u);              // a lone continuation
}

TEST(Strings, CaseInsensitiveEquality) {
  EXPECT_TRUE(iequals("LockDelay", "lockdelay"));
  EXPECT_FALSE(iequals("Lock", "Locks"));
}

}  // namespace
}  // namespace pc::core
