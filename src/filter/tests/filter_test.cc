// Filter language tests: grammar forms and precedence, quoting, selectors, evaluation
// semantics (go-bexpr's, including missing map keys), error texts and limits.
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "filter/filter.h"
#include "filter/tests/fake_service.h"

namespace pc::filter {
namespace {

using testing::FakeObject;
using testing::FakeSchema;
using testing::FakeService;

const FakeSchema kSchema;

// Compiles (which must succeed) and evaluates on `svc`.
bool eval(std::string_view text, const FakeService& svc = FakeService()) {
  auto e = Expression::compile(text, kSchema);
  EXPECT_TRUE(e.has_value()) << text << ": " << (e ? "" : e.error().message);
  if (!e) return false;
  return e->matches(FakeObject(svc));
}

std::string compile_error(std::string_view text) {
  auto e = Expression::compile(text, kSchema);
  EXPECT_FALSE(e.has_value()) << text;
  if (e) return "";
  EXPECT_EQ(e.error().code, core::Code::kInvalidArgument);
  return e.error().message;
}

std::string dump(std::string_view text) {
  auto e = Expression::compile(text, kSchema);
  EXPECT_TRUE(e.has_value()) << text;
  return e ? e->dump() : "";
}

// ---- grammar ------------------------------------------------------------------------------

TEST(FilterParse, EveryOperator) {
  EXPECT_EQ(dump("Service == web"), "Equal {\n  Selector: Service\n  Value: \"web\"\n}\n");
  EXPECT_EQ(dump("Service!=\"web\""), "Not Equal {\n  Selector: Service\n  Value: \"web\"\n}\n");
  EXPECT_EQ(dump("\"v1\" in Tags"), "In {\n  Selector: Tags\n  Value: \"v1\"\n}\n");
  EXPECT_EQ(dump("\"v1\" not in Tags"), "Not In {\n  Selector: Tags\n  Value: \"v1\"\n}\n");
  EXPECT_EQ(dump("Tags contains v1"), "In {\n  Selector: Tags\n  Value: \"v1\"\n}\n");
  EXPECT_EQ(dump("Tags not contains v1"), "Not In {\n  Selector: Tags\n  Value: \"v1\"\n}\n");
  EXPECT_EQ(dump("Service matches \"^w\""), "Matches {\n  Selector: Service\n  Value: \"^w\"\n}\n");
  EXPECT_EQ(dump("Service not matches `^w`"),
            "Not Matches {\n  Selector: Service\n  Value: \"^w\"\n}\n");
  EXPECT_EQ(dump("Tags is empty"), "Is Empty {\n  Selector: Tags\n}\n");
  EXPECT_EQ(dump("Tags is not empty"), "Is Not Empty {\n  Selector: Tags\n}\n");
}

TEST(FilterParse, PrecedenceNotAndOr) {
  // a and not b or c  ==  (a and (not b)) or c
  EXPECT_EQ(dump("Port == 1 and not Port == 2 or Port == 3"),
            "Or {\n  And {\n    Equal {\n      Selector: Port\n      Value: \"1\"\n    }\n"
            "    Not {\n      Equal {\n        Selector: Port\n        Value: \"2\"\n      }\n"
            "    }\n  }\n  Equal {\n    Selector: Port\n    Value: \"3\"\n  }\n}\n");
  // Chains are flattened into one n-ary node.
  EXPECT_EQ(dump("Port == 1 or Port == 2 or Port == 3").substr(0, 5), "Or {\n");
  EXPECT_EQ(dump("not not Port == 1"), "Equal {\n  Selector: Port\n  Value: \"1\"\n}\n");
}

TEST(FilterParse, ParenthesesOverridePrecedence) {
  FakeService svc;  // Port 8080, Service web
  EXPECT_TRUE(eval("Port == 1 and Service == web or Port == 8080", svc));
  EXPECT_FALSE(eval("Port == 1 and (Service == web or Port == 8080)", svc));
  EXPECT_TRUE(eval("( Port == 8080 )", svc));
  EXPECT_TRUE(eval("((Port == 8080)) and (not (Service == db))", svc));
  EXPECT_TRUE(eval("\n\tPort == 8080\r\n", svc));
}

TEST(FilterParse, KeywordsNeedWhitespace) {
  // go-bexpr's `_ "and" _` and `"not" _`: the words are not operators without spaces.
  EXPECT_NE(compile_error("(Port == 1)and(Port == 2)"), "");
  EXPECT_NE(compile_error("not(Port == 1)"), "");
  EXPECT_NE(compile_error("\"a\"in Tags"), "");
}

TEST(FilterParse, SelectorForms) {
  EXPECT_EQ(dump("Meta.env == prod"), "Equal {\n  Selector: Meta.env\n  Value: \"prod\"\n}\n");
  EXPECT_EQ(dump("Meta[\"key with spaces\"] == yes"),
            "Equal {\n  Selector: Meta.key with spaces\n  Value: \"yes\"\n}\n");
  EXPECT_EQ(dump("Meta[ `env` ] == prod"), "Equal {\n  Selector: Meta.env\n  Value: \"prod\"\n}\n");
  EXPECT_EQ(dump("\"/Meta/env\" == prod"), "Equal {\n  Selector: Meta.env\n  Value: \"prod\"\n}\n");
  EXPECT_EQ(dump("\"/Meta/a~1b~0c\" is empty"), "Is Empty {\n  Selector: Meta.a/b~c\n}\n");
  EXPECT_TRUE(eval("Meta[\"key with spaces\"] == yes"));
  EXPECT_TRUE(eval("\"/Meta/env\" == prod"));
}

TEST(FilterParse, ValuesQuotingAndEscapes) {
  FakeService svc;
  svc.name = "a\"b\\c\td";
  EXPECT_TRUE(eval("Service == \"a\\x22b\\\\c\\td\"", svc));
  EXPECT_TRUE(eval("Service == `a\"b\\c\td`", svc));
  svc.name = "h\xc3\xa9";
  EXPECT_TRUE(eval("Service == \"h\\u00e9\"", svc));
  EXPECT_TRUE(eval("Service == \"h\\303\\251\"", svc));
  // A bare selector as a value stands for its dotted text.
  svc.name = "web.v1";
  EXPECT_TRUE(eval("Service == web.v1", svc));
  // Numbers are values too, compared after conversion to the field's type.
  EXPECT_TRUE(eval("Port == 8080"));
  EXPECT_TRUE(eval("Port == \"8080\""));
  EXPECT_TRUE(eval("Port == \"0x1f90\""));  // Go's base prefixes, but only quoted:
  EXPECT_NE(compile_error("Port == 0x1f90").find("Invalid number literal"), std::string::npos);
  EXPECT_TRUE(eval("Weight == 1.5"));
  EXPECT_TRUE(eval("Weight != -1.5"));
  EXPECT_TRUE(eval("ModifyIndex == 42"));
  EXPECT_TRUE(eval("EnableTagOverride == false"));
  EXPECT_TRUE(eval("EnableTagOverride == F"));
  EXPECT_TRUE(eval("EnableTagOverride != true"));
  // Raw strings drop carriage returns, as Go's Unquote does.
  svc.name = "ab";
  EXPECT_TRUE(eval("Service == `a\rb`", svc));
}

// ---- evaluation ---------------------------------------------------------------------------

TEST(FilterEval, StringOperators) {
  EXPECT_TRUE(eval("Service == web"));
  EXPECT_FALSE(eval("Service == Web"));
  EXPECT_TRUE(eval("\"eb\" in Service"));  // substring
  EXPECT_TRUE(eval("Service contains \"we\""));
  EXPECT_TRUE(eval("Service not contains db"));
  EXPECT_TRUE(eval("Service is not empty"));
  EXPECT_TRUE(eval("Meta.empty is empty"));
  EXPECT_TRUE(eval("Address matches \"^10\\\\.0\\\\.\""));
  EXPECT_TRUE(eval("Address matches `^10\\.0\\.`"));
  EXPECT_FALSE(eval("Address matches `^11\\.`"));
  EXPECT_TRUE(eval("Address not matches `^11\\.`"));
  EXPECT_TRUE(eval("Service matches \"(?i)^WEB$\""));
  EXPECT_TRUE(eval("Service matches \"\""));  // unanchored search, like Go's MatchString
}

TEST(FilterEval, ListsAndMaps) {
  EXPECT_TRUE(eval("primary in Tags"));
  EXPECT_TRUE(eval("\"with space\" in Tags"));
  EXPECT_FALSE(eval("prim in Tags"));  // element equality, not substring
  EXPECT_TRUE(eval("prim not in Tags"));
  EXPECT_TRUE(eval("Tags contains v1"));
  EXPECT_TRUE(eval("Tags is not empty"));
  EXPECT_TRUE(eval("env in Meta"));  // key presence
  EXPECT_FALSE(eval("prod in Meta"));
  EXPECT_TRUE(eval("Meta contains \"key with spaces\""));
  EXPECT_TRUE(eval("NodeMeta is empty"));
  FakeService none;
  none.tags.clear();
  EXPECT_TRUE(eval("Tags is empty", none));
  EXPECT_FALSE(eval("v1 in Tags", none));
}

TEST(FilterEval, MissingMapKeyFollowsGoBexprDisposition) {
  EXPECT_FALSE(eval("Meta.nope == x"));
  EXPECT_TRUE(eval("Meta.nope != x"));
  EXPECT_FALSE(eval("x in Meta.nope"));
  EXPECT_TRUE(eval("x not in Meta.nope"));
  EXPECT_TRUE(eval("Meta.nope is empty"));
  EXPECT_FALSE(eval("Meta.nope is not empty"));
  EXPECT_FALSE(eval("Meta.nope matches \".*\""));
  EXPECT_TRUE(eval("Meta.nope not matches \".*\""));
}

TEST(FilterEval, DynamicFieldsCoercePerObject) {
  EXPECT_TRUE(eval("Dynamic == dyn"));
  EXPECT_TRUE(eval("Dynamic matches \"^d\""));
  EXPECT_TRUE(eval("y in Dynamic"));
}

TEST(FilterEval, KindMismatchIsFalseEitherWay) {
  // A Value of another kind than the schema declared cannot be compared: false, negated too.
  class Liar final : public Object {
   public:
    Value get(const Selector&) const override { return Value::integer(1); }
  };
  auto eq = Expression::compile("Service == web", kSchema);
  auto ne = Expression::compile("Service != web", kSchema);
  ASSERT_TRUE(eq && ne);
  EXPECT_FALSE(eq->matches(Liar()));
  EXPECT_FALSE(ne->matches(Liar()));
}

// A map whose values are not strings (a service's TaggedAddresses is map[string]ServiceAddress):
// selected whole, only its keys count, as for string maps.
TEST(FilterEval, MapOfAnyValueTypeMatchesOnKeys) {
  struct Addresses final : Schema {
    core::Result<Field> resolve(const Selector&) const override {
      return Field{FieldType::kStringMap, 1};
    }
  };
  struct Port {
    int port = 0;
  };
  struct Row final : Object {
    std::map<std::string, Port> map;
    Value get(const Selector&) const override { return Value::map(map); }
  };
  const Addresses schema;
  auto in = Expression::compile("lan in TaggedAddresses", schema);
  auto empty = Expression::compile("TaggedAddresses is empty", schema);
  auto not_in = Expression::compile("wan not in TaggedAddresses", schema);
  ASSERT_TRUE(in && empty && not_in);
  Row none;
  Row lan;
  lan.map["lan"] = Port{80};
  EXPECT_FALSE(in->matches(none));
  EXPECT_TRUE(empty->matches(none));
  EXPECT_TRUE(in->matches(lan));
  EXPECT_FALSE(empty->matches(lan));
  EXPECT_TRUE(not_in->matches(lan));
  EXPECT_FALSE(Expression::compile("TaggedAddresses == x", schema).has_value());
}

TEST(FilterEval, SharedAcrossThreads) {
  auto e = Expression::compile("v1 in Tags and Service matches `^w` and Port == 8080", kSchema);
  ASSERT_TRUE(e);
  const Expression copy = *e;  // copies share the immutable program
  FakeService svc;
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) hits[t] += copy.matches(FakeObject(svc)) ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  for (int h : hits) EXPECT_EQ(h, 200);
  EXPECT_EQ(copy.text(), e->text());
}

// ---- errors -------------------------------------------------------------------------------

TEST(FilterErrors, NoMatchFoundListsExpectations) {
  // Consul's text for ?filter=foo (hashicorp/consul#7338).
  EXPECT_EQ(compile_error("foo"),
            "Failed to create boolean expression evaluator: 1:4 (3): no match found, expected: "
            "\"!=\", \".\", \"==\", \"[\", [ \\t\\r\\n] or [a-zA-Z0-9_]");
  // Consul's text for ?filter=Node==host-name (hashicorp/consul#6467).
  EXPECT_EQ(compile_error("Service==host-name"),
            "Failed to create boolean expression evaluator: 1:14 (13): no match found, "
            "expected: \".\", \"[\", [ \\t\\r\\n], [a-zA-Z0-9_] or EOF");
  EXPECT_NE(compile_error("").find("1:1 (0): no match found"), std::string::npos);
  EXPECT_NE(compile_error("Port == 1 or").find("1:13 (12): no match found"), std::string::npos);
  // Lines and columns count from 1; columns count code points.
  EXPECT_NE(compile_error("Port == 1\n and \xc3\xa9").find("2:6 (15)"), std::string::npos);
}

TEST(FilterErrors, PredicateMessages) {
  // Consul's text for Address == 10.10.10.10 (hashicorp/consul#9441).
  EXPECT_EQ(compile_error("Address == 10.10.10.10 "),
            "Failed to create boolean expression evaluator: 1:17 (16): rule \"number\": Invalid "
            "number literal");
  EXPECT_EQ(compile_error("Service == \"abc"),
            "Failed to create boolean expression evaluator: 1:16 (15): rule \"string\": "
            "Unterminated string literal");
  EXPECT_EQ(compile_error("(Port == 1"),
            "Failed to create boolean expression evaluator: 1:11 (10): rule \"grouping\": "
            "Unmatched parentheses");
  EXPECT_EQ(compile_error("abc in 5"),
            "Failed to create boolean expression evaluator: 1:8 (7): rule \"match\": Invalid "
            "selector");
  EXPECT_EQ(compile_error("Meta[5] == x"),
            "Failed to create boolean expression evaluator: 1:6 (5): rule \"index\": Invalid "
            "index");
  EXPECT_EQ(compile_error("Meta[\"a\" == x"),
            "Failed to create boolean expression evaluator: 1:10 (9): rule \"index\": Unclosed "
            "index expression");
  // `\"` ends a double-quoted literal early, so the rest does not unquote (as in go-bexpr).
  EXPECT_EQ(compile_error("Service == \"a\\\"b\""),
            "Failed to create boolean expression evaluator: 1:12 (11): rule \"string\": invalid "
            "syntax");
  EXPECT_NE(compile_error("Service == \"\\q\""), "");
  EXPECT_NE(compile_error("Service == \"a\nb\""), "");
  EXPECT_NE(compile_error("Port == 0123"), "");
}

TEST(FilterErrors, SchemaMessages) {
  EXPECT_EQ(compile_error("Foo == bar"),
            "Failed to create boolean expression evaluator: Selector \"Foo\" is not valid");
  EXPECT_EQ(compile_error("Port.x == 1"),
            "Failed to create boolean expression evaluator: Selector \"Port.x\" is not valid");
  EXPECT_EQ(compile_error("Meta.a.b == 1"),
            "Failed to create boolean expression evaluator: Selector \"Meta.a\" is not valid");
  EXPECT_EQ(compile_error("Tags == x"),
            "Failed to create boolean expression evaluator: Invalid match operator \"Equal\" "
            "for selector \"Tags\"");
  EXPECT_EQ(compile_error("Port matches x"),
            "Failed to create boolean expression evaluator: Invalid match operator \"Matches\" "
            "for selector \"Port\"");
  EXPECT_EQ(compile_error("Port == abc"),
            "Failed to create boolean expression evaluator: Failed to coerce value \"abc\" for "
            "selector \"Port\": strconv.ParseInt: parsing \"abc\": invalid syntax");
  EXPECT_NE(compile_error("EnableTagOverride == yes").find("strconv.ParseBool"), std::string::npos);
  EXPECT_NE(compile_error("ModifyIndex == -1").find("strconv.ParseUint"), std::string::npos);
  EXPECT_NE(compile_error("Service matches \"(\"")
                .find("Failed to compile regular expression "
                      "\"(\": "),
            std::string::npos);
  // Back-references are not RE2 syntax, and would defeat linear-time matching.
  EXPECT_NE(compile_error("Service matches `(a)\\1`").find("regular expression"),
            std::string::npos);
}

// ---- limits -------------------------------------------------------------------------------

TEST(FilterLimits, ExpressionSize) {
  std::string text = "Service == web";
  while (text.size() <= filter_expression_size_max) text += " or Service == web";
  EXPECT_NE(compile_error(text).find("over the limit of 4096"), std::string::npos);
}

TEST(FilterLimits, NestingDepth) {
  auto nested = [](std::size_t depth) {
    return std::string(depth, '(') + "Port == 8080" + std::string(depth, ')');
  };
  EXPECT_TRUE(eval(nested(filter_nesting_depth_max)));
  EXPECT_NE(compile_error(nested(filter_nesting_depth_max + 1)).find("deeper than 64"),
            std::string::npos);
  std::string nots;
  for (std::size_t i = 0; i < filter_nesting_depth_max; ++i) nots += "not ";
  EXPECT_TRUE(eval(nots + "Port == 8080"));  // an even number of nots cancels out
  EXPECT_NE(compile_error("not " + nots + "Port == 8080").find("deeper than"), std::string::npos);
  // Long flat chains are not nesting.
  std::string chain = "Port == 1";
  for (int i = 0; i < 300; ++i) chain += " or Port == 1";
  EXPECT_FALSE(eval(chain));
}

TEST(FilterLimits, RegexSizeAndRepeats) {
  EXPECT_NE(compile_error("Service matches \"" + std::string(1025, 'a') + "\"")
                .find("over the limit of 1024"),
            std::string::npos);
  EXPECT_NE(compile_error("Service matches \"a{1001}\"").find("invalid repeat count"),
            std::string::npos);
  // A count of more digits than fit a machine word (std::regex would overflow on it).
  EXPECT_NE(compile_error("Service matches \"a{1011111111111111111111111111111110}\"")
                .find("invalid repeat count"),
            std::string::npos);
  EXPECT_NE(
      compile_error("Service matches \"a{11111111111111111111,1x\"").find("invalid repeat count"),
      std::string::npos);
  EXPECT_NE(compile_error("Service matches \"((a{100}){100})\"").find("expression too large"),
            std::string::npos);
  EXPECT_TRUE(eval("Service matches \"w{1}e{1,}b{0,5}\""));
}

TEST(FilterLimits, PathologicalRegexStaysFast) {
  FakeService svc;
  svc.name = std::string(10000, 'a');
  // Exponential for a backtracking matcher; linear with the NFA executor.
  EXPECT_FALSE(eval("Service matches \"^(a*)*b$\"", svc));
  EXPECT_TRUE(eval("Service matches \"^(a|aa)*$\"", svc));
  svc.name = std::string(filter_regex_subject_size_max + 1, 'a');
  EXPECT_FALSE(eval("Service matches \"a\"", svc));  // too long to search: no match
}

}  // namespace
}  // namespace pc::filter
