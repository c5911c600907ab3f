#pragma once
// Prepared query templates (Consul's agent/consul/prepared_query/template.go): a query whose
// Template.Type is "name_prefix_match" answers every name its Name prefixes, with each string
// of its Service part rendered for the name asked. A string may hold interpolations:
//   ${name.full}    the name asked            ${name.prefix}  the template's Name
//   ${name.suffix}  the name without prefix   ${match(N)}     group N of Template.Regexp
//   ${agent.segment} the agent's segment ("": no segments here)
// and "$${" writes a literal "${". This is the subset of HashiCorp's HIL that templates use;
// other HIL expressions are refused when the template is written (docs/decisions/0016).
//
// Stateless; safe from any thread.
#include <string_view>

#include "core/result.h"
#include "state/query_types.h"

namespace pc::endpoints {

// Checks a template as Consul's Compile does, with its texts: the type ("Bad Template.Type
// 'x'"), every Service string's syntax ("Bad format '...' in Service.Tags[0]: ..."), the
// regexp ("Bad Regexp: ..."), and a trial render with the template's own name.
core::Status compile_query_template(const state::PreparedQuery& query);

// The query as it answers `name`: the Service strings rendered, empty tags dropped when
// Template.RemoveEmptyTags is set. Regexp groups that did not match render as "".
core::Result<state::PreparedQuery> render_query_template(const state::PreparedQuery& query,
                                                         std::string_view name);

}  // namespace pc::endpoints
