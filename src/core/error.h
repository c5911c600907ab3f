#pragma once
// Error values for expected failures (shared/STYLE.md §3). One closed enum of codes; only
// the edges (http/, dns/) map a Code to Consul's status codes and texts.
#include <cstdint>
#include <string>
#include <string_view>

namespace pc::core {

// Append-only: the numeric values may travel between servers.
enum class Code : std::uint8_t {
  kOk = 0,
  kNotFound = 1,
  kInvalidArgument = 2,
  kPermissionDenied = 3,
  kConflict = 4,
  kNotLeader = 5,
  kUnavailable = 6,
  kTimeout = 7,
  kTooLarge = 8,
  kCorruption = 9,
  kIoError = 10,
  kInternal = 11,
};

std::string_view code_name(Code code);

struct Error {
  Code code = Code::kInternal;
  std::string message;

  // Prepends context on the way up: "loading config: " + message.
  Error with_context(std::string_view context) const {
    return Error{code, std::string(context) + ": " + message};
  }
};

inline Error make_error(Code code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace pc::core
