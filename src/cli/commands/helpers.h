#pragma once
// What several commands share, each the counterpart of a piece of Consul's command/ tree:
// reading a flag value from a file or stdin (command/helpers), `key=value` map flags
// (command/flags.FlagMapValue), output in aligned columns (ryanuber/columnize and Go's
// text/tabwriter) and an agent call that reports its own errors.
//
// Stateless functions; the map flag's target must outlive the FlagSet.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/api.h"
#include "cli/cli.h"
#include "core/result.h"

namespace pc::core {
class FlagSet;
}

namespace pc::cli {

// Consul's helpers.LoadDataSource: "@path" reads a file ("@-" stdin), "-" reads stdin, any
// other text (including "-x") is the value itself. Errors read like Go's:
// "Failed to read file: open x: no such file or directory".
core::Result<std::string> load_data_source(const std::string& data, Context& ctx);

// Go's text for an errno ("no such file or directory"): strerror, first letter lower-cased.
std::string go_errno_text(int err);

// A repeatable `-name key=value` flag into `target` (later values of a key win), with
// Consul's error for a value without '=': `Missing "=" value in argument: x`.
void add_map_flag(core::FlagSet& flags, std::string_view name,
                  std::map<std::string, std::string>* target, std::string_view usage);

// ryanuber/columnize with Consul's settings: cells trimmed, each column padded to its widest
// cell (counted in UTF-8 code points) and joined by two spaces; the last cell of a row is
// not padded. Rows joined by '\n', no final newline.
std::string columnize(const std::vector<std::vector<std::string>>& rows);

// Go's text/tabwriter (minwidth 0, padding `padding`, pad ' ', no flags) over rows whose
// cells would be tab-separated: every cell but a row's last is padded to the widest cell of
// its column plus `padding`. Each row ends with '\n'.
std::string tabwrite(const std::vector<std::vector<std::string>>& rows, std::size_t padding);

// Calls the agent. A transport error is printed as is; a status other than 200 is printed
// as `<error_prefix>Unexpected response code: 500 (body)`; both return nullopt.
std::optional<HttpResponse> call_agent_ok(Context& ctx, const HttpFlags& flags, CallKind kind,
                                          std::string_view method, std::string_view path,
                                          QueryParams params, std::string_view error_prefix,
                                          std::string_view body = {});

// Consul's check for commands without arguments: "Too many arguments (expected 0, got 2)"
// on stderr and false when `positional` is not empty.
bool expect_no_arguments(const std::vector<std::string>& positional, Context& ctx);

}  // namespace pc::cli
