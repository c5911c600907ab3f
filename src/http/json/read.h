#pragma once
// Helpers for reading JSON request bodies with boost::json the way Consul's Go decoding reads
// them, so clients written against Consul are understood:
//   - keys match case-insensitively and ignoring underscores: "LockDelay", "lockdelay" and
//     "lock_delay" all find the field LockDelay (Go's encoding/json folds case; Consul's
//     decodeBody also translates snake_case keys);
//   - of two keys naming the same field the later wins, as each assignment does in Go;
//   - a null or absent field leaves the zero value (std::nullopt / nullptr here);
//   - a value of the wrong type is an InvalidArgument whose text follows Go's
//     "json: cannot unmarshal string into Go struct field LockDelay of type uint64";
//   - like json.Decoder.Decode, the body is one JSON value and trailing bytes after it are
//     ignored; an empty body is "EOF".
// Every error message starts with `context` + ": ", "Request decode failed" by default
// (Consul's session and catalog endpoints); pass "Failed to parse body" for /v1/txn.
//
// Stateless; safe from any thread.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pc::http {

inline constexpr std::string_view kRequestDecodeFailed = "Request decode failed";

// Parses one JSON value from `body` (depth at most 32, as boost::json's default).
core::Result<boost::json::value> parse_json_body(std::string_view body,
                                                 std::string_view context = kRequestDecodeFailed);

// The top-level object of a body; null decodes as an empty object (Go leaves the struct
// unchanged), any other non-object is an error naming its JSON type.
core::Result<const boost::json::object*> body_object(
    const boost::json::value& body, std::string_view context = kRequestDecodeFailed);

// The value of field `pascal_name` in `obj` (see the matching rules above), or nullptr.
const boost::json::value* find_field(const boost::json::object& obj, std::string_view pascal_name);

// True if `key` names `pascal_name` under those rules.
bool field_name_matches(std::string_view key, std::string_view pascal_name);

// Typed getters: nullopt (or nullptr) for an absent or null field, an error for a wrong type.
using JsonObjectPtr = const boost::json::object*;
using JsonArrayPtr = const boost::json::array*;

core::Result<std::optional<std::string>> get_string(
    const boost::json::object& obj, std::string_view name,
    std::string_view context = kRequestDecodeFailed);
core::Result<std::optional<bool>> get_bool(const boost::json::object& obj, std::string_view name,
                                           std::string_view context = kRequestDecodeFailed);
// Integers must be whole numbers in range ("1.5" or -1 into uint64 is an error, as in Go).
core::Result<std::optional<std::uint64_t>> get_uint64(
    const boost::json::object& obj, std::string_view name,
    std::string_view context = kRequestDecodeFailed);
core::Result<std::optional<std::int64_t>> get_int64(
    const boost::json::object& obj, std::string_view name,
    std::string_view context = kRequestDecodeFailed);
core::Result<std::optional<double>> get_double(const boost::json::object& obj,
                                               std::string_view name,
                                               std::string_view context = kRequestDecodeFailed);
// A Go time.Duration: an integer count of nanoseconds, or a Go duration string ("15s"), which
// Consul's decode hooks accept; a bad string is `time: invalid duration "abc"`.
core::Result<std::optional<core::Duration>> get_duration(
    const boost::json::object& obj, std::string_view name,
    std::string_view context = kRequestDecodeFailed);
// A Go []byte: a standard base64 string, decoded.
core::Result<std::optional<std::string>> get_bytes(const boost::json::object& obj,
                                                   std::string_view name,
                                                   std::string_view context = kRequestDecodeFailed);
core::Result<JsonObjectPtr> get_object(const boost::json::object& obj, std::string_view name,
                                       std::string_view context = kRequestDecodeFailed);
core::Result<JsonArrayPtr> get_array(const boost::json::object& obj, std::string_view name,
                                     std::string_view context = kRequestDecodeFailed);
// []string (e.g. Tags, Checks); a null element is "" as in Go.
core::Result<std::optional<std::vector<std::string>>> get_string_array(
    const boost::json::object& obj, std::string_view name,
    std::string_view context = kRequestDecodeFailed);
// map[string]string (e.g. Meta), sorted by key as Go marshals maps.
core::Result<std::optional<std::map<std::string, std::string>>> get_string_map(
    const boost::json::object& obj, std::string_view name,
    std::string_view context = kRequestDecodeFailed);

// The error text for a value of the wrong JSON type, for handlers with their own field types:
// "<context>: json: cannot unmarshal <json type> into Go struct field <name> of type <go_type>".
core::Error type_error(const boost::json::value& got, std::string_view name,
                       std::string_view go_type, std::string_view context = kRequestDecodeFailed);

}  // namespace pc::http
