#include "http/json/read.h"

#include <gtest/gtest.h>

namespace pc::http {
namespace {

namespace json = boost::json;

json::object object_of(std::string_view text) {
  auto v = parse_json_body(text);
  EXPECT_TRUE(v.has_value()) << text;
  if (!v || !v->is_object()) return {};
  return v->get_object();
}

TEST(JsonRead, ParsesOneValueAndIgnoresTrailingBytes) {
  auto v = parse_json_body(R"({"a":1} trailing)");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->at("a").as_int64(), 1);
  auto n = parse_json_body("123");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->as_int64(), 123);
}

TEST(JsonRead, MalformedBodies) {
  auto empty = parse_json_body("  \n");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(empty.error().message, "Request decode failed: EOF");

  auto cut = parse_json_body(R"({"a":)");
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().message, "Request decode failed: unexpected EOF");

  auto bad = parse_json_body(R"({"a":x})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().message.starts_with("Request decode failed: invalid JSON at offset"))
      << bad.error().message;

  auto ctx = parse_json_body("[", "Failed to parse body");
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error().message, "Failed to parse body: unexpected EOF");

  std::string deep(100, '[');
  EXPECT_FALSE(parse_json_body(deep + std::string(100, ']')).has_value());
}

TEST(JsonRead, BodyObject) {
  auto obj = parse_json_body(R"({"Name":"x"})");
  ASSERT_TRUE(obj.has_value());
  auto o = body_object(*obj);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ((*o)->size(), 1u);
  auto null = parse_json_body("null");
  ASSERT_TRUE(null.has_value());
  auto n = body_object(*null);
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE((*n)->empty());
  auto arr = parse_json_body("[1]");
  ASSERT_TRUE(arr.has_value());
  auto a = body_object(*arr);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().message,
            "Request decode failed: json: cannot unmarshal array into Go value of type object");
}

TEST(JsonRead, FieldNamesFoldCaseAndUnderscores) {
  for (const char* body : {R"({"LockDelay":"15s"})", R"({"lockdelay":"15s"})",
                           R"({"lock_delay":"15s"})", R"({"LOCK_DELAY":"15s"})"}) {
    json::object o = object_of(body);
    ASSERT_NE(find_field(o, "LockDelay"), nullptr) << body;
  }
  json::object o = object_of(R"({"lockdelayx":1,"lock":2})");
  EXPECT_EQ(find_field(o, "LockDelay"), nullptr);
  EXPECT_TRUE(field_name_matches("node_meta", "NodeMeta"));
  EXPECT_FALSE(field_name_matches("node", "NodeMeta"));
  EXPECT_FALSE(field_name_matches("nodemetas", "NodeMeta"));
  // The later of two keys for one field wins, as in Go.
  json::object twice = object_of(R"({"Name":"first","name":"second"})");
  auto name = get_string(twice, "Name");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->value(), "second");
}

TEST(JsonRead, TypedGetters) {
  json::object o =
      object_of(R"({"Name":"n","Behavior":null,"TTL":"30s","LockDelay":15000000000,"Flags":42,)"
                R"("Neg":-3,"Big":18446744073709551615,"Weight":1.5,"Enable":true,)"
                R"("Value":"aGVsbG8=","Checks":["a",null,"b"],"Meta":{"k":"v","z":null},)"
                R"("Obj":{"x":1},"Arr":[1,2]})");
  EXPECT_EQ(get_string(o, "Name")->value(), "n");
  EXPECT_FALSE(get_string(o, "Behavior")->has_value());  // null leaves the zero value
  EXPECT_FALSE(get_string(o, "Missing")->has_value());
  EXPECT_EQ(get_duration(o, "TTL")->value(), std::chrono::seconds(30));
  EXPECT_EQ(get_duration(o, "LockDelay")->value(), std::chrono::seconds(15));
  EXPECT_EQ(get_uint64(o, "Flags")->value(), 42u);
  EXPECT_EQ(get_int64(o, "Neg")->value(), -3);
  EXPECT_EQ(get_uint64(o, "Big")->value(), 18446744073709551615ull);
  EXPECT_EQ(get_double(o, "Weight")->value(), 1.5);
  EXPECT_EQ(get_double(o, "Flags")->value(), 42.0);
  EXPECT_TRUE(get_bool(o, "Enable")->value());
  EXPECT_EQ(get_bytes(o, "Value")->value(), "hello");
  EXPECT_EQ(get_string_array(o, "Checks")->value(), (std::vector<std::string>{"a", "", "b"}));
  auto meta = get_string_map(o, "Meta");
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->value().size(), 2u);
  EXPECT_EQ(meta->value().at("k"), "v");
  EXPECT_EQ(meta->value().at("z"), "");
  EXPECT_NE(*get_object(o, "Obj"), nullptr);
  EXPECT_EQ(*get_object(o, "Missing"), nullptr);
  EXPECT_EQ((*get_array(o, "Arr"))->size(), 2u);
}

TEST(JsonRead, WrongTypesNameFieldAndType) {
  json::object o = object_of(
      R"({"Name":5,"Flags":"x","Neg":-1,"Frac":1.5,"Enable":"yes","TTL":"abc","Value":"!!",)"
      R"("Checks":[1],"Meta":[],"Big":18446744073709551615})");
  auto name = get_string(o, "Name");
  ASSERT_FALSE(name.has_value());
  EXPECT_EQ(name.error().code, core::Code::kInvalidArgument);
  EXPECT_EQ(name.error().message,
            "Request decode failed: json: cannot unmarshal number 5 into Go struct field Name of "
            "type string");
  EXPECT_EQ(get_uint64(o, "Flags").error().message,
            "Request decode failed: json: cannot unmarshal string into Go struct field Flags of "
            "type uint64");
  EXPECT_EQ(get_uint64(o, "Neg").error().message,
            "Request decode failed: json: cannot unmarshal number -1 into Go struct field Neg of "
            "type uint64");
  EXPECT_EQ(get_uint64(o, "Frac").error().message,
            "Request decode failed: json: cannot unmarshal number 1.5 into Go struct field Frac "
            "of type uint64");
  EXPECT_FALSE(get_int64(o, "Big").has_value());
  EXPECT_EQ(get_bool(o, "Enable").error().message,
            "Request decode failed: json: cannot unmarshal string into Go struct field Enable of "
            "type bool");
  EXPECT_EQ(get_duration(o, "TTL").error().message,
            "Request decode failed: time: invalid duration \"abc\"");
  EXPECT_FALSE(get_bytes(o, "Value").has_value());
  EXPECT_FALSE(get_string_array(o, "Checks").has_value());
  EXPECT_FALSE(get_string_map(o, "Meta").has_value());
  EXPECT_FALSE(get_object(o, "Name").has_value());
  EXPECT_FALSE(get_array(o, "Name").has_value());
  EXPECT_EQ(get_string(o, "Name", "Failed to parse body")
                .error()
                .message.rfind("Failed to parse body: json: cannot unmarshal", 0),
            0u);
}

}  // namespace
}  // namespace pc::http
