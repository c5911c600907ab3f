#pragma once
// The messages Raft cores exchange. A plain struct so the server transport (rpc/) can map it
// to protobuf field by field; the core never serializes it. Fields a type does not use stay
// at their defaults.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/core/types.h"

namespace pc::consensus::raft {

// Append-only: the transport maps these numbers onto the wire.
enum class MessageType : std::uint8_t {
  // Local messages: never sent between nodes, fed to step() by the owner.
  kHup = 0,   // start an election (campaign())
  kBeat = 1,  // leader: send heartbeats now (heartbeat timeout)
  kProp = 2,  // a proposal; forwarded by followers to the leader
  kCheckQuorum = 3,
  // Network messages.
  kApp = 10,
  kAppResp = 11,
  kVote = 12,
  kVoteResp = 13,
  kPreVote = 14,
  kPreVoteResp = 15,
  kHeartbeat = 16,
  kHeartbeatResp = 17,
  kSnap = 18,
  kTimeoutNow = 19,
  kReadIndex = 20,
  kReadIndexResp = 21,
  kTransferLeader = 22,
  kUnreachable = 23,   // local: the transport could not reach `from`
  kSnapStatus = 24,    // local: the snapshot to `from` succeeded (reject=false) or failed
  kForgetLeader = 25,  // local: `from`'s process is known to be gone; forget it as leader
};

std::string_view message_type_name(MessageType type);

// True for the types a node only ever feeds to itself.
inline bool is_local_message(MessageType type) {
  return type == MessageType::kHup || type == MessageType::kBeat ||
         type == MessageType::kCheckQuorum || type == MessageType::kUnreachable ||
         type == MessageType::kSnapStatus || type == MessageType::kForgetLeader;
}

// True for responses: these carry the term of the request they answer.
inline bool is_response_message(MessageType type) {
  return type == MessageType::kAppResp || type == MessageType::kVoteResp ||
         type == MessageType::kPreVoteResp || type == MessageType::kHeartbeatResp ||
         type == MessageType::kReadIndexResp || type == MessageType::kUnreachable ||
         type == MessageType::kSnapStatus;
}

// A state-machine snapshot as the core sees it: metadata plus opaque bytes the owner
// produced (MemoryStorage::create_snapshot) and will restore.
struct Snapshot {
  SnapshotMeta meta;
  std::string data;

  bool empty() const { return meta.index == 0; }
  bool operator==(const Snapshot&) const = default;
};

struct Message {
  MessageType type = MessageType::kApp;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::uint64_t term = 0;
  // kApp: term and index of the entry preceding `entries`; votes: the candidate's last log
  // term/index; kAppResp: the index acknowledged (or, rejected, the MsgApp's index) and in
  // log_term the term at reject_hint; kHeartbeat(Resp): index carries the leader's tick for
  // its lease; kReadIndexResp: the read index.
  std::uint64_t log_term = 0;
  std::uint64_t index = 0;
  std::vector<Entry> entries;
  std::uint64_t commit = 0;
  bool reject = false;
  // kAppResp with reject: the highest index at which the follower's log might still match.
  std::uint64_t reject_hint = 0;
  Snapshot snapshot;  // kSnap only
  // kReadIndex/kReadIndexResp/kHeartbeat(Resp): the read request's opaque context.
  // kVote: kCampaignTransfer when the election was forced by a leadership transfer, which
  // lets it past the followers' lease check (the leader itself asked for it).
  std::string context;

  bool operator==(const Message&) const = default;
};

// The context marking a vote forced by MsgTimeoutNow (leadership transfer).
inline constexpr std::string_view kCampaignTransfer = "CampaignTransfer";

}  // namespace pc::consensus::raft
