#pragma once
// Private to filter/: the syntax tree the parser builds and the compiled program the
// evaluator walks. A Program is immutable once compile() returns.
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "filter/filter.h"

namespace pc::filter::detail {

// go-bexpr's match operators; `contains` parses to kIn and `not contains` to kNotIn.
enum class MatchOp : std::uint8_t {
  kEqual,
  kNotEqual,
  kIn,
  kNotIn,
  kIsEmpty,
  kIsNotEmpty,
  kMatches,
  kNotMatches,
};

// go-bexpr's names ("Equal", "Not In", ...), used in its error messages.
std::string_view op_name(MatchOp op);
// The operator without its negation (kNotIn -> kIn), and whether it was negated.
MatchOp positive(MatchOp op);
bool negated(MatchOp op);

// The literal of a match, converted at compile time to whatever the field needs.
struct Literal {
  std::string raw;
  std::optional<std::int64_t> as_int;
  std::optional<std::uint64_t> as_uint;
  std::optional<double> as_float;
  std::optional<bool> as_bool;
  std::shared_ptr<const std::regex> regex;  // set for kMatches/kNotMatches only
};

struct Match {
  Selector selector;
  MatchOp op = MatchOp::kEqual;
  bool has_value = false;  // false for `is empty` / `is not empty`
  FieldType type = FieldType::kAny;
  Literal value;
};

// and/or nodes are n-ary (the parser flattens chains), so evaluation recurses once per
// parenthesis or `not` level only, which the parser has bounded.
struct Node {
  enum class Kind : std::uint8_t { kAnd, kOr, kNot, kMatch };
  Kind kind = Kind::kMatch;
  std::vector<Node> children;  // kAnd, kOr: two or more; kNot: one
  std::size_t match = 0;       // kMatch: index into Program::matches
};

struct Program {
  std::string text;
  Node root;
  std::vector<Match> matches;
};

// Parses `text` into `program` (root and matches with raw literals); errors carry go-bexpr's
// parser messages ("1:4 (3): no match found, expected: ...") without the outer prefix.
core::Status parse(std::string_view text, Program& program);

// Resolves selectors against the schema, checks operators, converts literals and compiles
// regular expressions.
core::Status validate(const Schema& schema, Program& program);

// Go's strconv parsers, which go-bexpr uses to coerce literals.
std::optional<std::int64_t> parse_go_int(std::string_view s);
std::optional<std::uint64_t> parse_go_uint(std::string_view s);
std::optional<double> parse_go_float(std::string_view s);
std::optional<bool> parse_go_bool(std::string_view s);

// Compiles a `matches` pattern (ECMAScript syntax, polynomial-time matching) or explains
// why not, in go-bexpr's words.
core::Result<std::shared_ptr<const std::regex>> compile_regex(std::string_view pattern);

bool evaluate(const Program& program, const Node& node, const Object& object);

}  // namespace pc::filter::detail
