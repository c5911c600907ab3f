// The filter grammar, a hand-written twin of go-bexpr's grammar/grammar.peg (a PEG that
// pigeon turns into a parser). It follows the PEG rule for rule so that inputs are accepted
// exactly when go-bexpr accepts them and the error texts come out the same: pigeon reports
// every literal or character class that failed at the farthest position reached, sorted,
// or the messages of the semantic predicates (`rule "number": Invalid number literal`).
//
// Two deliberate departures keep a hostile filter cheap: `a or b or c` and `a and b and c`
// are read as loops rather than by PEG's right recursion, which re-parses the left operand
// when the operator is missing (the same language and the same expectations, but linear
// time and n-ary nodes); and parenthesis and `not` nesting is bounded.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/strings.h"
#include "filter/detail/program.h"

namespace pc::filter::detail {
namespace {

constexpr bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
constexpr bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
constexpr bool is_ident(char c) {
  return is_alpha(c) || is_digit(c) || c == '_';
}
// JSON pointer segment bytes: go-bexpr's [\pL\pN-_.~|]; any non-ASCII byte stands in for
// \pL and \pN, which is wider than Unicode's letters and digits but never narrower.
constexpr bool is_pointer_char(char c) {
  return is_ident(c) || c == '-' || c == '.' || c == '~' || c == '|' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The label pigeon prints for the end of input (its `!.` expectation).
constexpr std::string_view kEofLabel = "!.";

// Go's strconv.Unquote for the two literal forms the grammar admits; nullopt is Go's
// "invalid syntax".
std::optional<std::string> go_unquote(std::string_view quoted) {
  const char quote = quoted.front();
  std::string_view body = quoted.substr(1, quoted.size() - 2);
  std::string out;
  if (quote == '`') {
    // Raw strings keep every byte except carriage returns, which Go drops.
    for (char c : body) {
      if (c != '\r') out.push_back(c);
    }
    return out;
  }
  if (body.find('\n') != std::string_view::npos) return std::nullopt;
  auto hex = [](char c) -> int {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::size_t i = 0;
  while (i < body.size()) {
    if (body[i] != '\\') {
      out.push_back(body[i++]);
      continue;
    }
    if (++i >= body.size()) return std::nullopt;
    const char e = body[i++];
    switch (e) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case '\\': out.push_back('\\'); break;
      case '"': out.push_back('"'); break;
      case 'x':
      case 'u':
      case 'U': {
        const std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n > body.size()) return std::nullopt;
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < n; ++k) {
          const int h = hex(body[i + k]);
          if (h < 0) return std::nullopt;
          v = v * 16 + static_cast<std::uint32_t>(h);
        }
        i += n;
        if (e == 'x') {
          out.push_back(static_cast<char>(v));  // \x is a byte, not a code point
        } else {
          if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return std::nullopt;
          core::append_utf8(out, v);
        }
        break;
      }
      default: {
        // Three octal digits, at most \377.
        if (e < '0' || e > '7' || i + 2 > body.size()) return std::nullopt;
        std::uint32_t v = static_cast<std::uint32_t>(e - '0');
        for (std::size_t k = 0; k < 2; ++k) {
          const char o = body[i + k];
          if (o < '0' || o > '7') return std::nullopt;
          v = v * 8 + static_cast<std::uint32_t>(o - '0');
        }
        if (v > 0xff) return std::nullopt;
        i += 2;
        out.push_back(static_cast<char>(v));
      }
    }
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view in, Program& program) : in_(in), program_(program) {}

  core::Status run() {
    // Input <- _? OrExpression _? EOF. (go-bexpr's first alternative, a parenthesized
    // whole, accepts nothing more and fails the same way, so it is folded into this one.)
    opt_ws();
    std::optional<Node> root = or_expr();
    if (root) {
      opt_ws();
      if (!eof()) root.reset();
    }
    if (limit_error_) return *limit_error_;
    if (!errors_.empty()) return join_errors();
    if (!root) {
      return core::Error{core::Code::kInvalidArgument,
                         position(fail_pos_) + ": no match found, expected: " + expected_list()};
    }
    program_.root = std::move(*root);
    return core::ok();
  }

 private:
  // ---- primitives ------------------------------------------------------------------------
  // Each matcher either consumes input and returns true, or leaves pos_ alone, records what
  // it wanted at pos_ (pigeon keeps only the farthest position's wants) and returns false.

  void expect(std::size_t pos, std::string_view what) {
    if (pos < fail_pos_) return;
    if (pos > fail_pos_) {
      fail_pos_ = pos;
      expected_.clear();
    }
    if (std::find(expected_.begin(), expected_.end(), what) == expected_.end()) {
      expected_.emplace_back(what);
    }
  }

  bool lit(std::string_view s) {
    if (in_.substr(pos_, s.size()) == s) {
      pos_ += s.size();
      return true;
    }
    expect(pos_, core::go_quote(s));
    return false;
  }

  // _ <- [ \t\r\n]+
  bool ws() {
    if (pos_ >= in_.size() || !is_ws(in_[pos_])) {
      expect(pos_, "[ \\t\\r\\n]");
      return false;
    }
    while (pos_ < in_.size() && is_ws(in_[pos_])) ++pos_;
    expect(pos_, "[ \\t\\r\\n]");  // the `+` loop stops on a failed attempt, as in pigeon
    return true;
  }
  void opt_ws() { (void)ws(); }

  // EOF <- !.
  bool eof() {
    if (pos_ < in_.size()) {
      expect(pos_, kEofLabel);
      return false;
    }
    return true;
  }

  // A character class: one byte that `pred` accepts.
  template <typename Pred>
  bool cls(Pred pred, std::string_view label) {
    if (pos_ < in_.size() && pred(in_[pos_])) {
      ++pos_;
      return true;
    }
    expect(pos_, label);
    return false;
  }

  // A semantic predicate's or action's error, as pigeon prefixes it with the rule's name.
  void error(std::size_t pos, std::string_view rule, std::string_view message) {
    std::string text = position(pos) + ": rule " + std::string(rule) + ": " + std::string(message);
    if (std::find(errors_.begin(), errors_.end(), text) == errors_.end()) {
      errors_.push_back(std::move(text));
    }
  }

  // Nesting guard for parentheses and `not`: both recurse in the parser and the evaluator.
  bool enter(std::size_t pos) {
    if (depth_ >= filter_nesting_depth_max) {
      if (!limit_error_) {
        limit_error_ = core::Error{
            core::Code::kInvalidArgument,
            fmt::format("{}: expression nests parentheses and 'not' deeper than {} levels",
                        position(pos), filter_nesting_depth_max)};
      }
      return false;
    }
    ++depth_;
    return true;
  }

  // pigeon's "line:col (offset)"; columns count UTF-8 code points from 1.
  std::string position(std::size_t pos) const {
    std::size_t line = 1;
    std::size_t col = 1;
    for (std::size_t i = 0; i < pos && i < in_.size(); ++i) {
      if (in_[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(in_[i]) & 0xc0u) != 0x80u) {
        ++col;
      }
    }
    // col counted the code points before pos, so it is already the 1-based column.
    return fmt::format("{}:{} ({})", line, col, pos);
  }

  std::string expected_list() const {
    std::vector<std::string> list;
    bool eof = false;
    for (const std::string& e : expected_) {
      if (e == kEofLabel) {
        eof = true;
      } else {
        list.push_back(e);
      }
    }
    std::sort(list.begin(), list.end());
    if (eof) list.emplace_back("EOF");  // pigeon lists EOF last
    if (list.size() <= 1) return list.empty() ? std::string() : list[0];
    std::string out;
    for (std::size_t i = 0; i + 1 < list.size(); ++i) {
      if (i > 0) out += ", ";
      out += list[i];
    }
    return out + " or " + list.back();
  }

  core::Status join_errors() const {
    std::string text;
    for (const std::string& e : errors_) {
      if (!text.empty()) text.push_back('\n');
      text += e;
    }
    return core::Error{core::Code::kInvalidArgument, std::move(text)};
  }

  // ---- expressions -----------------------------------------------------------------------

  // OrExpression <- AndExpression _ "or" _ OrExpression / AndExpression
  std::optional<Node> or_expr() { return chain(Node::Kind::kOr, "or"); }
  // AndExpression <- NotExpression _ "and" _ AndExpression / NotExpression
  std::optional<Node> and_expr() { return chain(Node::Kind::kAnd, "and"); }

  std::optional<Node> chain(Node::Kind kind, std::string_view keyword) {
    auto operand = [&]() { return kind == Node::Kind::kOr ? and_expr() : not_expr(); };
    std::optional<Node> first = operand();
    if (!first) return std::nullopt;
    Node node{kind, {}, 0};
    node.children.push_back(std::move(*first));
    while (true) {
      const std::size_t save = pos_;
      std::optional<Node> next;
      if (ws() && lit(keyword) && ws()) next = operand();
      if (!next) {
        pos_ = save;  // the PEG falls back to the operands read so far
        break;
      }
      // Flatten `a or (b or c)`'s shape into one n-ary node; evaluation order is unchanged.
      if (next->kind == kind) {
        for (Node& child : next->children) node.children.push_back(std::move(child));
      } else {
        node.children.push_back(std::move(*next));
      }
    }
    if (node.children.size() == 1) return std::move(node.children.front());
    return node;
  }

  // NotExpression <- "not" _ NotExpression / ParenthesizedExpression
  std::optional<Node> not_expr() {
    const std::size_t start = pos_;
    if (lit("not") && ws()) {
      if (!enter(start)) return std::nullopt;
      std::optional<Node> inner = not_expr();
      --depth_;
      if (inner) {
        // go-bexpr folds `not not x` into x.
        if (inner->kind == Node::Kind::kNot) return std::move(inner->children.front());
        Node node{Node::Kind::kNot, {}, 0};
        node.children.push_back(std::move(*inner));
        return node;
      }
      if (limit_error_) return std::nullopt;
    }
    pos_ = start;
    return paren_expr();
  }

  // ParenthesizedExpression "grouping" <- "(" _? OrExpression _? ")" / MatchExpression
  //                                      / "(" _? OrExpression _? !")" &{Unmatched}
  std::optional<Node> paren_expr() {
    const std::size_t start = pos_;
    if (lit("(")) {
      if (!enter(start)) return std::nullopt;
      opt_ws();
      std::optional<Node> inner = or_expr();
      --depth_;
      if (inner) {
        opt_ws();
        if (lit(")")) return inner;
        const std::size_t unmatched_at = pos_;
        pos_ = start;
        if (std::optional<Node> m = match_expr()) return m;  // cannot start with '('
        error(unmatched_at, "\"grouping\"", "Unmatched parentheses");
        pos_ = start;
        return std::nullopt;
      }
      pos_ = start;
    }
    return match_expr();
  }

  // MatchExpression "match" <- MatchSelectorOpValue / MatchSelectorOp / MatchValueOpSelector
  std::optional<Node> match_expr() {
    const std::size_t start = pos_;
    Match m;
    // MatchSelectorOpValue <- Selector (== / != / contains / not contains / matches /
    //                                    not matches) Value
    std::vector<std::string> path;
    if (selector(path)) {
      const std::size_t after_selector = pos_;
      if (std::optional<MatchOp> op = op_with_value()) {
        if (value(m.value.raw)) {
          m.selector = Selector(std::move(path));
          m.op = *op;
          m.has_value = true;
          return add(std::move(m));
        }
      }
      // MatchSelectorOp <- Selector (is empty / is not empty)
      pos_ = after_selector;
      if (std::optional<MatchOp> op = op_without_value()) {
        m.selector = Selector(std::move(path));
        m.op = *op;
        return add(std::move(m));
      }
    }
    // MatchValueOpSelector "match" <- Value (in / not in) Selector
    //                               / Value (in / not in) !Selector &{Invalid selector}
    pos_ = start;
    if (value(m.value.raw)) {
      if (std::optional<MatchOp> op = op_in()) {
        const std::size_t selector_at = pos_;
        std::vector<std::string> rhs;
        if (selector(rhs)) {
          m.selector = Selector(std::move(rhs));
          m.op = *op;
          m.has_value = true;
          return add(std::move(m));
        }
        error(selector_at, "\"match\"", "Invalid selector");
      }
    }
    pos_ = start;
    return std::nullopt;
  }

  Node add(Match m) {
    program_.matches.push_back(std::move(m));
    return Node{Node::Kind::kMatch, {}, program_.matches.size() - 1};
  }

  // Tries a sequence of words each preceded by required whitespace (`_ "not" _ "in"`), then
  // optionally trailing whitespace; restores pos_ on failure.
  bool words(std::initializer_list<std::string_view> list, bool trailing_ws) {
    const std::size_t start = pos_;
    for (std::string_view w : list) {
      if (!ws() || !lit(w)) {
        pos_ = start;
        return false;
      }
    }
    if (trailing_ws && !ws()) {
      pos_ = start;
      return false;
    }
    return true;
  }

  // MatchEqual <- _? "==" _?   (likewise "!="), then the word operators in grammar order.
  std::optional<MatchOp> op_with_value() {
    const std::size_t start = pos_;
    for (auto [sym, op] : {std::pair{std::string_view("=="), MatchOp::kEqual},
                           std::pair{std::string_view("!="), MatchOp::kNotEqual}}) {
      opt_ws();
      if (lit(sym)) {
        opt_ws();
        return op;
      }
      pos_ = start;
    }
    if (words({"contains"}, true)) return MatchOp::kIn;
    if (words({"not", "contains"}, true)) return MatchOp::kNotIn;
    if (words({"matches"}, true)) return MatchOp::kMatches;
    if (words({"not", "matches"}, true)) return MatchOp::kNotMatches;
    return std::nullopt;
  }

  std::optional<MatchOp> op_without_value() {
    if (words({"is", "empty"}, false)) return MatchOp::kIsEmpty;
    if (words({"is", "not", "empty"}, false)) return MatchOp::kIsNotEmpty;
    return std::nullopt;
  }

  std::optional<MatchOp> op_in() {
    if (words({"in"}, true)) return MatchOp::kIn;
    if (words({"not", "in"}, true)) return MatchOp::kNotIn;
    return std::nullopt;
  }

  // ---- selectors and values --------------------------------------------------------------

  // Identifier <- [a-zA-Z] [a-zA-Z0-9_]*
  bool identifier(std::string& out) {
    const std::size_t start = pos_;
    if (!cls(is_alpha, "[a-zA-Z]")) return false;
    while (cls(is_ident, "[a-zA-Z0-9_]")) {
    }
    out.assign(in_.substr(start, pos_ - start));
    return true;
  }

  // Selector "selector" <- Identifier SelectorOrIndex* / '"' JsonPointerSegment* '"'
  bool selector(std::vector<std::string>& path) {
    const std::size_t start = pos_;
    std::string first;
    if (identifier(first)) {
      path.push_back(std::move(first));
      std::string segment;
      while (selector_or_index(segment)) path.push_back(std::move(segment));
      return true;
    }
    return pointer_selector(path, start);
  }

  // SelectorOrIndex <- "." Identifier / IndexExpression / "." [0-9]+
  bool selector_or_index(std::string& out) {
    const std::size_t start = pos_;
    if (lit(".") && identifier(out)) return true;
    pos_ = start;
    if (index_expr(out)) return true;
    pos_ = start;
    if (lit(".") && cls(is_digit, "[0-9]")) {
      while (cls(is_digit, "[0-9]")) {
      }
      out.assign(in_.substr(start + 1, pos_ - start - 1));
      return true;
    }
    pos_ = start;
    return false;
  }

  // IndexExpression "index" <- "[" _? StringLiteral _? "]"
  //   / "[" _? !StringLiteral &{Invalid index} / "[" _? StringLiteral _? !"]" &{Unclosed}
  bool index_expr(std::string& out) {
    const std::size_t start = pos_;
    if (!lit("[")) return false;
    opt_ws();
    const std::size_t literal_at = pos_;
    if (!string_literal(out)) {
      error(literal_at, "\"index\"", "Invalid index");
      pos_ = start;
      return false;
    }
    opt_ws();
    if (!lit("]")) {
      error(pos_, "\"index\"", "Unclosed index expression");
      pos_ = start;
      return false;
    }
    return true;
  }

  // '"' ('/' [\pL\pN-_.~|]+)* '"', then pointerstructure's ~0 / ~1 unescaping.
  bool pointer_selector(std::vector<std::string>& path, std::size_t start) {
    if (!lit("\"")) return false;
    std::vector<std::string> raw;
    while (true) {
      const std::size_t seg_start = pos_;
      if (!lit("/")) break;
      if (!cls(is_pointer_char, "[\\pL\\pN-_.~|]")) {
        pos_ = seg_start;
        break;
      }
      while (cls(is_pointer_char, "[\\pL\\pN-_.~|]")) {
      }
      raw.emplace_back(in_.substr(seg_start + 1, pos_ - seg_start - 1));
    }
    if (!lit("\"")) {
      pos_ = start;
      return false;
    }
    if (raw.empty()) raw.emplace_back();  // "/" parses to one empty part
    for (const std::string& r : raw) {
      std::string part;
      for (std::size_t i = 0; i < r.size(); ++i) {
        if (r[i] != '~') {
          part.push_back(r[i]);
        } else if (i + 1 < r.size() && (r[i + 1] == '0' || r[i + 1] == '1')) {
          part.push_back(r[++i] == '0' ? '~' : '/');
        } else {
          error(start, "\"selector\"",
                "error validating json pointer: invalid JSON pointer escape sequence");
          break;
        }
      }
      path.push_back(std::move(part));
    }
    return true;
  }

  // Value "value" <- Selector / NumberLiteral / StringLiteral. A bare selector used as a
  // value stands for its dotted text (`Node == web1` compares with "web1"). go-bexpr would
  // also read "/x" as a JSON-pointer selector and compare with "x"; we keep quoted text as
  // a string, which is what every user means.
  bool value(std::string& raw) {
    const std::size_t start = pos_;
    std::vector<std::string> path;
    std::string first;
    if (identifier(first)) {
      path.push_back(std::move(first));
      std::string segment;
      while (selector_or_index(segment)) path.push_back(std::move(segment));
      raw = Selector(std::move(path)).to_string();
      return true;
    }
    pos_ = start;
    if (number(raw)) return true;
    pos_ = start;
    return string_literal(raw);
  }

  // NumberLiteral "number" <- "-"? IntegerOrFloat &AfterNumbers
  //                         / "-"? IntegerOrFloat !AfterNumbers &{Invalid number literal}
  // IntegerOrFloat <- ("0" / [1-9][0-9]*) ("." [0-9]+)?
  bool number(std::string& raw) {
    const std::size_t start = pos_;
    (void)lit("-");
    if (!lit("0")) {
      if (!cls([](char c) { return c >= '1' && c <= '9'; }, "[1-9]")) {
        pos_ = start;
        return false;
      }
      while (cls(is_digit, "[0-9]")) {
      }
    }
    const std::size_t before_fraction = pos_;
    if (lit(".") && cls(is_digit, "[0-9]")) {
      while (cls(is_digit, "[0-9]")) {
      }
    } else {
      pos_ = before_fraction;
    }
    // AfterNumbers <- &(_ / EOF / ")")
    const std::size_t end = pos_;
    const bool after = ws() || eof() || lit(")");
    pos_ = end;
    if (!after) {
      error(end, "\"number\"", "Invalid number literal");
      pos_ = start;
      return false;
    }
    raw.assign(in_.substr(start, end - start));
    return true;
  }

  // StringLiteral "string" <- ('`' RawStringChar* '`' / '"' DoubleStringChar* '"') {Unquote}
  //                        / ('`' RawStringChar* / '"' DoubleStringChar*) EOF &{Unterminated}
  // A double-quoted literal ends at the first '"', even after a backslash, as in go-bexpr;
  // `\"` therefore never works (use \x22 or a raw `...` literal).
  bool string_literal(std::string& out) {
    const std::size_t start = pos_;
    char quote = 0;
    if (lit("`")) {
      quote = '`';
    } else if (lit("\"")) {
      quote = '"';
    } else {
      return false;
    }
    const std::size_t close = in_.find(quote, pos_);
    if (close == std::string_view::npos) {
      // The body runs to the end; the closing quote and EOF are what failed to match.
      pos_ = in_.size();
      expect(pos_, core::go_quote(std::string(1, quote)));
      error(pos_, "\"string\"", "Unterminated string literal");
      pos_ = start;
      return false;
    }
    pos_ = close + 1;
    std::optional<std::string> text = go_unquote(in_.substr(start, pos_ - start));
    if (!text) {
      // An action error: pigeon records it at the literal's start and parsing goes on.
      error(start, "\"string\"", "invalid syntax");
      out.clear();
      return true;
    }
    out = std::move(*text);
    return true;
  }

  std::string_view in_;
  Program& program_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t fail_pos_ = 0;
  std::vector<std::string> expected_;
  std::vector<std::string> errors_;
  std::optional<core::Error> limit_error_;
};

}  // namespace

core::Status parse(std::string_view text, Program& program) {
  return Parser(text, program).run();
}

}  // namespace pc::filter::detail
