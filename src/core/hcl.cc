// HCL1 and JSON reader: one hand-written recursive-descent parser over the bytes, with a
// mode flag for the two syntaxes. Everything the input decides is an InvalidArgument with a
// position; nothing asserts on input (shared/STYLE.md rule 4).
#include "core/hcl.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <optional>
#include <utility>

#include "core/limits.h"
#include "core/strings.h"

namespace pc::core::hcl {

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kNumber: return "number";
    case Kind::kString: return "string";
    case Kind::kList: return "list";
    case Kind::kObject: return "object";
  }
  return "unknown";
}

const Value* Value::find(std::string_view key) const {
  for (const Member& member : object) {
    if (member.key == key) return &member.value;
  }
  return nullptr;
}

std::string at(Position position) {
  return fmt::format("At {}:{}: ", position.line, position.column);
}

namespace {

enum class Syntax : std::uint8_t { kHcl, kJson };

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The parser keeps the first error it meets and unwinds by returning false; the result is
// built in place, so a failed parse allocates no more than the bytes it read.
class Parser {
 public:
  Parser(std::string_view text, Syntax syntax) : text_(text), syntax_(syntax) {}

  Result<Value> parse_document();

 private:
  // --- bytes and positions ---
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  Position here() const { return Position{line_, column_}; }
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++pos_;
  }
  bool fail(Position position, std::string message) {
    if (!error_) error_ = at(position) + message;
    return false;
  }
  std::string describe_here() const;
  bool skip_space();
  bool skip_comment();

  // --- grammar ---
  bool parse_body(Value& into, bool until_brace, Position open);
  bool parse_item(Value& into);
  bool parse_key(std::string& key, Position& position);
  bool parse_block(Member& member);
  bool parse_value(Value& out);
  bool parse_list(Value& out);
  bool parse_json_object(Value& out);
  bool parse_string(std::string& out);
  bool parse_escape(std::string& out);
  bool parse_hex(int digits, std::uint32_t& out);
  bool parse_heredoc(std::string& out);
  bool parse_number(Value& out);
  bool enter(Position position);
  void leave() { --depth_; }

  std::string_view text_;
  Syntax syntax_;
  std::size_t pos_ = 0;
  std::uint32_t line_ = 1;
  std::uint32_t column_ = 1;
  std::size_t depth_ = 0;
  std::optional<std::string> error_;
};

std::string Parser::describe_here() const {
  if (at_end()) return "end of input";
  const char c = peek();
  if (c == '\n') return "end of line";
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
    return fmt::format("byte 0x{:02x}", static_cast<unsigned char>(c));
  }
  return fmt::format("'{}'", c);
}

// Skips white space and, in HCL, comments. False only for an unterminated /* comment.
bool Parser::skip_space() {
  while (!at_end()) {
    const char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance();
    } else if (syntax_ == Syntax::kHcl && (c == '#' || (c == '/' && peek(1) == '/'))) {
      while (!at_end() && peek() != '\n') advance();
    } else if (syntax_ == Syntax::kHcl && c == '/' && peek(1) == '*') {
      if (!skip_comment()) return false;
    } else {
      break;
    }
  }
  return true;
}

bool Parser::skip_comment() {
  const Position open = here();
  advance();
  advance();
  while (!at_end()) {
    if (peek() == '*' && peek(1) == '/') {
      advance();
      advance();
      return true;
    }
    advance();
  }
  return fail(open, "comment /* is not closed");
}

bool Parser::enter(Position position) {
  if (++depth_ > limits::hcl_nesting_depth_max) {
    return fail(position,
                fmt::format("nesting deeper than {} levels", limits::hcl_nesting_depth_max));
  }
  return true;
}

Result<Value> Parser::parse_document() {
  if (text_.size() > limits::hcl_document_size_max) {
    return make_error(Code::kTooLarge,
                      fmt::format("document of {} bytes is larger than the {}-byte limit",
                                  text_.size(), limits::hcl_document_size_max));
  }
  Value root;
  root.kind = Kind::kObject;
  root.position = Position{1, 1};
  bool ok = false;
  if (syntax_ == Syntax::kJson) {
    ok = skip_space();
    if (ok && peek() != '{') {
      ok = fail(here(), "a JSON document must be an object, found " + describe_here());
    }
    if (ok) advance();
    ok = ok && parse_json_object(root) && skip_space();
    if (ok && !at_end()) ok = fail(here(), "unexpected " + describe_here() + " after the object");
  } else {
    ok = parse_body(root, false, here());
  }
  if (!ok) return make_error(Code::kInvalidArgument, error_.value_or("invalid document"));
  return root;
}

// Items until the end of input (top level) or a closing brace (a block or object).
bool Parser::parse_body(Value& into, bool until_brace, Position open) {
  into.kind = Kind::kObject;
  while (true) {
    if (!skip_space()) return false;
    if (at_end()) {
      if (until_brace) return fail(open, "'{' opened here is not closed");
      return true;
    }
    if (peek() == '}') {
      if (!until_brace) return fail(here(), "unexpected '}'");
      advance();
      return true;
    }
    if (!parse_item(into)) return false;
    if (!skip_space()) return false;
    if (peek() == ',') advance();
  }
}

// `key = value`, `key "label"... { body }` or `key { body }`.
bool Parser::parse_item(Value& into) {
  Member member;
  if (!parse_key(member.key, member.position)) return false;
  if (!skip_space()) return false;
  if (peek() == '=') {
    advance();
    if (!skip_space()) return false;
    if (!parse_value(member.value)) return false;
  } else if (peek() == '{' || peek() == '"' || is_ident_start(peek())) {
    if (!parse_block(member)) return false;
  } else {
    return fail(here(), fmt::format("expected '=' or '{{' after key \"{}\", found {}", member.key,
                                    describe_here()));
  }
  into.object.push_back(std::move(member));
  return true;
}

bool Parser::parse_key(std::string& key, Position& position) {
  position = here();
  if (peek() == '"') return parse_string(key);
  if (!is_ident_start(peek())) {
    return fail(position, "expected a key (a name or a quoted string), found " + describe_here());
  }
  const std::size_t start = pos_;
  while (!at_end() && is_ident_char(peek())) advance();
  key.assign(text_.substr(start, pos_ - start));
  return true;
}

// Labels nest: `a "x" "y" { b = 1 }` is {a: {x: {y: {b: 1}}}}. Each label counts as a level
// of depth, since the tree it builds is freed recursively.
bool Parser::parse_block(Member& member) {
  std::vector<Member> labels;
  std::size_t entered = 0;
  bool ok = true;
  while (ok && peek() != '{') {
    Member label;
    ok = enter(here()) && parse_key(label.key, label.position) && skip_space();
    if (ok) ++entered;
    if (ok && peek() != '{' && peek() != '"' && !is_ident_start(peek())) {
      // Name the key, not the byte after the label: `policy "read"` with its '=' forgotten
      // is far more common than a block missing its brace.
      ok = fail(member.position,
                fmt::format("expected '=' or '{{' after key \"{}\", found the label \"{}\" and "
                            "then {}",
                            member.key, label.key, describe_here()));
    }
    labels.push_back(std::move(label));
  }
  Value body;
  body.position = here();
  if (ok) {
    advance();
    ok = enter(body.position) && parse_body(body, true, body.position);
    if (ok) leave();
  }
  for (std::size_t i = 0; i < entered; ++i) leave();
  if (!ok) return false;
  // Wrap the body in its labels, innermost first.
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    Value wrapper;
    wrapper.kind = Kind::kObject;
    wrapper.position = it->position;
    it->value = std::move(body);
    wrapper.object.push_back(std::move(*it));
    body = std::move(wrapper);
  }
  member.value = std::move(body);
  member.value.position = labels.empty() ? member.value.position : labels.front().position;
  return true;
}

bool Parser::parse_value(Value& out) {
  out.position = here();
  const char c = peek();
  if (c == '"') {
    out.kind = Kind::kString;
    return parse_string(out.text);
  }
  if (c == '<' && peek(1) == '<' && syntax_ == Syntax::kHcl) {
    out.kind = Kind::kString;
    return parse_heredoc(out.text);
  }
  if (c == '-' || is_digit(c)) return parse_number(out);
  if (c == '[') return parse_list(out);
  if (c == '{') {
    if (!enter(out.position)) return false;
    advance();
    const bool ok =
        syntax_ == Syntax::kJson ? parse_json_object(out) : parse_body(out, true, out.position);
    leave();
    return ok;
  }
  if (is_ident_start(c)) {
    const std::size_t start = pos_;
    while (!at_end() && is_ident_char(peek())) advance();
    const std::string_view word = text_.substr(start, pos_ - start);
    if (word == "true" || word == "false") {
      out.kind = Kind::kBool;
      out.boolean = word == "true";
      return true;
    }
    if (word == "null" && syntax_ == Syntax::kJson) return true;
    return fail(out.position, fmt::format("expected a value, found the bare word {}; quote "
                                          "strings: \"{}\"",
                                          word, word));
  }
  return fail(out.position, "expected a value, found " + describe_here());
}

bool Parser::parse_list(Value& out) {
  out.kind = Kind::kList;
  if (!enter(out.position)) return false;
  advance();
  while (true) {
    if (!skip_space()) return false;
    if (at_end()) return fail(out.position, "'[' opened here is not closed");
    if (peek() == ']') {
      advance();
      leave();
      return true;
    }
    Value element;
    if (!parse_value(element)) return false;
    out.list.push_back(std::move(element));
    if (!skip_space()) return false;
    if (peek() == ',') {
      advance();
    } else if (peek() != ']') {
      return fail(here(), "expected ',' or ']' in the list, found " + describe_here());
    }
  }
}

// After the '{' (the caller consumes it): "key": value, ... }
bool Parser::parse_json_object(Value& out) {
  out.kind = Kind::kObject;
  bool first = true;
  while (true) {
    if (!skip_space()) return false;
    if (at_end()) return fail(out.position, "'{' opened here is not closed");
    if (peek() == '}') {
      advance();
      return true;
    }
    if (!first) {
      if (peek() != ',') return fail(here(), "expected ',' or '}', found " + describe_here());
      advance();
      if (!skip_space()) return false;
    }
    first = false;
    Member member;
    member.position = here();
    if (peek() != '"') return fail(here(), "expected a quoted key, found " + describe_here());
    if (!parse_string(member.key) || !skip_space()) return false;
    if (peek() != ':') {
      return fail(here(), fmt::format("expected ':' after key \"{}\", found {}", member.key,
                                      describe_here()));
    }
    advance();
    if (!skip_space() || !parse_value(member.value)) return false;
    out.object.push_back(std::move(member));
  }
}

bool Parser::parse_string(std::string& out) {
  const Position open = here();
  advance();
  while (true) {
    if (at_end() || peek() == '\n') return fail(open, "string is not closed on its line");
    const char c = peek();
    if (c == '"') {
      advance();
      return true;
    }
    if (c == '\\') {
      if (!parse_escape(out)) return false;
      continue;
    }
    out.push_back(c);
    advance();
  }
}

bool Parser::parse_hex(int digits, std::uint32_t& out) {
  out = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = peek();
    std::uint32_t v = 0;
    if (is_digit(c)) {
      v = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return fail(here(), fmt::format("expected {} hex digits in the escape, found {}", digits,
                                      describe_here()));
    }
    out = out * 16 + v;
    advance();
  }
  return true;
}

// At the backslash. \uXXXX may pair a high and a low surrogate (JSON's form of code points
// above U+FFFF); a lone surrogate is refused rather than written as invalid UTF-8.
bool Parser::parse_escape(std::string& out) {
  const Position start = here();
  advance();
  const char c = peek();
  if (at_end()) return fail(start, "string is not closed on its line");
  advance();
  switch (c) {
    case '"': out.push_back('"'); return true;
    case '\\': out.push_back('\\'); return true;
    case '/': out.push_back('/'); return true;
    case 'n': out.push_back('\n'); return true;
    case 't': out.push_back('\t'); return true;
    case 'r': out.push_back('\r'); return true;
    case 'b': out.push_back('\b'); return true;
    case 'f': out.push_back('\f'); return true;
    case 'u':
    case 'U': break;
    default: return fail(start, fmt::format("unknown escape \\{} in string", c));
  }
  std::uint32_t cp = 0;
  if (!parse_hex(c == 'u' ? 4 : 8, cp)) return false;
  if (cp >= 0xD800 && cp <= 0xDBFF && peek() == '\\' && peek(1) == 'u') {
    advance();
    advance();
    std::uint32_t low = 0;
    if (!parse_hex(4, low)) return false;
    if (low < 0xDC00 || low > 0xDFFF) return fail(start, "unpaired surrogate in \\u escape");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  } else if (cp >= 0xD800 && cp <= 0xDFFF) {
    return fail(start, "unpaired surrogate in \\u escape");
  }
  if (cp > 0x10FFFF) return fail(start, "escape names no Unicode code point");
  append_utf8(out, cp);
  return true;
}

// <<EOF ... EOF, or <<-EOF whose closing marker may be indented and whose lines lose the
// indentation they all share. The text keeps a newline after its last line, as HCL1's does.
bool Parser::parse_heredoc(std::string& out) {
  const Position open = here();
  advance();
  advance();
  const bool indented = peek() == '-';
  if (indented) advance();
  const std::size_t start = pos_;
  while (!at_end() && is_ident_char(peek())) advance();
  const std::string_view marker = text_.substr(start, pos_ - start);
  if (marker.empty()) return fail(open, "expected a heredoc marker after <<");
  if (peek() == '\r') advance();
  if (peek() != '\n') return fail(here(), "expected a line break after the heredoc marker");
  advance();
  std::vector<std::string_view> lines;
  while (true) {
    if (at_end()) return fail(open, fmt::format("heredoc <<{} is not closed", marker));
    const std::size_t line_start = pos_;
    while (!at_end() && peek() != '\n') advance();
    std::string_view line = text_.substr(line_start, pos_ - line_start);
    if (!at_end()) advance();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view trimmed = line;
    if (indented) trimmed.remove_prefix(std::min(trimmed.find_first_not_of(" \t"), trimmed.size()));
    if (trimmed == marker) break;
    lines.push_back(line);
  }
  std::size_t common = std::string_view::npos;
  if (indented) {
    for (std::string_view line : lines) {
      const std::size_t indent = line.find_first_not_of(" \t");
      if (indent != std::string_view::npos) common = std::min(common, indent);
    }
  }
  if (common == std::string_view::npos) common = 0;
  for (std::string_view line : lines) {
    out.append(line.substr(std::min(common, line.size())));
    out.push_back('\n');
  }
  return true;
}

bool Parser::parse_number(Value& out) {
  const Position start_position = here();
  const std::size_t start = pos_;
  if (peek() == '-') advance();
  if (!is_digit(peek())) return fail(start_position, "expected a digit after '-'");
  while (is_digit(peek())) advance();
  if (peek() == '.' && is_digit(peek(1))) {
    advance();
    while (is_digit(peek())) advance();
  }
  if (peek() == 'e' || peek() == 'E') {
    advance();
    if (peek() == '+' || peek() == '-') advance();
    if (!is_digit(peek())) return fail(here(), "expected a digit in the exponent");
    while (is_digit(peek())) advance();
  }
  out.kind = Kind::kNumber;
  out.text.assign(text_.substr(start, pos_ - start));
  const char* first = out.text.data();
  const auto [ptr, ec] = std::from_chars(first, first + out.text.size(), out.number);
  if (ec != std::errc() || ptr != first + out.text.size()) {
    return fail(start_position, "number " + out.text + " is out of range");
  }
  return true;
}

// HCL1 reads a document whose first non-blank byte is '{' as JSON.
bool starts_as_json(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

}  // namespace

Result<Value> parse(std::string_view text) {
  if (starts_as_json(text)) return Parser(text, Syntax::kJson).parse_document();
  return Parser(text, Syntax::kHcl).parse_document();
}

Result<Value> parse_json(std::string_view text) {
  return Parser(text, Syntax::kJson).parse_document();
}

}  // namespace pc::core::hcl
