#pragma once
// The command lines of the bench tools: --name=value flags only, and -h/--help for the usage
// text. Errors go through the tool's own die() (its name prefix, exit 2).
#include <cstdlib>
#include <string>
#include <string_view>

#include "http_client.h"

namespace pc_bench {

// Calls `flag(name, value)` for every argument; -h/--help prints `usage` and exits 0, an
// argument of another shape prints it and dies.
template <typename Die, typename Flag>
void for_each_flag(int argc, char** argv, void (*usage)(), Die die, Flag flag) {
  for (int a = 1; a < argc; ++a) {
    std::string_view arg = argv[a];
    if (arg == "-h" || arg == "--help") {
      usage();
      std::exit(0);
    }
    std::size_t eq = arg.find('=');
    if (arg.substr(0, 2) != "--" || eq == std::string_view::npos) {
      usage();
      die("bad argument: " + std::string(arg));
    }
    flag(arg.substr(2, eq - 2), std::string(arg.substr(eq + 1)));
  }
}

// `value` as an integer in [min, max], or die with "bad value for --name".
template <typename Die>
int int_flag(std::string_view name, const std::string& value, int min, int max, Die die) {
  int out = 0;
  if (!parse_uint(value, out) || out < min || out > max) {
    die("bad value for --" + std::string(name));
  }
  return out;
}

}  // namespace pc_bench
