#pragma once
// Membership changes, one server at a time (Raft thesis §4.1). A ConfChange travels in the
// data of an EntryType::kConfChange entry and takes effect on each node when the owner
// applies that entry (RawNode::apply_conf_change). The leader refuses a second change while
// one is still unapplied, which keeps any two successive configurations overlapping in a
// majority. Joint consensus is not implemented (ConfState::voters_outgoing stays empty).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "consensus/core/types.h"
#include "core/result.h"

namespace pc::consensus::raft {

// Append-only: the numbers are part of the encoding stored in the log.
enum class ConfChangeType : std::uint8_t {
  kAddVoter = 0,    // add a voter, or promote a learner
  kAddLearner = 1,  // add a learner, or demote a voter
  kRemoveNode = 2,
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node_id = kNoNode;
  // Opaque to the core: the runtime puts the server's address here so every node learns it
  // from the log.
  std::string context;

  bool operator==(const ConfChange&) const = default;
};

// Largest context we encode or accept; a server address with a name fits many times over.
inline constexpr std::size_t kConfChangeContextSizeMax = 4096;

// Encoding (little-endian): u8 version (=1), u8 type, u64 node_id, u32 context length,
// context bytes. Nothing may follow.
std::string encode_conf_change(const ConfChange& change);
// Never asserts on the bytes: anything malformed is kCorruption.
core::Result<ConfChange> decode_conf_change(std::string_view bytes);

// The membership after `change` is applied to `conf`. Never fails: adding an existing voter
// or removing an absent node leaves the set as it was (the log may hold such a change when
// it was proposed twice; every node must apply it the same way).
ConfState apply_to(const ConfState& conf, const ConfChange& change);

}  // namespace pc::consensus::raft
