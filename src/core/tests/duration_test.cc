#include "core/duration.h"

#include <gtest/gtest.h>

namespace pc::core {
namespace {

using namespace std::chrono_literals;

TEST(GoDuration, ParsesTheFormsClientsSend) {
  EXPECT_EQ(parse_go_duration("10s").value(), Duration(10s));
  EXPECT_EQ(parse_go_duration("10.0s").value(), Duration(10s));
  EXPECT_EQ(parse_go_duration("5m").value(), Duration(5min));
  EXPECT_EQ(parse_go_duration("120000ms").value(), Duration(120s));
  EXPECT_EQ(parse_go_duration("0.001s").value(), Duration(1ms));
  EXPECT_EQ(parse_go_duration("1h2m3s").value(), Duration(1h + 2min + 3s));
  EXPECT_EQ(parse_go_duration("0").value(), Duration(0));
  EXPECT_EQ(parse_go_duration("1.5h").value(), Duration(90min));
  EXPECT_EQ(parse_go_duration("-2s").value(), Duration(-2s));
}

TEST(GoDuration, RejectsWhatGoRejects) {
  for (const char* bad : {"", "10", "s", "10x", "1..5s", "abc", "10s5"}) {
    auto r = parse_go_duration(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    }
  }
}

TEST(GoDuration, FormatsLikeGo) {
  EXPECT_EQ(format_go_duration(24h), "24h0m0s");
  EXPECT_EQ(format_go_duration(10s), "10s");
  EXPECT_EQ(format_go_duration(1500ms), "1.5s");
  EXPECT_EQ(format_go_duration(100ms), "100ms");
  EXPECT_EQ(format_go_duration(Duration(0)), "0s");
  EXPECT_EQ(format_go_duration(90s), "1m30s");
  EXPECT_EQ(format_go_duration(Duration(15)), "15ns");
}

}  // namespace
}  // namespace pc::core
