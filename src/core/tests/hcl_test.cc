#include "core/hcl.h"

#include <gtest/gtest.h>

#include <string>

#include "core/limits.h"

namespace pc::core::hcl {
namespace {

Value parse_ok(std::string_view text) {
  auto result = parse(text);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
  return result ? std::move(result).value() : Value{};
}

std::string parse_error(std::string_view text) {
  auto result = parse(text);
  EXPECT_FALSE(result.has_value()) << "parsed: " << text;
  if (result) return "";
  EXPECT_EQ(result.error().code, Code::kInvalidArgument);
  return result.error().message;
}

TEST(Hcl, AssignmentsOfEveryScalarKind) {
  const Value root = parse_ok("a = \"x\"\nb = 42\nc = -1.5e2\nd = true\ne = false\n");
  ASSERT_EQ(root.object.size(), 5u);
  EXPECT_EQ(root.find("a")->text, "x");
  EXPECT_EQ(root.find("b")->kind, Kind::kNumber);
  EXPECT_EQ(root.find("b")->number, 42);
  EXPECT_EQ(root.find("b")->text, "42");
  EXPECT_EQ(root.find("c")->number, -150);
  EXPECT_TRUE(root.find("d")->boolean);
  EXPECT_EQ(root.find("e")->kind, Kind::kBool);
  EXPECT_FALSE(root.find("e")->boolean);
  EXPECT_EQ(root.find("missing"), nullptr);
}

TEST(Hcl, BlockLabelsNestAsSingleMemberObjects) {
  const Value root = parse_ok("service \"web\" {\n  policy = \"read\"\n}\n");
  ASSERT_EQ(root.object.size(), 1u);
  const Member& service = root.object[0];
  EXPECT_EQ(service.key, "service");
  ASSERT_TRUE(service.value.is_object());
  ASSERT_EQ(service.value.object.size(), 1u);
  EXPECT_EQ(service.value.object[0].key, "web");
  EXPECT_EQ(service.value.object[0].position.line, 1u);
  EXPECT_EQ(service.value.object[0].position.column, 9u);
  const Value& body = service.value.object[0].value;
  EXPECT_EQ(body.find("policy")->text, "read");
  EXPECT_EQ(body.object[0].position.line, 2u);
  EXPECT_EQ(body.object[0].position.column, 3u);
}

TEST(Hcl, RepeatedBlocksStayInOrder) {
  const Value root = parse_ok(
      "key_prefix \"a/\" { policy = \"read\" }\n"
      "key_prefix \"b/\" { policy = \"write\" }\n"
      "node { x = 1 }\n"
      "multi \"l1\" \"l2\" { y = 2 }\n");
  ASSERT_EQ(root.object.size(), 4u);
  EXPECT_EQ(root.object[0].value.object[0].key, "a/");
  EXPECT_EQ(root.object[1].value.object[0].key, "b/");
  EXPECT_EQ(root.object[2].value.find("x")->number, 1);
  const Value& l1 = root.object[3].value.object[0].value;
  EXPECT_EQ(l1.object[0].key, "l2");
  EXPECT_EQ(l1.object[0].value.find("y")->number, 2);
}

TEST(Hcl, ListsAndObjectsWithTrailingCommas) {
  const Value root = parse_ok(
      "tags = [\"a\", \"b\",]\nempty = []\nmeta = { k = \"v\", n = 1, }\n"
      "nested = [{ a = 1 }, [2, 3]]\n");
  const Value* tags = root.find("tags");
  ASSERT_EQ(tags->kind, Kind::kList);
  ASSERT_EQ(tags->list.size(), 2u);
  EXPECT_EQ(tags->list[1].text, "b");
  EXPECT_TRUE(root.find("empty")->list.empty());
  EXPECT_EQ(root.find("meta")->find("k")->text, "v");
  const Value* nested = root.find("nested");
  EXPECT_EQ(nested->list[0].find("a")->number, 1);
  EXPECT_EQ(nested->list[1].list[1].number, 3);
}

TEST(Hcl, StringEscapes) {
  const Value root = parse_ok(R"(s = "q\" b\\ n\n t\t u\u00e9 U\U0001F600 s\/")");
  EXPECT_EQ(root.find("s")->text, "q\" b\\ n\n t\t u\xC3\xA9 U\xF0\x9F\x98\x80 s/");
}

TEST(Hcl, CommentsOfAllThreeKinds) {
  const Value root =
      parse_ok("# hash\n// slashes\n/* block\n comment */ a = 1 // trailing\nb = /* inline */ 2\n");
  EXPECT_EQ(root.find("a")->number, 1);
  EXPECT_EQ(root.find("b")->number, 2);
}

TEST(Hcl, QuotedKeysAndDottedIdentifiers) {
  const Value root = parse_ok("\"with space\" = 1\nfoo.bar-baz_2 = 2\n");
  EXPECT_EQ(root.find("with space")->number, 1);
  EXPECT_EQ(root.find("foo.bar-baz_2")->number, 2);
}

TEST(Hcl, Heredocs) {
  const Value root =
      parse_ok("a = <<EOF\nline 1\n  line 2\nEOF\nb = <<-END\n    x\n      y\n  END\n");
  EXPECT_EQ(root.find("a")->text, "line 1\n  line 2\n");
  EXPECT_EQ(root.find("b")->text, "x\n  y\n");
}

TEST(Hcl, WindowsLineEndings) {
  const Value root = parse_ok("a = 1\r\nb = <<EOF\r\nx\r\nEOF\r\nc { d = \"e\" }\r\n");
  EXPECT_EQ(root.find("a")->number, 1);
  EXPECT_EQ(root.find("b")->text, "x\n");
  EXPECT_EQ(root.find("c")->find("d")->text, "e");
  EXPECT_EQ(root.object[2].position.line, 5u);
}

TEST(Hcl, EmptyDocumentIsAnEmptyObject) {
  const Value root = parse_ok("  \n# only a comment\n");
  EXPECT_TRUE(root.is_object());
  EXPECT_TRUE(root.object.empty());
}

TEST(Hcl, ErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error("a = 1\nkey_prefix \"x\" {\n  policy \"read\"\n}\n"),
            "At 3:3: expected '=' or '{' after key \"policy\", found the label \"read\" and then "
            "'}'");
  EXPECT_EQ(parse_error("a = 1\n  policy : \"read\"\n"),
            "At 2:10: expected '=' or '{' after key \"policy\", found ':'");
  EXPECT_EQ(parse_error("a = \"open\n"), "At 1:5: string is not closed on its line");
  EXPECT_EQ(parse_error("x {\n a = 1\n"), "At 1:3: '{' opened here is not closed");
  EXPECT_EQ(parse_error("a = read\n"),
            "At 1:5: expected a value, found the bare word read; quote strings: \"read\"");
  EXPECT_EQ(parse_error("a = [1 2]"), "At 1:8: expected ',' or ']' in the list, found '2'");
  EXPECT_EQ(parse_error("}"), "At 1:1: unexpected '}'");
  EXPECT_EQ(parse_error("a = \"\\q\""), "At 1:6: unknown escape \\q in string");
  EXPECT_EQ(parse_error("a = \"\\ud800\""), "At 1:6: unpaired surrogate in \\u escape");
  EXPECT_EQ(parse_error("/* open"), "At 1:1: comment /* is not closed");
  EXPECT_EQ(parse_error("a = <<EOF\nno end\n"), "At 1:5: heredoc <<EOF is not closed");
  EXPECT_EQ(parse_error("= 1"), "At 1:1: expected a key (a name or a quoted string), found '='");
}

TEST(Hcl, NestingDepthIsBounded) {
  std::string deep = "a = ";
  for (std::size_t i = 0; i <= limits::hcl_nesting_depth_max; ++i) deep += "[";
  const std::string message = parse_error(deep);
  EXPECT_NE(message.find("nesting deeper than"), std::string::npos) << message;

  std::string labels = "a";
  for (std::size_t i = 0; i <= limits::hcl_nesting_depth_max; ++i) labels += " \"l\"";
  labels += " {}";
  EXPECT_NE(parse_error(labels).find("nesting deeper than"), std::string::npos);

  std::string fits = "a = ";
  for (std::size_t i = 0; i + 1 < limits::hcl_nesting_depth_max; ++i) fits += "[";
  for (std::size_t i = 0; i + 1 < limits::hcl_nesting_depth_max; ++i) fits += "]";
  EXPECT_TRUE(parse(fits).has_value());
}

TEST(Hcl, OversizedDocumentIsRefused) {
  const std::string big(limits::hcl_document_size_max + 1, ' ');
  auto result = parse(big);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Code::kTooLarge);
}

TEST(HclJson, JsonGivesTheSameTreeAsHcl) {
  const Value from_json = parse_ok(
      R"({"key_prefix": {"a/": {"policy": "read"}}, "n": 1.5, "ok": true, "none": null,
          "list": ["x", {"y": 2}]})");
  const Value from_hcl = parse_ok("key_prefix \"a/\" { policy = \"read\" }\n");
  EXPECT_EQ(from_json.object[0].key, from_hcl.object[0].key);
  EXPECT_EQ(from_json.object[0].value.object[0].key, "a/");
  EXPECT_EQ(from_json.object[0].value.object[0].value.find("policy")->text, "read");
  EXPECT_EQ(from_json.find("n")->number, 1.5);
  EXPECT_TRUE(from_json.find("ok")->boolean);
  EXPECT_EQ(from_json.find("none")->kind, Kind::kNull);
  EXPECT_EQ(from_json.find("list")->list[1].find("y")->number, 2);
}

TEST(HclJson, StrictJsonErrors) {
  auto missing_comma = parse_json("{\"a\": 1 \"b\": 2}");
  ASSERT_FALSE(missing_comma.has_value());
  EXPECT_EQ(missing_comma.error().message, "At 1:9: expected ',' or '}', found '\"'");
  auto not_object = parse_json("[1]");
  ASSERT_FALSE(not_object.has_value());
  EXPECT_EQ(not_object.error().message, "At 1:1: a JSON document must be an object, found '['");
  auto trailing = parse_json("{} x");
  ASSERT_FALSE(trailing.has_value());
  EXPECT_EQ(trailing.error().message, "At 1:4: unexpected 'x' after the object");
  // JSON has no comments; an HCL-style one is a syntax error there.
  EXPECT_FALSE(parse_json("{ # no\n}").has_value());
  // A surrogate pair decodes to one code point.
  auto pair = parse_json(R"({"s": "\ud83d\ude00"})");
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(pair->find("s")->text, "\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace pc::core::hcl
