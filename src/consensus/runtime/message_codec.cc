#include "consensus/runtime/message_codec.h"

#include "proto/raft.pb.h"

namespace pc::consensus {
namespace {

bool known_message_type(std::uint32_t t) {
  using raft::MessageType;
  if (t > 0xff) return false;
  switch (static_cast<MessageType>(t)) {
    case MessageType::kApp:
    case MessageType::kAppResp:
    case MessageType::kVote:
    case MessageType::kVoteResp:
    case MessageType::kPreVote:
    case MessageType::kPreVoteResp:
    case MessageType::kHeartbeat:
    case MessageType::kHeartbeatResp:
    case MessageType::kSnap:
    case MessageType::kTimeoutNow:
    case MessageType::kReadIndex:
    case MessageType::kReadIndexResp:
    case MessageType::kTransferLeader:
    case MessageType::kProp: return true;
    default: return false;  // local-only types never travel
  }
}

void to_proto(const raft::ConfState& c, proto::raft::ConfState& p) {
  for (auto id : c.voters) p.add_voters(id);
  for (auto id : c.learners) p.add_learners(id);
  for (auto id : c.voters_outgoing) p.add_voters_outgoing(id);
}

}  // namespace

std::string encode_raft_batch(const std::vector<raft::Message>& messages) {
  proto::raft::Batch batch;
  for (const raft::Message& m : messages) {
    proto::raft::Message* p = batch.add_messages();
    p->set_type(static_cast<std::uint32_t>(m.type));
    p->set_from(m.from);
    p->set_to(m.to);
    p->set_term(m.term);
    p->set_log_term(m.log_term);
    p->set_index(m.index);
    for (const raft::Entry& e : m.entries) {
      proto::raft::Entry* pe = p->add_entries();
      pe->set_term(e.term);
      pe->set_index(e.index);
      pe->set_type(static_cast<std::uint32_t>(e.type));
      pe->set_data(e.data);
    }
    p->set_commit(m.commit);
    p->set_reject(m.reject);
    p->set_reject_hint(m.reject_hint);
    if (!m.snapshot.empty()) {
      proto::raft::Snapshot* s = p->mutable_snapshot();
      s->mutable_meta()->set_index(m.snapshot.meta.index);
      s->mutable_meta()->set_term(m.snapshot.meta.term);
      to_proto(m.snapshot.meta.conf, *s->mutable_meta()->mutable_conf());
      s->set_data(m.snapshot.data);
    }
    p->set_context(m.context);
  }
  return batch.SerializeAsString();
}

core::Result<std::vector<raft::Message>> decode_raft_batch(std::string_view bytes) {
  auto bad = [](const std::string& why) {
    return core::make_error(core::Code::kInvalidArgument, "raft message batch: " + why);
  };
  proto::raft::Batch batch;
  if (!batch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("does not parse");
  }
  if (static_cast<std::size_t>(batch.messages_size()) > kRaftBatchMessagesMax) {
    return bad("too many messages");
  }
  std::vector<raft::Message> out;
  out.reserve(static_cast<std::size_t>(batch.messages_size()));
  for (const proto::raft::Message& p : batch.messages()) {
    if (!known_message_type(p.type()))
      return bad("unknown message type " + std::to_string(p.type()));
    raft::Message m;
    m.type = static_cast<raft::MessageType>(p.type());
    m.from = p.from();
    m.to = p.to();
    m.term = p.term();
    m.log_term = p.log_term();
    m.index = p.index();
    for (const proto::raft::Entry& pe : p.entries()) {
      if (pe.type() > static_cast<std::uint32_t>(raft::EntryType::kConfChange)) {
        return bad("unknown entry type " + std::to_string(pe.type()));
      }
      m.entries.push_back(
          raft::Entry{pe.term(), pe.index(), static_cast<raft::EntryType>(pe.type()), pe.data()});
    }
    m.commit = p.commit();
    m.reject = p.reject();
    m.reject_hint = p.reject_hint();
    if (p.has_snapshot()) {
      const auto& meta = p.snapshot().meta();
      // Index 0 is the core's "no snapshot": one that carries anything else is malformed
      // (and would not survive a re-encode).
      if (meta.index() == 0 &&
          (meta.term() != 0 || meta.has_conf() || !p.snapshot().data().empty())) {
        return bad("snapshot with index 0");
      }
      m.snapshot.meta.index = meta.index();
      m.snapshot.meta.term = meta.term();
      m.snapshot.meta.conf.voters.assign(meta.conf().voters().begin(), meta.conf().voters().end());
      m.snapshot.meta.conf.learners.assign(meta.conf().learners().begin(),
                                           meta.conf().learners().end());
      m.snapshot.meta.conf.voters_outgoing.assign(meta.conf().voters_outgoing().begin(),
                                                  meta.conf().voters_outgoing().end());
      m.snapshot.data = p.snapshot().data();
    }
    m.context = p.context();
    out.push_back(std::move(m));
  }
  return out;
}

std::string encode_configuration(const RaftConfiguration& config) {
  proto::raft::Configuration p;
  for (const RaftServerInfo& s : config.servers) {
    proto::raft::ServerView* v = p.add_servers();
    v->set_address(s.address);
    v->set_voter(s.voter);
    v->set_leader(s.leader);
    v->set_match_index(s.match_index);
    v->set_recently_active(s.recently_active);
  }
  p.set_last_index(config.last_index);
  p.set_term(config.term);
  return p.SerializeAsString();
}

core::Result<RaftConfiguration> decode_configuration(std::string_view bytes) {
  auto bad = [](const std::string& why) {
    return core::make_error(core::Code::kInvalidArgument, "raft configuration: " + why);
  };
  proto::raft::Configuration p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return bad("malformed");
  if (static_cast<std::size_t>(p.servers_size()) > kRaftConfigurationServersMax) {
    return bad(std::to_string(p.servers_size()) + " servers");
  }
  RaftConfiguration out;
  for (const proto::raft::ServerView& v : p.servers()) {
    if (v.address().size() > 256)
      return bad("address of " + std::to_string(v.address().size()) + " bytes");
    RaftServerInfo s;
    s.address = v.address();
    s.voter = v.voter();
    s.leader = v.leader();
    s.match_index = v.match_index();
    s.recently_active = v.recently_active();
    out.servers.push_back(std::move(s));
  }
  out.last_index = p.last_index();
  out.term = p.term();
  return out;
}

}  // namespace pc::consensus
