#include "http/json/writer.h"

#include <gtest/gtest.h>

#include <limits>

namespace pc::http {
namespace {

std::string escaped(std::string_view s) {
  JsonWriter w;
  w.string(s);
  return w.take();
}

TEST(JsonWriter, NestingAndCommas) {
  JsonWriter w;
  w.begin_object();
  w.string_field("Key", "a");
  w.number_field("CreateIndex", std::uint64_t{7});
  w.key("Flags");
  w.number(0);
  w.key("Tags");
  w.begin_array();
  w.string("x");
  w.string("y");
  w.end_array();
  w.key("Meta");
  w.begin_object();
  w.end_object();
  w.key("Nested");
  w.begin_array();
  w.begin_object();
  w.bool_field("Ok", true);
  w.end_object();
  w.begin_array();
  w.end_array();
  w.null();
  w.end_array();
  w.null_field("Session");
  w.end_object();
  EXPECT_EQ(w.take(), R"({"Key":"a","CreateIndex":7,"Flags":0,"Tags":["x","y"],"Meta":{},)"
                      R"("Nested":[{"Ok":true},[],null],"Session":null})");
}

TEST(JsonWriter, EmptyArrayIsNotNull) {
  JsonWriter w;
  w.begin_array();
  w.end_array();
  EXPECT_EQ(w.take(), "[]");
  // The writer is reusable after take().
  w.begin_object();
  w.key("Nodes");
  w.begin_array();
  w.end_array();
  w.end_object();
  EXPECT_EQ(w.take(), R"({"Nodes":[]})");
}

TEST(JsonWriter, EscapesLikeGo) {
  EXPECT_EQ(escaped("plain"), R"("plain")");
  EXPECT_EQ(escaped("q\"b\\"), R"("q\"b\\")");
  EXPECT_EQ(escaped("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(escaped(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  // Go's HTML-safe escaping.
  EXPECT_EQ(escaped("<a>&"), R"("\u003ca\u003e\u0026")");
  EXPECT_EQ(escaped("\x7f"), "\"\x7f\"");
  // Valid UTF-8 passes through; U+2028/2029 are escaped.
  EXPECT_EQ(escaped("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  EXPECT_EQ(escaped("\xE2\x80\xA8\xE2\x80\xA9"), R"("\u2028\u2029")");
  // Invalid UTF-8 becomes U+FFFD per bad byte: a lone continuation, a truncated sequence,
  // an overlong form and a surrogate.
  EXPECT_EQ(escaped("a\x80z"), R"("a\ufffdz")");
  EXPECT_EQ(escaped("\xE2\x82"), R"("\ufffd\ufffd")");
  EXPECT_EQ(escaped("\xC0\xAF"), R"("\ufffd\ufffd")");
  EXPECT_EQ(escaped("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")");
  EXPECT_EQ(escaped("\xF4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");
}

TEST(JsonWriter, KeysAreEscapedToo) {
  JsonWriter w;
  w.begin_object();
  w.string_field("a\"b", "v");
  w.end_object();
  EXPECT_EQ(w.take(), R"({"a\"b":"v"})");
}

TEST(JsonWriter, Base64LikeGoBytes) {
  auto b64 = [](std::string_view bytes) {
    JsonWriter w;
    w.base64(bytes);
    return w.take();
  };
  EXPECT_EQ(b64(""), R"("")");
  EXPECT_EQ(b64("f"), R"("Zg==")");
  EXPECT_EQ(b64("fo"), R"("Zm8=")");
  EXPECT_EQ(b64("foo"), R"("Zm9v")");
  EXPECT_EQ(b64("foob"), R"("Zm9vYg==")");
  EXPECT_EQ(b64(std::string_view("\xff\xfe\x00", 3)), R"("//4A")");
}

TEST(JsonWriter, Numbers) {
  JsonWriter w;
  w.begin_array();
  w.number(std::numeric_limits<std::uint64_t>::max());
  w.number(std::numeric_limits<std::int64_t>::min());
  w.number(-1);
  w.number(1.5);
  w.number(0.0);
  w.number(100.0);
  w.number(1e21);
  w.number(1e-7);
  w.number(0.000001);
  w.number(std::numeric_limits<double>::infinity());
  w.boolean(false);
  w.end_array();
  EXPECT_EQ(w.take(),
            "[18446744073709551615,-9223372036854775808,-1,1.5,0,100,1e+21,1e-7,0.000001,null,"
            "false]");
}

TEST(JsonWriter, RawValues) {
  JsonWriter w;
  w.begin_object();
  w.key("Pre");
  w.raw(R"({"x":[1,2]})");
  w.key("N");
  w.number(1);
  w.end_object();
  EXPECT_EQ(w.take(), R"({"Pre":{"x":[1,2]},"N":1})");
}

TEST(JsonWriter, PrettyLikeMarshalIndent) {
  JsonWriter w(true);
  w.begin_object();
  w.string_field("Key", "a");
  w.key("Tags");
  w.begin_array();
  w.string("x");
  w.end_array();
  w.key("Empty");
  w.begin_array();
  w.end_array();
  w.key("Obj");
  w.begin_object();
  w.end_object();
  w.end_object();
  EXPECT_EQ(w.take(),
            "{\n"
            "    \"Key\": \"a\",\n"
            "    \"Tags\": [\n"
            "        \"x\"\n"
            "    ],\n"
            "    \"Empty\": [],\n"
            "    \"Obj\": {}\n"
            "}");
}

}  // namespace
}  // namespace pc::http
