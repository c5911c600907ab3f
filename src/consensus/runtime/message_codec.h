#pragma once
// Raft messages to and from bytes (proto/raft.proto) for the server transport. Decoding is
// of bytes from the network: anything malformed, an unknown message or entry type, or a
// batch over the limits is an error (kInvalidArgument), never a crash.
#include <string>
#include <string_view>
#include <vector>

#include "consensus/core/message.h"
#include "consensus/log.h"
#include "core/result.h"

namespace pc::consensus {

// Messages in one batch; more is refused (a leader sends far fewer per Ready and peer).
inline constexpr std::size_t kRaftBatchMessagesMax = 4096;

std::string encode_raft_batch(const std::vector<raft::Message>& messages);
core::Result<std::vector<raft::Message>> decode_raft_batch(std::string_view bytes);

// A leader's configuration view, for a follower that forwarded an operator read. More servers
// than kRaftConfigurationServersMax, or an address over 256 bytes, is refused.
inline constexpr std::size_t kRaftConfigurationServersMax = 1024;
std::string encode_configuration(const RaftConfiguration& config);
core::Result<RaftConfiguration> decode_configuration(std::string_view bytes);

}  // namespace pc::consensus
