#pragma once
// The values the Raft core, the write-ahead log and the snapshot store share. Plain structs,
// no I/O: the core (raft.h) produces and consumes them, the WAL (../wal/) makes them durable,
// and the server transport (rpc/) carries them as protobuf.
#include <cstdint>
#include <string>
#include <vector>

namespace pc::consensus::raft {

// A server's identity inside the core. 0 means "none" (no vote, no known leader); the
// runtime maps ids to Consul's server IDs and RPC addresses.
using NodeId = std::uint64_t;
inline constexpr NodeId kNoNode = 0;

enum class EntryType : std::uint8_t {
  kNormal = 0,      // a state-machine command (empty data: the leader's no-op of its term)
  kConfChange = 1,  // data is an encoded ConfChange (conf_change.h)
};

struct Entry {
  std::uint64_t term = 0;
  std::uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  bool operator==(const Entry&) const = default;
};

// What must be on disk before any message that depends on it is sent (Raft §5.1/§5.2).
struct HardState {
  std::uint64_t term = 0;
  NodeId vote = kNoNode;
  std::uint64_t commit = 0;

  bool operator==(const HardState&) const = default;
  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
};

// The membership a log position stands for. `voters_outgoing` is non-empty only while a
// joint configuration (C_old,new) is in force.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  std::vector<NodeId> voters_outgoing;

  bool operator==(const ConfState&) const = default;
};

struct SnapshotMeta {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  ConfState conf;

  bool operator==(const SnapshotMeta&) const = default;
};

}  // namespace pc::consensus::raft
