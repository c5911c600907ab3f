#pragma once
// Read-modify-write for `acl token update` and `acl role update`, as Consul's commands do:
// the object is read from the agent first and only what the flags name changes, so an update
// of one field keeps the others (the body sent back is the object as read, with its changes,
// the way Consul's API client sends it).
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands/helpers.h"

namespace pc::cli::acl_cli {

// GET `path` and its JSON object; prints `error_prefix` and the reason and returns nullopt
// when the request fails or the answer is not an object.
std::optional<boost::json::object> read_object(Context& ctx, const HttpFlags& http,
                                               std::string_view path,
                                               std::string_view error_prefix);

// Adds an {"ID"} link for each of `ids` no link of `o[key]` has, and a {"Name"} link for each
// of `names` no link has (Consul's -merge-policies / -append-policy-*; names stay names, for
// the server to resolve).
void append_links(boost::json::object& o, std::string_view key, const std::vector<std::string>& ids,
                  const std::vector<std::string>& names);
// Each given service identity replaces the one of the same ServiceName, else is appended.
void merge_service_identities(boost::json::object& o, const boost::json::array& given);
// Each given node identity is appended unless one with its NodeName and Datacenter is there.
void merge_node_identities(boost::json::object& o, const boost::json::array& given);

}  // namespace pc::cli::acl_cli
