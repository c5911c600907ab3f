#pragma once
// A parser for the HCL1 subset Consul users write (ACL rules, agent configuration, service
// definitions), producing a small tree of values. The same parser reads JSON, which HCL1
// accepts as an alternative syntax: `parse_json` takes a JSON document and gives the tree the
// equivalent HCL would give, so callers decode one shape.
//
// The tree keeps what HCL1's own AST keeps and a JSON object would lose:
//   * an object is an ordered list of members, and a key may repeat. A block repeated with
//     different labels (`service "a" {..}  service "b" {..}`) is two members named "service",
//     which HCL1's JSON equivalence writes as `"service": [{"a": {..}}, {"b": {..}}]`.
//   * a block's labels become nested single-member objects:
//     `service "web" { policy = "read" }` is {service: {web: {policy: "read"}}}.
//   * every value and member carries its line and column, so a caller that finds a valid
//     document meaningless (an unknown ACL resource, say) can name the place.
//
// Errors are InvalidArgument and start with the position: `At 3:14: expected '=' or '{'
// after key "policy"`. Input size and nesting depth are bounded (core/limits.h), so the
// parser's recursion and memory are bounded whatever the bytes.
//
// Thread-safety: the functions are pure; values are plain data.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::core::hcl {

// 1-based line and column (columns count bytes) of a token's first byte.
struct Position {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

enum class Kind : std::uint8_t { kNull, kBool, kNumber, kString, kList, kObject };

std::string_view kind_name(Kind kind);

struct Member;

// One node of the tree. Only the fields of its kind are meaningful.
struct Value {
  Kind kind = Kind::kNull;
  Position position;
  bool boolean = false;
  double number = 0;  // kNumber: the value as a double
  std::string text;   // kString: the decoded string; kNumber: the literal as written
  std::vector<Value> list;
  std::vector<Member> object;

  bool is_object() const { return kind == Kind::kObject; }
  bool is_string() const { return kind == Kind::kString; }
  // The first member named `key`, or nullptr.
  const Value* find(std::string_view key) const;
};

struct Member {
  std::string key;
  Position position;  // of the key
  Value value;
};

// An HCL1 body (`key = value`, blocks, comments) as an object. A document that starts with
// `{` is read as JSON-in-HCL, so an HCL caller accepts either syntax.
Result<Value> parse(std::string_view text);

// A JSON document (the top level must be an object) as the same tree. JSON's `null` becomes
// kNull; duplicate keys are kept in order, as HCL1's JSON parser does.
Result<Value> parse_json(std::string_view text);

// "At 3:14: " — the prefix every error of a position starts with.
std::string at(Position position);

}  // namespace pc::core::hcl
