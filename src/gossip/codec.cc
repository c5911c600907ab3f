#include "gossip/codec.h"

#include "gossip/core/config.h"
#include "proto/gossip.pb.h"

namespace pc::gossip {
namespace {

core::Error bad(const std::string& why) {
  return core::make_error(core::Code::kInvalidArgument, "gossip packet: " + why);
}

}  // namespace

std::string encode_packet(const std::vector<Message>& messages) {
  proto::gossip::Packet packet;
  for (const Message& m : messages) {
    proto::gossip::Message* p = packet.add_messages();
    p->set_kind(static_cast<std::uint32_t>(m.kind));
    p->set_seq(m.seq);
    p->set_node(m.node);
    p->set_addr(m.addr);
    p->set_incarnation(m.incarnation);
    p->set_from(m.from);
    p->set_meta(m.meta);
    p->set_nack(m.nack);
    p->set_join(m.join);
    p->set_reply(m.reply);
    for (const MemberSnapshot& s : m.states) {
      proto::gossip::MemberState* ps = p->add_states();
      ps->set_name(s.name);
      ps->set_addr(s.addr);
      ps->set_meta(s.meta);
      ps->set_incarnation(s.incarnation);
      ps->set_state(static_cast<std::uint32_t>(s.state));
    }
    if (m.coordinate) {
      proto::gossip::Coordinate* pc = p->mutable_coordinate();
      for (double v : m.coordinate->vec) pc->add_vec(v);
      pc->set_error(m.coordinate->error);
      pc->set_adjustment(m.coordinate->adjustment);
      pc->set_height(m.coordinate->height);
    }
    p->set_ltime(m.ltime);
    p->set_payload(m.payload);
    p->set_topic(m.topic);
    p->set_timeout_ms(m.timeout_ms);
    p->set_relay_factor(m.relay_factor);
    p->set_query_ltime(m.query_ltime);
    for (const EventRecord& e : m.events) {
      proto::gossip::UserEvent* pe = p->add_events();
      pe->set_ltime(e.ltime);
      pe->set_name(e.name);
      pe->set_payload(e.payload);
    }
  }
  std::string out(1, static_cast<char>(kGossipFrameVersion));
  packet.AppendToString(&out);
  return out;
}

core::Result<std::vector<Message>> decode_packet(std::string_view bytes, Channel channel) {
  std::size_t max = channel == Channel::kUdp ? kUdpPacketSizeMax : kTcpMessageSizeMax;
  if (bytes.size() > max) {
    return core::make_error(core::Code::kTooLarge,
                            "gossip packet: " + std::to_string(bytes.size()) + " bytes");
  }
  if (bytes.empty()) return bad("empty");
  if (static_cast<std::uint8_t>(bytes[0]) != kGossipFrameVersion) {
    return bad("unknown frame version " + std::to_string(static_cast<std::uint8_t>(bytes[0])));
  }
  bytes.remove_prefix(1);
  proto::gossip::Packet packet;
  if (!packet.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("does not parse");
  }
  if (packet.messages_size() == 0) return bad("no messages");
  if (static_cast<std::size_t>(packet.messages_size()) > kMessagesPerPacketMax) {
    return bad("too many messages");
  }
  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(packet.messages_size()));
  for (const proto::gossip::Message& p : packet.messages()) {
    if (!known_message_kind(p.kind())) return bad("unknown kind " + std::to_string(p.kind()));
    if (static_cast<std::size_t>(p.states_size()) > kMembersMax) return bad("too many members");
    if (static_cast<std::size_t>(p.events_size()) > kPushPullEventsMax) {
      return bad("too many events");
    }
    if (p.has_coordinate() &&
        static_cast<std::size_t>(p.coordinate().vec_size()) > kCoordinateDimensionalityMax) {
      return bad("coordinate with too many dimensions");
    }
    Message m;
    m.kind = static_cast<MessageKind>(p.kind());
    m.seq = p.seq();
    m.node = p.node();
    m.addr = p.addr();
    m.incarnation = p.incarnation();
    m.from = p.from();
    m.meta = p.meta();
    m.nack = p.nack();
    m.join = p.join();
    m.reply = p.reply();
    m.ltime = p.ltime();
    m.payload = p.payload();
    m.topic = p.topic();
    m.timeout_ms = p.timeout_ms();
    m.relay_factor = p.relay_factor();
    m.query_ltime = p.query_ltime();
    m.states.reserve(static_cast<std::size_t>(p.states_size()));
    for (const proto::gossip::MemberState& ps : p.states()) {
      if (ps.state() > static_cast<std::uint32_t>(MemberState::kLeft)) {
        return bad("unknown member state " + std::to_string(ps.state()));
      }
      m.states.push_back(MemberSnapshot{ps.name(), ps.addr(), ps.meta(), ps.incarnation(),
                                        static_cast<MemberState>(ps.state())});
    }
    m.events.reserve(static_cast<std::size_t>(p.events_size()));
    for (const proto::gossip::UserEvent& pe : p.events()) {
      m.events.push_back(EventRecord{pe.ltime(), pe.name(), pe.payload()});
    }
    if (p.has_coordinate()) {
      const proto::gossip::Coordinate& pc = p.coordinate();
      m.coordinate =
          Coordinate{{pc.vec().begin(), pc.vec().end()}, pc.error(), pc.adjustment(), pc.height()};
    }
    std::string why = validate_message(m, channel);
    if (!why.empty()) return bad(std::string(message_kind_name(m.kind)) + ": " + why);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace pc::gossip
