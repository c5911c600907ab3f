#include "core/flags.h"

#include <gtest/gtest.h>

#include <map>

namespace pc::core {
namespace {

using Args = std::vector<std::string>;

struct Fixture {
  bool dev = false;
  std::string name;
  int port = 8500;
  std::uint64_t index = 0;
  Duration wait{0};
  std::vector<std::string> joins;
  std::map<std::string, std::string> meta;
  FlagSet flags;

  Fixture() {
    flags.add_bool("dev", &dev, "Dev mode.");
    flags.add_string("node", &name, "Node name.");
    flags.add_int("http-port", &port, "HTTP port.", -1, 65535);
    flags.add_uint("modify-index", &index, "Index.");
    flags.add_duration("wait", &wait, "Wait.");
    flags.add_strings("retry-join", &joins, "Join `address`.");
    flags.add_value(
        "node-meta",
        [this](std::string_view text) -> Status {
          auto colon = text.find(':');
          if (colon == std::string_view::npos) {
            return make_error(Code::kInvalidArgument, "missing ':'");
          }
          meta[std::string(text.substr(0, colon))] = std::string(text.substr(colon + 1));
          return ok();
        },
        "Meta `key:value`.");
  }
};

TEST(Flags, OneOrTwoDashesWithOrWithoutEquals) {
  Fixture f;
  auto r = f.flags.parse({"-node", "a", "--http-port=1", "-modify-index=7", "--wait", "1m"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(f.name, "a");
  EXPECT_EQ(f.port, 1);
  EXPECT_EQ(f.index, 7u);
  EXPECT_EQ(f.wait, std::chrono::minutes(1));
  EXPECT_TRUE(r->positional.empty());
  EXPECT_FALSE(r->help);
  EXPECT_TRUE(f.flags.is_set("node"));
  EXPECT_FALSE(f.flags.is_set("dev"));
}

TEST(Flags, BoolsNeverTakeTheNextArgument) {
  Fixture f;
  auto r = f.flags.parse({"-dev", "false"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(f.dev);
  EXPECT_EQ(r->positional, (Args{"false"}));

  Fixture g;
  g.dev = true;
  ASSERT_TRUE(g.flags.parse({"-dev=false"}));
  EXPECT_FALSE(g.dev);
  ASSERT_TRUE(g.flags.parse({"--dev=T"}));
  EXPECT_TRUE(g.dev);
  ASSERT_TRUE(g.flags.parse({"-dev=0"}));
  EXPECT_FALSE(g.dev);

  auto bad = g.flags.parse({"-dev=yes"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid boolean value \"yes\" for -dev: expected true or false");
}

TEST(Flags, RepeatedFlagsAppendAndCustomValuesWork) {
  Fixture f;
  auto r = f.flags.parse(
      {"-retry-join", "a", "-retry-join=b", "-node-meta", "rack:r1", "-node-meta=zone:z:1"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(f.joins, (Args{"a", "b"}));
  EXPECT_EQ(f.meta.at("rack"), "r1");
  EXPECT_EQ(f.meta.at("zone"), "z:1");

  auto bad = f.flags.parse({"-node-meta", "nocolon"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid value \"nocolon\" for flag -node-meta: missing ':'");
}

TEST(Flags, StopsAtTheFirstNonFlagOrDoubleDash) {
  Fixture f;
  auto r = f.flags.parse({"-dev", "key", "-node", "x"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->positional, (Args{"key", "-node", "x"}));
  EXPECT_EQ(f.name, "");

  auto dd = f.flags.parse({"-node", "n", "--", "-dev", "v"});
  ASSERT_TRUE(dd);
  EXPECT_EQ(dd->positional, (Args{"-dev", "v"}));

  // A lone "-" is an argument (kv put KEY - reads stdin).
  auto dash = f.flags.parse({"-", "x"});
  ASSERT_TRUE(dash);
  EXPECT_EQ(dash->positional, (Args{"-", "x"}));

  // A value that looks like a flag is still the value of a non-bool flag.
  auto v = f.flags.parse({"-node", "-dev"});
  ASSERT_TRUE(v);
  EXPECT_EQ(f.name, "-dev");
}

TEST(Flags, ErrorsNameTheFlag) {
  Fixture f;
  auto unknown = f.flags.parse({"-x"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "flag provided but not defined: -x");
  EXPECT_EQ(unknown.error().code, Code::kInvalidArgument);

  auto unknown2 = f.flags.parse({"--nodes=3"});
  ASSERT_FALSE(unknown2);
  EXPECT_EQ(unknown2.error().message, "flag provided but not defined: -nodes");

  auto missing = f.flags.parse({"-node"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "flag needs an argument: -node");

  auto not_int = f.flags.parse({"-http-port", "abc"});
  ASSERT_FALSE(not_int);
  EXPECT_EQ(not_int.error().message,
            "invalid value \"abc\" for flag -http-port: expected a number");

  auto range = f.flags.parse({"-http-port=70000"});
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().message,
            "invalid value \"70000\" for flag -http-port: must be between -1 and 65535");

  auto negative_uint = f.flags.parse({"-modify-index=-1"});
  ASSERT_FALSE(negative_uint);
  EXPECT_EQ(negative_uint.error().message,
            "invalid value \"-1\" for flag -modify-index: expected a number");

  auto overflow = f.flags.parse({"-modify-index=18446744073709551616"});
  ASSERT_FALSE(overflow);
  EXPECT_NE(overflow.error().message.find("value out of range"), std::string::npos);

  auto duration = f.flags.parse({"-wait=5"});
  ASSERT_FALSE(duration);
  EXPECT_EQ(duration.error().message.rfind("invalid value \"5\" for flag -wait: ", 0), 0u);

  for (const char* bad : {"---x", "-=x", "--=x"}) {
    auto syntax = f.flags.parse({bad});
    ASSERT_FALSE(syntax) << bad;
    EXPECT_EQ(syntax.error().message, std::string("bad flag syntax: ") + bad);
  }
}

TEST(Flags, IntegersFollowGoBasePrefixes) {
  Fixture f;
  ASSERT_TRUE(f.flags.parse({"-modify-index=0x10"}));
  EXPECT_EQ(f.index, 16u);
  ASSERT_TRUE(f.flags.parse({"-modify-index=18446744073709551615"}));
  EXPECT_EQ(f.index, 18446744073709551615ull);
  ASSERT_TRUE(f.flags.parse({"-http-port=-1"}));
  EXPECT_EQ(f.port, -1);
  ASSERT_TRUE(f.flags.parse({"-http-port=+0"}));
  EXPECT_EQ(f.port, 0);
}

TEST(Flags, HelpIsADistinctResult) {
  for (const char* h : {"-h", "-help", "--help", "--h"}) {
    Fixture f;
    auto r = f.flags.parse({"-dev", h, "-x"});
    ASSERT_TRUE(r) << h;
    EXPECT_TRUE(r->help) << h;
  }
  // A defined "help" flag is an ordinary flag.
  bool help = false;
  FlagSet flags;
  flags.add_bool("help", &help, "Help.");
  auto r = flags.parse({"-help"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->help);
  EXPECT_TRUE(help);
}

TEST(Flags, IsSetResetsOnEveryParse) {
  Fixture f;
  ASSERT_TRUE(f.flags.parse({"-dev"}));
  EXPECT_TRUE(f.flags.is_set("dev"));
  ASSERT_TRUE(f.flags.parse({}));
  EXPECT_FALSE(f.flags.is_set("dev"));
  EXPECT_TRUE(f.flags.has_flag("dev"));
  EXPECT_FALSE(f.flags.has_flag("nope"));
}

TEST(Flags, UsageRendersGroupsSortedWithPlaceholders) {
  bool stale = false;
  std::string addr, session;
  std::uint64_t flags_value = 0;
  FlagSet flags;
  flags.begin_group("HTTP API Options");
  flags.add_string("http-addr", &addr, "The `address` and port of the agent.");
  flags.add_bool("stale", &stale, "Permit any server to respond.");
  flags.begin_group("Command Options");
  flags.add_uint("flags", &flags_value,
                 "Unsigned integer value to assign to this key-value "
                 "pair. This value is not read by the server, so "
                 "clients can use it however they like.");
  flags.add_string("session", &session, "Session ID.");
  EXPECT_EQ(flags.usage(),
            "HTTP API Options\n"
            "\n"
            "  -http-addr=<address>\n"
            "     The address and port of the agent.\n"
            "\n"
            "  -stale\n"
            "     Permit any server to respond.\n"
            "\n"
            "Command Options\n"
            "\n"
            "  -flags=<uint>\n"
            "     Unsigned integer value to assign to this key-value pair. This value\n"
            "     is not read by the server, so clients can use it however they like.\n"
            "\n"
            "  -session=<string>\n"
            "     Session ID.");
  EXPECT_EQ(flags.help("\nUsage: x [options]\n\n  Does x.\n"),
            "Usage: x [options]\n\n  Does x.\n\n" + flags.usage());
  FlagSet none;
  EXPECT_EQ(none.help("\nUsage: y\n"), "Usage: y");
}

TEST(Flags, WrapTextIsGreedyAndKeepsLongWords) {
  EXPECT_EQ(wrap_text("aa bb cc", 5, 2), "  aa bb\n  cc");
  EXPECT_EQ(wrap_text("abcdefgh ij", 4, 0), "abcdefgh\nij");
  EXPECT_EQ(wrap_text("", 10, 3), "   ");
}

}  // namespace
}  // namespace pc::core
