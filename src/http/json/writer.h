#pragma once
// A small, fast JSON writer producing what Go's encoding/json does for Consul's responses:
// HTML-safe string escaping (<, >, & as \u003c...), \ufffd for invalid UTF-8, []byte as
// standard base64, shortest round-trip floats. It appends into one std::string and inserts
// commas itself, so a handler writes a response in one pass with no tree and no Boost:
//
//   JsonWriter w;
//   w.begin_array();
//   for (const auto& e : entries) {
//     w.begin_object();
//     w.key("Key"); w.string(e.key);
//     w.key("Value"); w.base64(e.value);
//     w.end_object();
//   }
//   w.end_array();           // an empty list renders [] (never null)
//   return Response::json(w.take());
//
// Pretty mode (Consul's ?pretty) indents like json.MarshalIndent(v, "", "    "); raw() text is
// copied as is in both modes.
//
// Invariant: calls form valid JSON (a key before each value inside an object, balanced
// begin/end); a misuse is a programming error, checked with PC_DASSERT.
// Thread-safety: none; one writer per response.
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace pc::http {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void key(std::string_view name);
  void string(std::string_view text);
  // Bytes as Go marshals []byte: a standard, padded base64 string.
  void base64(std::string_view bytes);
  template <std::integral T>
  requires(!std::same_as<T, bool>) void number(T v) {
    if constexpr (std::is_signed_v<T>) {
      number_i64(static_cast<std::int64_t>(v));
    } else {
      number_u64(static_cast<std::uint64_t>(v));
    }
  }
  // NaN and infinities have no JSON form (Go refuses them); they are written as null.
  void number(double v);
  void boolean(bool v);
  void null();
  // A pre-rendered JSON value, copied verbatim.
  void raw(std::string_view json);

  // Key-value shorthands for object members.
  void string_field(std::string_view name, std::string_view text) {
    key(name);
    string(text);
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void number_field(std::string_view name, T v) {
    key(name);
    number(v);
  }
  void bool_field(std::string_view name, bool v) {
    key(name);
    boolean(v);
  }
  void null_field(std::string_view name) {
    key(name);
    null();
  }

  void reserve(std::size_t bytes) { out_.reserve(bytes); }
  std::string_view view() const { return out_; }
  // Hands over the text and leaves the writer empty, ready for another document.
  std::string take();

 private:
  void number_i64(std::int64_t v);
  void number_u64(std::uint64_t v);
  void open(char c);
  void close(char c);
  void before_value();
  void newline_indent();

  std::string out_;
  int depth_ = 0;
  // True when the current container already holds an element, so the next needs a comma.
  bool need_comma_ = false;
  bool after_key_ = false;
  bool pretty_ = false;
};

}  // namespace pc::http
