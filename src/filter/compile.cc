// compile(): the parser's tree checked against the caller's Schema, with every literal
// converted and every regular expression compiled once, so evaluation does no parsing.
// Checks and messages follow go-bexpr's validate.go and coerce.go (the versions Consul used
// while it validated filters against field configurations).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/strings.h"
#include "filter/detail/program.h"
#include "filter/filter.h"

namespace pc::filter {

std::string Selector::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < path_.size(); ++i) {
    if (i > 0) out.push_back('.');
    out += path_[i];
  }
  return out;
}

std::string_view Value::as_string() const {
  if (const auto* owned = std::get_if<std::string>(&data_)) return *owned;
  return std::get<std::string_view>(data_);
}

core::Error selector_not_valid(const Selector& selector, std::size_t segments) {
  std::vector<std::string> prefix(
      selector.path().begin(),
      selector.path().begin() + static_cast<std::ptrdiff_t>(std::min(segments, selector.size())));
  return core::Error{
      core::Code::kInvalidArgument,
      "Selector " + core::go_quote(Selector(std::move(prefix)).to_string()) + " is not valid"};
}

namespace detail {

std::string_view op_name(MatchOp op) {
  switch (op) {
    case MatchOp::kEqual: return "Equal";
    case MatchOp::kNotEqual: return "Not Equal";
    case MatchOp::kIn: return "In";
    case MatchOp::kNotIn: return "Not In";
    case MatchOp::kIsEmpty: return "Is Empty";
    case MatchOp::kIsNotEmpty: return "Is Not Empty";
    case MatchOp::kMatches: return "Matches";
    case MatchOp::kNotMatches: return "Not Matches";
  }
  return "UNKNOWN";
}

bool negated(MatchOp op) {
  return op == MatchOp::kNotEqual || op == MatchOp::kNotIn || op == MatchOp::kIsNotEmpty ||
         op == MatchOp::kNotMatches;
}

MatchOp positive(MatchOp op) {
  switch (op) {
    case MatchOp::kNotEqual: return MatchOp::kEqual;
    case MatchOp::kNotIn: return MatchOp::kIn;
    case MatchOp::kIsNotEmpty: return MatchOp::kIsEmpty;
    case MatchOp::kNotMatches: return MatchOp::kMatches;
    default: return op;
  }
}

namespace {

// Go's base-0 integer syntax: an optional sign, then 0x / 0o / 0b / leading-0 octal or
// decimal digits. (Go also allows '_' between digits after a prefix; we do not.)
std::optional<std::uint64_t> parse_magnitude(std::string_view s) {
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 8;
    s.remove_prefix(base == 8 && p != 'o' ? 1 : 2);
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::int64_t> parse_go_int(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) return std::nullopt;
  std::optional<std::uint64_t> m = parse_magnitude(s);
  if (!m) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (*m > kMax + 1) return std::nullopt;
    return *m == kMax + 1 ? std::numeric_limits<std::int64_t>::min()
                          : -static_cast<std::int64_t>(*m);
  }
  if (*m > kMax) return std::nullopt;
  return static_cast<std::int64_t>(*m);
}

std::optional<std::uint64_t> parse_go_uint(std::string_view s) {
  if (!s.empty() && s[0] == '+') return std::nullopt;  // ParseUint takes no sign at all
  if (!s.empty() && s[0] == '-') return std::nullopt;
  return parse_magnitude(s);
}

std::optional<double> parse_go_float(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  const std::string lower = core::to_lower(s);
  if (lower == "inf" || lower == "infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s.empty() || s[0] == '+' || s[0] == '-') return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -v : v;
}

std::optional<bool> parse_go_bool(std::string_view s) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == t) return true;
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == f) return false;
  }
  return std::nullopt;
}

namespace {

std::size_t saturating_add(std::size_t a, std::size_t b) {
  constexpr std::size_t kCap = std::size_t{1} << 40;
  return std::min(kCap, a + b);
}
std::size_t saturating_mul(std::size_t a, std::size_t b) {
  constexpr std::size_t kCap = std::size_t{1} << 40;
  if (a != 0 && b > kCap / a) return kCap;
  return std::min(kCap, a * b);
}

// An upper estimate of the automaton libstdc++ builds: it copies a group once per counted
// repetition, so `(a{1000}){1000}` is a million states from 13 bytes. Returns an error for
// a repeat count above RE2's limit or a program above ours.
core::Status check_regex_size(std::string_view p) {
  struct Frame {
    std::size_t sum = 0;   // states in this group so far
    std::size_t last = 0;  // states of the last atom, which a quantifier would copy
  };
  std::vector<Frame> stack(1);
  auto atom = [&](std::size_t n) {
    stack.back().sum = saturating_add(stack.back().sum, n);
    stack.back().last = n;
  };
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      ++i;
      atom(1);
    } else if (c == '[') {
      ++i;
      if (i < p.size() && p[i] == '^') ++i;
      while (i < p.size() && p[i] != ']') i += p[i] == '\\' ? 2 : 1;
      atom(1);
    } else if (c == '(') {
      stack.emplace_back();
    } else if (c == ')' && stack.size() > 1) {
      const std::size_t group = stack.back().sum;
      stack.pop_back();
      atom(std::max<std::size_t>(group, 1));
    } else if (c == '*' || c == '+' || c == '?') {
      Frame& f = stack.back();
      f.sum = saturating_add(f.sum, f.last);
      f.last = saturating_mul(f.last, 2);
    } else if (c == '{') {
      // {n}, {n,} or {n,m}; anything else is a literal brace or a syntax error for std::regex.
      std::size_t j = i + 1;
      // Every digit is consumed (a long count must not leave digits that std::regex would
      // then parse itself, overflowing); the value stops growing once past the limit.
      auto digits = [&](std::size_t& out) {
        const std::size_t from = j;
        out = 0;
        while (j < p.size() && p[j] >= '0' && p[j] <= '9') {
          if (out <= filter_regex_repeat_max) out = out * 10 + static_cast<std::size_t>(p[j] - '0');
          ++j;
        }
        return j > from;
      };
      std::size_t n = 0;
      std::size_t m = 0;
      bool comma = false;
      bool has_m = false;
      if (digits(n)) {
        if (j < p.size() && p[j] == ',') {
          comma = true;
          ++j;
          has_m = digits(m);
        }
        // Refused even when no '}' follows: std::regex reads the digits of "{n" as a count
        // before it finds the brace unclosed, and overflows on a long one.
        if (n > filter_regex_repeat_max || (has_m && m > filter_regex_repeat_max)) {
          return core::Error{core::Code::kInvalidArgument, "invalid repeat count"};
        }
        if (j < p.size() && p[j] == '}') {
          const std::size_t count = std::max<std::size_t>(has_m ? m : comma ? n + 1 : n, 1);
          Frame& f = stack.back();
          f.sum = saturating_add(f.sum, saturating_mul(f.last, count - 1));
          f.last = saturating_mul(f.last, count);
          i = j;
          continue;
        }
      }
      atom(1);
    } else if (c == '|') {
      stack.back().last = 0;
    } else {
      atom(1);
    }
  }
  std::size_t total = 0;
  for (const Frame& f : stack) total = saturating_add(total, f.sum);
  if (total > filter_regex_program_size_max) {
    return core::Error{core::Code::kInvalidArgument, "expression too large"};
  }
  return core::ok();
}

}  // namespace

core::Result<std::shared_ptr<const std::regex>> compile_regex(std::string_view pattern) {
  auto fail = [&](std::string_view why) {
    return core::Error{
        core::Code::kInvalidArgument,
        fmt::format("Failed to compile regular expression {}: {}", core::go_quote(pattern), why)};
  };
  if (pattern.size() > filter_regex_pattern_size_max) {
    return fail(fmt::format("pattern is {} bytes, over the limit of {}", pattern.size(),
                            filter_regex_pattern_size_max));
  }
  // __polynomial makes libstdc++ match with its Thompson-NFA executor: time linear in the
  // subject for a given pattern and no recursion per subject byte, so `(a*)*b` cannot hang a
  // request. It refuses back-references, which RE2 (go-bexpr's engine) has no syntax for.
  auto flags = std::regex::ECMAScript | std::regex_constants::__polynomial;
  std::string_view body = pattern;
  // RE2's leading case-insensitive flag is common in filters; ECMAScript has no inline
  // flags, so it becomes the icase option.
  if (body.starts_with("(?i)")) {
    body.remove_prefix(4);
    flags |= std::regex::icase;
  }
  if (core::Status size = check_regex_size(body); !size) return fail(size.error().message);
  try {
    return std::make_shared<const std::regex>(body.begin(), body.end(), flags);
  } catch (const std::regex_error& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

namespace {

bool op_allowed(FieldType type, MatchOp op) {
  const MatchOp p = positive(op);
  switch (type) {
    case FieldType::kString:
    case FieldType::kAny: return true;
    case FieldType::kInt:
    case FieldType::kUint:
    case FieldType::kFloat:
    case FieldType::kBool: return p == MatchOp::kEqual;
    case FieldType::kStringList:
    case FieldType::kStringMap: return p == MatchOp::kIn || p == MatchOp::kIsEmpty;
  }
  return false;
}

core::Error invalid(std::string message) {
  return core::Error{core::Code::kInvalidArgument, std::move(message)};
}

// go-bexpr's "Failed to coerce value" text, with the strconv error it would quote.
core::Error coerce_error(const Match& m, std::string_view func) {
  return invalid(
      fmt::format("Failed to coerce value {} for selector {}: strconv.{}: parsing {}: "
                  "invalid syntax",
                  core::go_quote(m.value.raw), core::go_quote(m.selector.to_string()), func,
                  core::go_quote(m.value.raw)));
}

core::Status coerce(Match& m) {
  Literal& v = m.value;
  switch (m.type) {
    case FieldType::kInt:
      v.as_int = parse_go_int(v.raw);
      if (!v.as_int) return coerce_error(m, "ParseInt");
      break;
    case FieldType::kUint:
      v.as_uint = parse_go_uint(v.raw);
      if (!v.as_uint) return coerce_error(m, "ParseUint");
      break;
    case FieldType::kFloat:
      v.as_float = parse_go_float(v.raw);
      if (!v.as_float) return coerce_error(m, "ParseFloat");
      break;
    case FieldType::kBool:
      v.as_bool = parse_go_bool(v.raw);
      if (!v.as_bool) return coerce_error(m, "ParseBool");
      break;
    case FieldType::kAny:
      // The kind is known only per object, so keep every reading that parses.
      v.as_int = parse_go_int(v.raw);
      v.as_uint = parse_go_uint(v.raw);
      v.as_float = parse_go_float(v.raw);
      v.as_bool = parse_go_bool(v.raw);
      break;
    case FieldType::kString:
    case FieldType::kStringList:
    case FieldType::kStringMap: break;
  }
  return core::ok();
}

}  // namespace

core::Status validate(const Schema& schema, Program& program) {
  for (Match& m : program.matches) {
    core::Result<Field> field = schema.resolve(m.selector);
    if (!field) return field.error();
    m.selector = Selector(m.selector.path(), field->id);
    m.type = field->type;
    if (!op_allowed(m.type, m.op)) {
      return invalid(fmt::format("Invalid match operator {} for selector {}",
                                 core::go_quote(op_name(m.op)),
                                 core::go_quote(m.selector.to_string())));
    }
    if (!m.has_value) continue;
    if (core::Status st = coerce(m); !st) return st;
    if (positive(m.op) == MatchOp::kMatches) {
      auto re = compile_regex(m.value.raw);
      if (!re) return re.error();
      m.value.regex = std::move(*re);
    }
  }
  return core::ok();
}

}  // namespace detail

core::Result<Expression> Expression::compile(std::string_view text, const Schema& schema) {
  constexpr std::string_view kContext = "Failed to create boolean expression evaluator";
  if (text.size() > filter_expression_size_max) {
    return core::Error{core::Code::kInvalidArgument,
                       fmt::format("{}: filter is {} bytes, over the limit of {}", kContext,
                                   text.size(), filter_expression_size_max)};
  }
  auto program = std::make_shared<detail::Program>();
  program->text.assign(text);
  if (core::Status st = detail::parse(text, *program); !st) {
    return st.error().with_context(kContext);
  }
  if (core::Status st = detail::validate(schema, *program); !st) {
    return st.error().with_context(kContext);
  }
  return Expression(std::move(program));
}

}  // namespace pc::filter
