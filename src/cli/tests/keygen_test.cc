// `proconsul keygen`: one line of standard base64 holding 32 random bytes, a different key on
// every run, no agent call; unknown flags are refused.
#include <gtest/gtest.h>

#include "cli/tests/harness.h"
#include "core/strings.h"

namespace pc::cli {
namespace {

using testing::Harness;

std::string keygen_line() {
  Harness h;
  EXPECT_EQ(h.run({"keygen"}), 0) << h.err.str();
  EXPECT_EQ(h.err.str(), "");
  EXPECT_TRUE(h.requests.empty());
  return h.out.str();
}

TEST(Keygen, PrintsOneBase64LineOf32Bytes) {
  const std::string line = keygen_line();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  const std::string text = line.substr(0, line.size() - 1);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.size(), 44u);  // 32 bytes: 43 characters and one '='
  std::string key;
  ASSERT_TRUE(core::base64_decode(text, key)) << text;
  EXPECT_EQ(key.size(), 32u);
}

TEST(Keygen, EveryRunMakesANewKey) {
  // 256 random bits: equal keys would mean the generator is not random at all.
  EXPECT_NE(keygen_line(), keygen_line());
}

TEST(Keygen, UnknownFlagIsAnError) {
  Harness h;
  EXPECT_EQ(h.run({"keygen", "-bits=128"}), 1);
  EXPECT_EQ(h.out.str(), "");
  EXPECT_NE(h.err.str(), "");
}

}  // namespace
}  // namespace pc::cli
