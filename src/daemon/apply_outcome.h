#pragma once
// state::ApplyResult to and from bytes (proto/forward.proto), for writes a follower forwards
// to the leader (consensus::ForwardingLog). Decoding takes bytes from the network: anything
// malformed is an error, never a crash.
#include <any>
#include <string>
#include <string_view>

#include "consensus/runtime/forwarding_log.h"
#include "core/result.h"

namespace pc::daemon {

// Encodes the std::any an StoreFsm returned (a state::ApplyResult).
std::string encode_apply_outcome(const std::any& result);
// A std::any holding a state::ApplyResult.
core::Result<std::any> decode_apply_outcome(std::string_view bytes);

inline consensus::ResultCodec apply_outcome_codec() {
  return consensus::ResultCodec{encode_apply_outcome, decode_apply_outcome};
}

}  // namespace pc::daemon
