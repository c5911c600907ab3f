#pragma once
// Consul's pretty output of ACL objects (command/acl/{token,policy,role}/formatter.go) and
// the request bodies the create and update commands send.
#include <boost/json.hpp>

#include <string>
#include <vector>

#include "cli/cli.h"

namespace pc::cli::acl_cli {

std::string format_token(const boost::json::object& token);
std::string format_policy(const boost::json::object& policy);
std::string format_role(const boost::json::object& role);

// Prints the body of a 200 response formatted by `format` (each element of a list, separated
// by a blank line, when the body is an array); 1 after printing the error otherwise.
int print_response(Context& ctx, const std::string& body,
                   std::string (*format)(const boost::json::object&));

// [{"ID": id}...] + [{"Name": name}...], as -policy-id / -policy-name (or -role-*) give them.
boost::json::array links(const std::vector<std::string>& ids,
                         const std::vector<std::string>& names);
// -service-identity "name[:dc1,dc2]" and -node-identity "name:dc", Consul's flag syntax.
boost::json::array service_identities(const std::vector<std::string>& specs);
boost::json::array node_identities(const std::vector<std::string>& specs);

}  // namespace pc::cli::acl_cli
