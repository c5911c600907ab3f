#pragma once
// Service definition files for `services register` and `services deregister`, read as
// Consul's command/services.ServicesFromFiles reads them (through the agent's config loader),
// limited to JSON:
//
//   {"service": {"name": "web", "port": 80, "check": {"ttl": "10s"}}}
//   {"services": [{"name": "web"}, {"id": "db-1", "name": "db", "tags": ["primary"]}]}
//
// Keys are Consul's config keys (snake_case; case and underscores are not significant, so
// "enable_tag_override", "EnableTagOverride" and "ServiceID" are all understood), from the
// table the agent's config loader uses (core/definition_keys.h). Each
// definition becomes the body Consul's api client sends to PUT /v1/agent/service/register
// (api.AgentServiceRegistration: "ID", "Name", "Tags", "Check": {"CheckID", "TTL", ...}).
// "proxy" and "connect" are passed on as written; "token" is dropped, as Consul's command
// drops it (the -token flag is what authorizes the request).
//
// A path may be a file or a directory (its *.json files in lexical order, not recursing;
// other files are skipped with a warning). HCL is not supported yet: a .hcl file is an
// error that says so. An unknown key or a value of the wrong type is an error naming the
// file and the key; top-level keys other than "service" and "services" are ignored with a
// warning (they configure the agent, not this command).
//
// Stateless; reads the files named, nothing else.
#include <boost/json.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/result.h"

namespace pc::cli {

struct ServiceDefinition {
  std::string id;    // "" when the definition has none
  std::string name;  // "" when the definition has none
  // The registration body (api.AgentServiceRegistration's JSON).
  boost::json::object body;
};

// Every definition in `paths`, in order. Warnings go to `warnings` one per line. The error
// message is ready to follow "Error: ".
core::Result<std::vector<ServiceDefinition>> services_from_files(
    const std::vector<std::string>& paths, std::ostream& warnings);

// Parses one file's text; `source` names it in messages. Exposed for tests.
core::Result<std::vector<ServiceDefinition>> services_from_json(std::string_view text,
                                                                const std::string& source,
                                                                std::ostream& warnings);

}  // namespace pc::cli
