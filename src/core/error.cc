#include "core/error.h"

namespace pc::core {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kNotFound: return "not found";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kPermissionDenied: return "permission denied";
    case Code::kConflict: return "conflict";
    case Code::kNotLeader: return "not leader";
    case Code::kUnavailable: return "unavailable";
    case Code::kTimeout: return "timeout";
    case Code::kTooLarge: return "too large";
    case Code::kCorruption: return "corruption";
    case Code::kIoError: return "i/o error";
    case Code::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace pc::core
