#pragma once
// The `audit` block of the agent configuration: its schema check, decoding and validation,
// kept apart from config.cc. Private to core (config.cc is its only includer), so Boost may
// appear here.
#include <boost/json/fwd.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace pc::core::detail {

// The schema check of one file's `audit` value: an error naming the key path, or "".
std::string check_audit(const boost::json::value& v, const std::string& path);

// Fills `out` from the merged, already checked `audit` object.
void decode_audit(const boost::json::object& obj, AuditConfig& out);

// Consul's rules for the block (see AuditConfig); InvalidArgument naming the sink and key.
// Auditing with ACLs off records nothing (only requests resolved to a token are audited),
// which adds a warning.
Status validate_audit(const AuditConfig& audit, bool acl_enabled,
                      std::vector<std::string>& warnings);

}  // namespace pc::core::detail
