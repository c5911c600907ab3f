#pragma once
// Reading agent responses: Consul's JSON shapes into plain values, lenient the way Go's
// encoding/json is with a missing or null field (it leaves the zero value), strict about a
// field of the wrong type (a decoding error).
//
// Stateless functions.
#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::cli {

// Parses an agent response body. The error reads "Error decoding agent response: <why>".
core::Result<boost::json::value> parse_response_json(std::string_view body);

// An error with the same prefix, for a body of the wrong shape.
core::Error bad_response(const std::string& why);

// Each reads `obj[name]` into `out`: absent or null leaves `out` as it is; a value of
// another type is an error naming the field.
core::Status read_string_field(const boost::json::object& obj, std::string_view name,
                               std::string& out);
core::Status read_int_field(const boost::json::object& obj, std::string_view name,
                            std::int64_t& out);
core::Status read_string_map_field(const boost::json::object& obj, std::string_view name,
                                   std::map<std::string, std::string>& out);
core::Status read_string_list_field(const boost::json::object& obj, std::string_view name,
                                    std::vector<std::string>& out);

}  // namespace pc::cli
