// Evaluation: walks the compiled program against one Object. Everything that can fail was
// settled by compile(), so this only compares; recursion depth is bounded by the parser's
// nesting limit because and/or nodes are n-ary.
#include <algorithm>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/strings.h"
#include "filter/detail/program.h"
#include "filter/filter.h"

namespace pc::filter {
namespace detail {
namespace {

using Kind = Value::Kind;

// go-bexpr's NotPresentDisposition: nothing equals, contains or matches a missing map key,
// and a missing key is empty.
bool missing_disposition(MatchOp op) {
  switch (op) {
    case MatchOp::kNotEqual:
    case MatchOp::kNotIn:
    case MatchOp::kIsEmpty:
    case MatchOp::kNotMatches: return true;
    default: return false;
  }
}

bool kind_fits(FieldType type, Kind kind) {
  switch (type) {
    case FieldType::kAny: return true;
    case FieldType::kString: return kind == Kind::kString;
    case FieldType::kInt: return kind == Kind::kInt;
    case FieldType::kUint: return kind == Kind::kUint;
    case FieldType::kFloat: return kind == Kind::kFloat;
    case FieldType::kBool: return kind == Kind::kBool;
    case FieldType::kStringList: return kind == Kind::kStringList;
    case FieldType::kStringMap: return kind == Kind::kStringMap;
  }
  return false;
}

bool regex_search(const std::regex& re, std::string_view subject) {
  try {
    return std::regex_search(subject.begin(), subject.end(), re);
  } catch (const std::exception&) {
    // libstdc++ may give up on a pathological match (error_complexity / error_stack); a
    // filter then simply does not match rather than failing the request.
    return false;
  }
}

template <typename T>
std::optional<bool> equal_to(const std::optional<T>& literal, T actual) {
  if (!literal) return std::nullopt;  // only for kAny fields: the literal is not of this kind
  return *literal == actual;
}

// The positive operator on a present value; nullopt when the operator does not apply to the
// value's kind (then the whole match is false, negated or not).
std::optional<bool> positive_match(const Match& m, MatchOp op, const Value& v) {
  const Literal& lit = m.value;
  switch (v.kind()) {
    case Kind::kString: {
      const std::string_view s = v.as_string();
      switch (op) {
        case MatchOp::kEqual: return s == lit.raw;
        case MatchOp::kIn: return s.find(lit.raw) != std::string_view::npos;
        case MatchOp::kIsEmpty: return s.empty();
        case MatchOp::kMatches:
          if (s.size() > filter_regex_subject_size_max) return std::nullopt;
          return regex_search(*lit.regex, s);
        default: return std::nullopt;
      }
    }
    case Kind::kInt:
      if (op != MatchOp::kEqual) return std::nullopt;
      return equal_to(lit.as_int, v.as_int());
    case Kind::kUint:
      if (op != MatchOp::kEqual) return std::nullopt;
      return equal_to(lit.as_uint, v.as_uint());
    case Kind::kFloat:
      if (op != MatchOp::kEqual) return std::nullopt;
      return equal_to(lit.as_float, v.as_float());
    case Kind::kBool:
      if (op != MatchOp::kEqual) return std::nullopt;
      return equal_to(lit.as_bool, v.as_bool());
    case Kind::kStringList: {
      const auto items = v.as_list();
      if (op == MatchOp::kIn) return std::find(items.begin(), items.end(), lit.raw) != items.end();
      if (op == MatchOp::kIsEmpty) return items.empty();
      return std::nullopt;
    }
    case Kind::kStringMap: {
      const MapKeys& map = v.as_map();
      if (op == MatchOp::kIn) return map.contains(lit.raw);
      if (op == MatchOp::kIsEmpty) return map.empty();
      return std::nullopt;
    }
    case Kind::kMissing: break;
  }
  return std::nullopt;
}

bool evaluate_match(const Match& m, const Object& object) {
  const Value v = object.get(m.selector);
  if (v.kind() == Kind::kMissing) return missing_disposition(m.op);
  if (!kind_fits(m.type, v.kind())) return false;
  const std::optional<bool> result = positive_match(m, positive(m.op), v);
  if (!result) return false;
  return negated(m.op) ? !*result : *result;
}

void dump_node(const Program& program, const Node& node, int level, std::string& out) {
  const std::string indent(static_cast<std::size_t>(level) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(level + 1) * 2, ' ');
  switch (node.kind) {
    case Node::Kind::kAnd:
    case Node::Kind::kOr:
    case Node::Kind::kNot:
      out += indent +
             (node.kind == Node::Kind::kAnd  ? "And"
              : node.kind == Node::Kind::kOr ? "Or"
                                             : "Not") +
             " {\n";
      for (const Node& child : node.children) dump_node(program, child, level + 1, out);
      out += indent + "}\n";
      return;
    case Node::Kind::kMatch: {
      const Match& m = program.matches[node.match];
      out += fmt::format("{}{} {{\n{}Selector: {}\n", indent, op_name(m.op), inner,
                         m.selector.to_string());
      if (m.has_value) out += fmt::format("{}Value: {}\n", inner, core::go_quote(m.value.raw));
      out += indent + "}\n";
      return;
    }
  }
}

}  // namespace

bool evaluate(const Program& program, const Node& node, const Object& object) {
  switch (node.kind) {
    case Node::Kind::kAnd:
      for (const Node& child : node.children) {
        if (!evaluate(program, child, object)) return false;
      }
      return true;
    case Node::Kind::kOr:
      for (const Node& child : node.children) {
        if (evaluate(program, child, object)) return true;
      }
      return false;
    case Node::Kind::kNot: return !evaluate(program, node.children.front(), object);
    case Node::Kind::kMatch: return evaluate_match(program.matches[node.match], object);
  }
  return false;
}

}  // namespace detail

bool Expression::matches(const Object& object) const {
  return detail::evaluate(*program_, program_->root, object);
}

const std::string& Expression::text() const {
  return program_->text;
}

std::string Expression::dump() const {
  std::string out;
  detail::dump_node(*program_, program_->root, 0, out);
  return out;
}

}  // namespace pc::filter
