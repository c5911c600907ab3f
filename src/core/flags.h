#pragma once
// Command-line flags with the semantics of Go's `flag` package, which Consul's CLI uses, so
// `proconsul` accepts exactly what `consul` accepts (docs/decisions/0001-go-style-flags.md):
//
//   -name  --name  -name=value  -name value      one or two dashes, long names only
//   -dev  -dev=true  -dev=false                  a bool never takes the next argument
//   -retry-join a -retry-join b                  repeatable flags append
//   parsing stops at the first non-flag argument ("-" alone is one) or after "--"
//
// Unknown flags are errors ("flag provided but not defined: -x"); a bad value names the flag.
// `-h`, `-help` and `--help` (unless defined) give a distinct result so commands print their
// help. usage() renders flags the way Consul's command/flags/usage.go does.
//
// Thread-compatible: build, parse and read on one thread. Targets are caller-owned and must
// outlive the FlagSet; parse() writes them as it goes, so after an error some may be set.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pc::core {

// What parse() found besides flag values.
struct FlagParse {
  // Arguments from the first non-flag on (after a "--" terminator, which is dropped).
  std::vector<std::string> positional;
  // `-h`, `-help` or `--help` was given and is not a defined flag: print help, exit 0.
  bool help = false;
};

class FlagSet {
 public:
  // Sets a custom value from its text; returns an error whose message is the reason.
  using Setter = std::function<Status(std::string_view text)>;

  FlagSet();
  ~FlagSet();
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Flags added after this call are listed under `title` in usage() (Consul prints
  // "HTTP API Options" and "Command Options"), groups in the order of their first flag.
  // The default group is "Command Options".
  void begin_group(std::string title);

  // A usage text may name the value in backquotes, as Go's flag.UnquoteUsage reads it:
  // "The `address` of the agent" renders as `-http-addr=<address>`.
  void add_bool(std::string_view name, bool* target, std::string_view usage);
  void add_string(std::string_view name, std::string* target, std::string_view usage);
  void add_int(std::string_view name, int* target, std::string_view usage,
               int min = std::numeric_limits<int>::min(),
               int max = std::numeric_limits<int>::max());
  void add_uint(std::string_view name, std::uint64_t* target, std::string_view usage);
  // Go duration text ("10s", "1m30s"), parsed by core::parse_go_duration.
  void add_duration(std::string_view name, Duration* target, std::string_view usage);
  // Repeatable: every occurrence appends. Several names may share one target, which then
  // keeps the command-line order across them (-config-file and -config-dir).
  void add_strings(std::string_view name, std::vector<std::string>* target, std::string_view usage);
  // Any other type, e.g. `-node-meta key:value` into a map. A bool-like value takes no
  // argument and receives "true" when given bare.
  void add_value(std::string_view name, Setter set, std::string_view usage, bool is_bool = false);

  // Parses `args` (without the program or command name).
  Result<FlagParse> parse(const std::vector<std::string>& args);

  // Whether the flag appeared on the command line in the last parse(), as Go's flag.Visit.
  bool is_set(std::string_view name) const;
  bool has_flag(std::string_view name) const;

  // The flag sections: for each group, its title, then "  -name=<value>" and the usage
  // wrapped at 72 columns with a 5-space indent. Empty when there are no flags.
  std::string usage() const;
  // A command's full help as Consul's flags.Usage builds it: the trimmed text, a blank line,
  // then usage(); trailing newlines trimmed.
  std::string help(std::string_view text) const;

 private:
  struct Flag;
  Flag* find(std::string_view name);
  const Flag* find(std::string_view name) const;
  Flag& add(std::string_view name, std::string_view usage);

  std::vector<Flag> flags_;
  std::vector<std::string> groups_;
  std::size_t group_ = 0;
};

// Greedy word wrap of `text` to lines of at most `width` columns (a longer word gets its own
// line), each line prefixed with `indent` spaces. Exposed for help texts in cli/.
std::string wrap_text(std::string_view text, std::size_t width, std::size_t indent);

}  // namespace pc::core
