#include "consensus/core/conf_change.h"

#include <algorithm>

namespace pc::consensus::raft {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeaderSize = 1 + 1 + 8 + 4;

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(std::string_view bytes, std::size_t at, int width) {
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[at + i])) << (8 * i);
  }
  return v;
}

void erase_id(std::vector<NodeId>& ids, NodeId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}
bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

std::string encode_conf_change(const ConfChange& change) {
  PC_ASSERT(change.context.size() <= kConfChangeContextSizeMax, "conf change context {} bytes",
            change.context.size());
  std::string out;
  out.reserve(kHeaderSize + change.context.size());
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(change.type));
  put_u64(out, change.node_id);
  put_u32(out, static_cast<std::uint32_t>(change.context.size()));
  out.append(change.context);
  return out;
}

core::Result<ConfChange> decode_conf_change(std::string_view bytes) {
  using core::Code;
  using core::make_error;
  if (bytes.size() < kHeaderSize) {
    return make_error(Code::kCorruption, "conf change: truncated header");
  }
  if (static_cast<std::uint8_t>(bytes[0]) != kVersion) {
    return make_error(Code::kCorruption, "conf change: unknown version");
  }
  auto type = static_cast<std::uint8_t>(bytes[1]);
  if (type > static_cast<std::uint8_t>(ConfChangeType::kRemoveNode)) {
    return make_error(Code::kCorruption, "conf change: unknown type");
  }
  ConfChange change;
  change.type = static_cast<ConfChangeType>(type);
  change.node_id = get_le(bytes, 2, 8);
  if (change.node_id == kNoNode) {
    return make_error(Code::kCorruption, "conf change: node id 0");
  }
  auto length = get_le(bytes, 10, 4);
  if (length > kConfChangeContextSizeMax) {
    return make_error(Code::kCorruption, "conf change: context too large");
  }
  if (bytes.size() - kHeaderSize != length) {
    return make_error(Code::kCorruption, "conf change: context length mismatch");
  }
  change.context.assign(bytes.substr(kHeaderSize));
  return change;
}

ConfState apply_to(const ConfState& conf, const ConfChange& change) {
  ConfState next = conf;
  NodeId id = change.node_id;
  switch (change.type) {
    case ConfChangeType::kAddVoter:
      erase_id(next.learners, id);
      if (!contains(next.voters, id)) next.voters.push_back(id);
      break;
    case ConfChangeType::kAddLearner:
      erase_id(next.voters, id);
      if (!contains(next.learners, id)) next.learners.push_back(id);
      break;
    case ConfChangeType::kRemoveNode:
      erase_id(next.voters, id);
      erase_id(next.learners, id);
      break;
  }
  // Sorted sets: every node derives byte-identical ConfStates from the same log.
  std::sort(next.voters.begin(), next.voters.end());
  std::sort(next.learners.begin(), next.learners.end());
  return next;
}

}  // namespace pc::consensus::raft
