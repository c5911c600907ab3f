#include "consensus/core/raw_node.h"

namespace pc::consensus::raft {

using core::Code;
using core::make_error;

RawNode::RawNode(const Config& config)
    : raft_(config), prev_soft_(raft_.soft_state()), prev_hard_(raft_.hard_state()) {}

void RawNode::tick() {
  raft_.tick();
}

void RawNode::campaign() {
  Message m;
  m.type = MessageType::kHup;
  m.from = raft_.id();
  (void)raft_.step(m);
}

core::Status RawNode::propose(std::string data) {
  Message m;
  m.type = MessageType::kProp;
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(data)});
  return raft_.step(m);
}

core::Status RawNode::propose_conf_change(const ConfChange& change) {
  if (change.node_id == kNoNode) return make_error(Code::kInvalidArgument, "conf change: node 0");
  if (change.context.size() > kConfChangeContextSizeMax) {
    return make_error(Code::kTooLarge, "conf change: context too large");
  }
  Message m;
  m.type = MessageType::kProp;
  m.entries.push_back(Entry{0, 0, EntryType::kConfChange, encode_conf_change(change)});
  return raft_.step(m);
}

core::Status RawNode::step(const Message& m) {
  if (is_local_message(m.type)) {
    return make_error(Code::kInvalidArgument, "local message type from the network");
  }
  if (m.type == MessageType::kProp && m.entries.empty()) {
    return make_error(Code::kInvalidArgument, "empty proposal");
  }
  if (m.from == kNoNode) return make_error(Code::kInvalidArgument, "message without a sender");
  // Responses only mean something from members (a removed node's late answers are noise).
  if (is_response_message(m.type) && !raft_.tracker().is_member(m.from)) {
    return make_error(Code::kInvalidArgument, "response from a node not in the configuration");
  }
  return raft_.step(m);
}

core::Status RawNode::transfer_leadership(NodeId transferee) {
  if (transferee == kNoNode) return make_error(Code::kInvalidArgument, "transfer to node 0");
  Message m;
  m.type = MessageType::kTransferLeader;
  m.from = transferee;
  return raft_.step(m);
}

core::Status RawNode::read_index(std::string context) {
  // The context is how the answer is matched to the request, so it must be non-empty.
  if (context.empty()) return make_error(Code::kInvalidArgument, "read_index: empty context");
  Message m;
  m.type = MessageType::kReadIndex;
  m.context = std::move(context);
  return raft_.step(m);
}

bool RawNode::has_ready() const {
  if (raft_.soft_state() != prev_soft_) return true;
  HardState hs = raft_.hard_state();
  if (!hs.empty() && hs != prev_hard_) return true;
  const RaftLog& log = raft_.log();
  return log.unstable_snapshot().has_value() || log.has_unstable_entries() ||
         raft_.has_messages() || raft_.has_read_states() || log.has_next_committed_entries();
}

Ready RawNode::ready() {
  Ready rd;
  RaftLog& log = raft_.log();
  rd.entries = log.unstable_entries();
  rd.committed_entries = log.next_committed_entries();
  rd.messages = raft_.take_messages();
  rd.read_states = raft_.take_read_states();
  rd.snapshot = log.unstable_snapshot();
  if (SoftState soft = raft_.soft_state(); soft != prev_soft_) rd.soft_state = soft;
  if (HardState hs = raft_.hard_state(); hs != prev_hard_) rd.hard_state = hs;
  rd.messages_may_precede_persist =
      prev_soft_.role == Role::kLeader && raft_.role() == Role::kLeader &&
      (!rd.hard_state ||
       (rd.hard_state->term == prev_hard_.term && rd.hard_state->vote == prev_hard_.vote));
  return rd;
}

void RawNode::advance(const Ready& rd) {
  RaftLog& log = raft_.log();
  if (rd.soft_state) prev_soft_ = *rd.soft_state;
  if (rd.hard_state) prev_hard_ = *rd.hard_state;
  if (rd.snapshot) {
    log.stable_snap_to(rd.snapshot->meta.index);
    log.applied_to(rd.snapshot->meta.index);
  }
  if (!rd.committed_entries.empty()) log.applied_to(rd.committed_entries.back().index);
  if (!rd.entries.empty()) {
    log.stable_to(rd.entries.back().index, rd.entries.back().term);
    raft_.on_persisted();
  }
}

ConfState RawNode::apply_conf_change(const ConfChange& change) {
  return raft_.apply_conf_change(change);
}

void RawNode::report_unreachable(NodeId id) {
  Message m;
  m.type = MessageType::kUnreachable;
  m.from = id;
  (void)raft_.step(m);
}

void RawNode::forget_leader(NodeId gone) {
  Message m;
  m.type = MessageType::kForgetLeader;
  m.from = gone;
  (void)raft_.step(m);
}

void RawNode::report_snapshot(NodeId id, bool ok) {
  Message m;
  m.type = MessageType::kSnapStatus;
  m.from = id;
  m.reject = !ok;
  (void)raft_.step(m);
}

}  // namespace pc::consensus::raft
