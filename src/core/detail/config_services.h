#pragma once
// Services and checks defined in configuration files (`service`, `services`, `check`,
// `checks`): each definition is read from the file's tree (core/hcl.h, which keeps line and
// column) and translated into the body the agent API's registration endpoints take, with
// Consul's CamelCase field names, so the daemon decodes and validates it exactly as it does
// an API request (daemon/config_services.h).
//
// Keys may be written as Consul's config files write them (snake_case: `enable_tag_override`)
// or as its API does (`EnableTagOverride`): case and underscores are not significant. An
// unknown key or a value of the wrong type is an InvalidArgument naming the file, the line
// and column, and the key's path: `Error parsing /etc/pc/web.hcl: At 4:5: invalid config key
// service.prot`. A list of definitions (`services = [...]`, JSON arrays) and repeated blocks
// both give one definition per object. In a service, `check` blocks and `checks` lists both
// add checks, in that order (Consul's Check then Checks). A definition's `token` is kept
// beside the body, not in it. Private to core: config.cc is its only includer.
//
// Pure: no I/O.
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/hcl.h"

namespace pc::core::detail {

// The top-level keys that hold definitions; the loader takes them out of the merged schema.
inline constexpr std::string_view kDefinitionKeys[] = {"service", "services", "check", "checks"};

// Appends the definitions `doc` (a whole file's tree) holds, in the order written, to
// `services` and `checks`. `file` names the file in errors.
Status read_config_definitions(const hcl::Value& doc, const std::string& file,
                               std::vector<ConfigDefinition>& services,
                               std::vector<ConfigDefinition>& checks);

}  // namespace pc::core::detail
