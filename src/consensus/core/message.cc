#include "consensus/core/message.h"

namespace pc::consensus::raft {

std::string_view message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kHup: return "MsgHup";
    case MessageType::kBeat: return "MsgBeat";
    case MessageType::kProp: return "MsgProp";
    case MessageType::kCheckQuorum: return "MsgCheckQuorum";
    case MessageType::kApp: return "MsgApp";
    case MessageType::kAppResp: return "MsgAppResp";
    case MessageType::kVote: return "MsgVote";
    case MessageType::kVoteResp: return "MsgVoteResp";
    case MessageType::kPreVote: return "MsgPreVote";
    case MessageType::kPreVoteResp: return "MsgPreVoteResp";
    case MessageType::kHeartbeat: return "MsgHeartbeat";
    case MessageType::kHeartbeatResp: return "MsgHeartbeatResp";
    case MessageType::kSnap: return "MsgSnap";
    case MessageType::kTimeoutNow: return "MsgTimeoutNow";
    case MessageType::kReadIndex: return "MsgReadIndex";
    case MessageType::kReadIndexResp: return "MsgReadIndexResp";
    case MessageType::kTransferLeader: return "MsgTransferLeader";
    case MessageType::kUnreachable: return "MsgUnreachable";
    case MessageType::kForgetLeader: return "MsgForgetLeader";
    case MessageType::kSnapStatus: return "MsgSnapStatus";
  }
  return "MsgUnknown";
}

}  // namespace pc::consensus::raft
