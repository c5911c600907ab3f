#pragma once
// Consul's `?filter=` expression language (hashicorp/go-bexpr), as a pure library that knows
// nothing of catalog types. The caller describes its records twice: a Schema says at compile
// time which selectors exist and what type each has, and an Object answers, per record, what
// a selector's value is. An Expression is compiled once per request (syntax, selectors,
// operators, literal coercion and regular expressions are all checked then) and evaluated
// cheaply on every record.
//
// Thread-safety: a compiled Expression is immutable; copies share one program, and
// matches() may run on any number of threads at once. Schema and Object implementations
// must allow concurrent const calls if they are shared across threads.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/result.h"

namespace pc::filter {

// Limits on untrusted filter text (shared/STYLE.md rule 5). A `?filter=` comes from any
// client, so each way it could cost stack, memory or time is capped and refused with a
// clear InvalidArgument.
// Consul bounds the whole URL, not the filter; 4 KiB is far above any real filter.
inline constexpr std::size_t filter_expression_size_max = 4096;
// Parentheses plus `not`s open at once; the parser and the evaluator recurse once per level.
inline constexpr std::size_t filter_nesting_depth_max = 64;
// A `matches` pattern's bytes; the compiled automaton is capped separately below.
inline constexpr std::size_t filter_regex_pattern_size_max = 1024;
// Estimated automaton size (atoms after expanding counted repetitions). `(a{1000}){1000}`
// is short text but a million states; RE2 refuses such patterns as well.
inline constexpr std::size_t filter_regex_program_size_max = 2000;
// RE2's limit on one counted repetition such as `a{1001}`.
inline constexpr std::size_t filter_regex_repeat_max = 1000;
// Longest string a regular expression runs on. Matching takes time proportional to subject
// length times automaton size; longer subjects do not match (Consul's own fields are far
// shorter: meta values are capped at 512 bytes).
inline constexpr std::size_t filter_regex_subject_size_max = 16 * 1024;
static_assert(filter_regex_pattern_size_max < filter_expression_size_max);
static_assert(filter_nesting_depth_max * 2 < filter_expression_size_max);

// The type a selector has in the caller's data model.
enum class FieldType : std::uint8_t {
  kString,
  kInt,   // signed integers (Go int, int64): Port, Weights.Passing
  kUint,  // unsigned integers (Go uint64): CreateIndex, ModifyIndex
  kFloat,
  kBool,
  kStringList,  // Tags
  kStringMap,   // a map selected whole (keys only): Meta, NodeMeta, TaggedAddresses
  kAny,         // decided per object from the Value's kind; mismatches evaluate false
};

// A selector: `Service.Tags`, `Meta.env`, `Meta["key with spaces"]` or the JSON-pointer form
// `"/Meta/env"` all become a path of segments. compile() stores the schema's field id in it,
// so Object::get can switch on an integer instead of comparing strings per record.
class Selector {
 public:
  Selector() = default;
  explicit Selector(std::vector<std::string> path, std::uint32_t field_id = 0)
      : path_(std::move(path)), field_id_(field_id) {}

  const std::vector<std::string>& path() const { return path_; }
  std::size_t size() const { return path_.size(); }
  const std::string& operator[](std::size_t i) const { return path_[i]; }
  // The id the Schema chose for this selector (0 until compiled).
  std::uint32_t field_id() const { return field_id_; }
  // Segments joined with '.', as go-bexpr prints a selector in its messages.
  std::string to_string() const;

 private:
  std::vector<std::string> path_;
  std::uint32_t field_id_ = 0;
};

// The keys of a map selected as a whole. `in` and `is empty` look at keys only, so the map's
// values may be of any type: Meta (map[string]string) and a service's TaggedAddresses
// (map[string]ServiceAddress) alike. Borrows the map, which must outlive it.
class MapKeys {
 public:
  template <typename V>
  explicit MapKeys(const std::map<std::string, V>& m)
      : map_(&m), empty_(m.empty()), contains_([](const void* map, const std::string& key) {
          const auto& typed = *static_cast<const std::map<std::string, V>*>(map);
          return typed.find(key) != typed.end();
        }) {}

  bool empty() const { return empty_; }
  bool contains(const std::string& key) const { return contains_(map_, key); }

 private:
  const void* map_;
  bool empty_;
  bool (*contains_)(const void*, const std::string&);
};

// What a selector resolves to on one object. Strings, lists and maps are borrowed from the
// Object (they must live until matches() returns); owned_string() is for computed values.
class Value {
 public:
  enum class Kind : std::uint8_t {
    kMissing,
    kString,
    kInt,
    kUint,
    kFloat,
    kBool,
    kStringList,
    kStringMap
  };

  Value() = default;  // missing
  static Value missing() { return Value(); }
  static Value string(std::string_view s) { return Value(Kind::kString, s); }
  static Value owned_string(std::string s) { return Value(Kind::kString, std::move(s)); }
  static Value integer(std::int64_t v) { return Value(Kind::kInt, v); }
  static Value unsigned_integer(std::uint64_t v) { return Value(Kind::kUint, v); }
  static Value floating(double v) { return Value(Kind::kFloat, v); }
  static Value boolean(bool v) { return Value(Kind::kBool, v); }
  static Value list(std::span<const std::string> items) { return Value(Kind::kStringList, items); }
  // A map of any value type; only its keys can be matched (see MapKeys).
  template <typename V>
  static Value map(const std::map<std::string, V>& m) {
    return Value(Kind::kStringMap, MapKeys(m));
  }

  Kind kind() const { return kind_; }
  // Accessors: only for the matching kind (a broken invariant otherwise).
  std::string_view as_string() const;
  std::int64_t as_int() const { return std::get<std::int64_t>(data_); }
  std::uint64_t as_uint() const { return std::get<std::uint64_t>(data_); }
  double as_float() const { return std::get<double>(data_); }
  bool as_bool() const { return std::get<bool>(data_); }
  std::span<const std::string> as_list() const {
    return std::get<std::span<const std::string>>(data_);
  }
  const MapKeys& as_map() const { return std::get<MapKeys>(data_); }

 private:
  using Data = std::variant<std::monostate, std::string_view, std::string, std::int64_t,
                            std::uint64_t, double, bool, std::span<const std::string>, MapKeys>;
  template <typename T>
  Value(Kind kind, T v) : kind_(kind), data_(std::move(v)) {}

  Kind kind_ = Kind::kMissing;
  Data data_;
};

// What the Schema says about one selector.
struct Field {
  FieldType type = FieldType::kAny;
  std::uint32_t id = 0;  // opaque to the filter; handed back in Selector::field_id()
};

// The caller's data model, consulted only by compile().
class Schema {
 public:
  virtual ~Schema() = default;
  // The selector's type and id, or an error; use selector_not_valid() for unknown selectors
  // so the message matches go-bexpr's.
  virtual core::Result<Field> resolve(const Selector& selector) const = 0;
};

// `Selector "Service.Foo" is not valid`, naming the first `segments` segments (the prefix up
// to the first unknown one, as go-bexpr does).
core::Error selector_not_valid(const Selector& selector, std::size_t segments);

// One record, consulted by matches(). A map key that is absent should come back missing():
// go-bexpr then treats ==, in, matches and `is not empty` as false and their negations (and
// `is empty`) as true.
class Object {
 public:
  virtual ~Object() = default;
  virtual Value get(const Selector& selector) const = 0;
};

namespace detail {
struct Program;
}  // namespace detail

class Expression {
 public:
  // Parses and validates `text` against `schema`. Errors are InvalidArgument with Consul's
  // text, e.g. `Failed to create boolean expression evaluator: 1:4 (3): no match found,
  // expected: "!=", ".", "==", "[", [ \t\r\n] or [a-zA-Z0-9_]`.
  static core::Result<Expression> compile(std::string_view text, const Schema& schema);

  // True if the object satisfies the expression. Never fails: a value whose kind disagrees
  // with the schema, or a subject too long for a regular expression, makes its match false.
  bool matches(const Object& object) const;

  // The source text, and the program in a go-bexpr-like dump (for tests and debugging).
  const std::string& text() const;
  std::string dump() const;

 private:
  explicit Expression(std::shared_ptr<const detail::Program> program)
      : program_(std::move(program)) {}
  std::shared_ptr<const detail::Program> program_;  // never null
};

}  // namespace pc::filter
