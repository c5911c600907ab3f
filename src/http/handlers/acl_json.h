#pragma once
// Consul's JSON for ACL objects (agent/structs/acl.go marshalled by encoding/json): tokens,
// policies, roles and their list stubs, and the request bodies that create and update them.
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

#include "acl/types.h"
#include "core/result.h"
#include "http/json/writer.h"

namespace pc::http::handlers {

// Go's time.Time in RFC 3339 with nanoseconds, trailing zeros trimmed, as Go marshals it.
std::string rfc3339_nano(std::int64_t unix_ns);
// Parses RFC 3339 ("2006-01-02T15:04:05.999999999Z07:00") into Unix ns.
core::Result<std::int64_t> parse_rfc3339(std::string_view text);

// `stub`: the list shape (ACLTokenListStub, ACLPolicyListStub), without Rules and with Legacy.
void write_token(JsonWriter& w, const acl::Token& t, bool stub = false);
void write_policy(JsonWriter& w, const acl::Policy& p, bool stub = false);
void write_role(JsonWriter& w, const acl::Role& r);

// Bodies; `context` begins every decode error ("Token decoding failed", ...).
core::Result<acl::Token> read_token(const boost::json::object& body, std::string_view context);
core::Result<acl::Policy> read_policy(const boost::json::object& body, std::string_view context);
core::Result<acl::Role> read_role(const boost::json::object& body, std::string_view context);

}  // namespace pc::http::handlers
