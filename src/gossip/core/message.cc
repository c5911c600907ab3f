#include "gossip/core/message.h"

#include <cmath>

#include "gossip/core/config.h"

namespace pc::gossip {

std::string_view member_state_name(MemberState state) {
  switch (state) {
    case MemberState::kAlive: return "alive";
    case MemberState::kSuspect: return "suspect";
    case MemberState::kDead: return "dead";
    case MemberState::kLeft: return "left";
  }
  return "unknown";
}

std::string_view message_kind_name(MessageKind kind) {
  switch (kind) {
    case MessageKind::kPing: return "ping";
    case MessageKind::kIndirectPing: return "indirect-ping";
    case MessageKind::kAck: return "ack";
    case MessageKind::kNack: return "nack";
    case MessageKind::kAlive: return "alive";
    case MessageKind::kSuspect: return "suspect";
    case MessageKind::kDead: return "dead";
    case MessageKind::kPushPull: return "push-pull";
    case MessageKind::kUserEvent: return "user-event";
    case MessageKind::kQuery: return "query";
    case MessageKind::kQueryResponse: return "query-response";
  }
  return "unknown";
}

bool known_message_kind(std::uint32_t kind) {
  return kind >= static_cast<std::uint32_t>(MessageKind::kPing) &&
         kind <= static_cast<std::uint32_t>(MessageKind::kQueryResponse);
}

namespace {

// The protobuf encoding's sizes (proto/gossip.proto). Field numbers below 16 take a one-byte
// tag, 16 to 2047 two bytes. Fields at their default value are not encoded at all.
std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::size_t bytes_field(const std::string& s) {
  return s.empty() ? 0 : 1 + varint_size(s.size()) + s.size();
}

std::size_t scalar_field(std::uint64_t v, std::size_t tag_size = 1) {
  return v == 0 ? 0 : tag_size + varint_size(v);
}

std::size_t nested(std::size_t inner) {
  return 1 + varint_size(inner) + inner;
}

// proto3 leaves out a double whose bits are all zero (+0.0); -0.0 is encoded.
std::size_t double_field(double v) {
  return std::signbit(v) || v != 0.0 ? 1 + sizeof(double) : 0;
}

std::size_t coordinate_size(const Coordinate& c) {
  // `vec` is packed: one tag, the byte length, eight bytes per value.
  std::size_t vec = c.vec.empty() ? 0
                                  : 1 + varint_size(c.vec.size() * sizeof(double)) +
                                        c.vec.size() * sizeof(double);
  return nested(vec + double_field(c.error) + double_field(c.adjustment) + double_field(c.height));
}

std::size_t snapshot_size(const MemberSnapshot& s) {
  return nested(bytes_field(s.name) + bytes_field(s.addr) + bytes_field(s.meta) +
                scalar_field(s.incarnation) + scalar_field(static_cast<std::uint64_t>(s.state)));
}

std::size_t event_record_size(const EventRecord& e) {
  // Field 19 of Message: a two-byte tag.
  std::size_t inner = scalar_field(e.ltime) + bytes_field(e.name) + bytes_field(e.payload);
  return 2 + varint_size(inner) + inner;
}

}  // namespace

std::size_t encoded_size_bound(const Message& m) {
  std::size_t n = scalar_field(static_cast<std::uint64_t>(m.kind)) + scalar_field(m.seq) +
                  bytes_field(m.node) + bytes_field(m.addr) + scalar_field(m.incarnation) +
                  bytes_field(m.from) + bytes_field(m.meta) + scalar_field(m.nack ? 1 : 0) +
                  scalar_field(m.join ? 1 : 0) + scalar_field(m.reply ? 1 : 0);
  for (const MemberSnapshot& s : m.states) n += snapshot_size(s);
  if (m.coordinate) n += coordinate_size(*m.coordinate);
  // serf's fields: 13-15 take one-byte tags, 16-18 two.
  n += scalar_field(m.ltime) + bytes_field(m.payload) + bytes_field(m.topic) +
       scalar_field(m.timeout_ms, 2) + scalar_field(m.relay_factor, 2) +
       scalar_field(m.query_ltime, 2);
  for (const EventRecord& e : m.events) n += event_record_size(e);
  return nested(n);
}

std::size_t encoded_size_bound(const std::vector<Message>& messages) {
  std::size_t n = kPacketOverheadBound;
  for (const Message& m : messages) n += encoded_size_bound(m);
  return n;
}

namespace {

std::string check_name(const std::string& name, const char* what) {
  if (name.empty()) return std::string(what) + " is empty";
  if (name.size() > kNameSizeMax) return std::string(what) + " is too long";
  return {};
}

}  // namespace

// A push-pull's recent events: each as a user event would be checked.
static std::string validate_events(const Message& m) {
  if (m.events.empty()) return {};
  if (m.kind != MessageKind::kPushPull) {
    return "events on a " + std::string(message_kind_name(m.kind));
  }
  if (m.events.size() > kPushPullEventsMax) return "push-pull with too many events";
  for (const EventRecord& e : m.events) {
    if (e.name.empty()) return "push-pull event without a name";
    if (e.name.size() + e.payload.size() > kUserEventSizeMax) return "push-pull event too large";
  }
  return {};
}

static std::string validate_user_message(const Message& m) {
  switch (m.kind) {
    case MessageKind::kUserEvent:
      if (m.topic.empty()) return "user event without a name";
      if (m.topic.size() + m.payload.size() > kUserEventSizeMax) return "user event too large";
      return {};
    case MessageKind::kQuery: {
      if (m.topic.empty()) return "query without a name";
      if (m.topic.size() > kNameSizeMax) return "query name too long";
      if (m.payload.size() > kQueryPayloadSizeMax) return "query payload too large";
      if (m.addr.empty()) return "query without an origin address";
      if (m.timeout_ms == 0 || m.timeout_ms > kQueryTimeoutMaxMs) return "query timeout";
      if (m.relay_factor > kQueryRelayFactorMax) return "query relay factor";
      return check_name(m.from, "query origin");
    }
    case MessageKind::kQueryResponse:
      if (m.payload.size() > kQueryResponseSizeMax) return "query response too large";
      return check_name(m.from, "query responder");
    default: break;
  }
  // Other kinds carry none of serf's fields but a push-pull's clocks.
  if (!m.payload.empty() || !m.topic.empty() || m.timeout_ms != 0 || m.relay_factor != 0) {
    return "user message fields on a " + std::string(message_kind_name(m.kind));
  }
  if (m.kind != MessageKind::kPushPull && (m.ltime != 0 || m.query_ltime != 0)) {
    return "a Lamport time on a " + std::string(message_kind_name(m.kind));
  }
  return {};
}

std::string validate_message(const Message& m, Channel channel) {
  if (m.addr.size() > kAddrSizeMax) return "address too long";
  if (std::string why = validate_user_message(m); !why.empty()) return why;
  if (std::string why = validate_events(m); !why.empty()) return why;
  if (m.meta.size() > kMetaSizeMax) return "meta too large";
  if (m.node.size() > kNameSizeMax || m.from.size() > kNameSizeMax) return "name too long";
  if (m.coordinate) {
    if (m.kind != MessageKind::kAck) return "a coordinate on a message other than an ack";
    std::string why = coordinate_problem(*m.coordinate);
    if (!why.empty()) return why;
  }
  switch (m.kind) {
    case MessageKind::kPing: return {};  // an empty target name means "whoever you are"
    case MessageKind::kAck:
    case MessageKind::kNack: return {};
    case MessageKind::kIndirectPing:
      if (m.addr.empty()) return "indirect ping without a target address";
      return check_name(m.node, "indirect ping target");
    case MessageKind::kAlive:
      if (m.addr.empty()) return "alive without an address";
      return check_name(m.node, "alive node");
    case MessageKind::kSuspect:
    case MessageKind::kDead: {
      std::string why = check_name(m.node, "node");
      if (!why.empty()) return why;
      return check_name(m.from, "from");
    }
    case MessageKind::kPushPull: {
      if (channel != Channel::kTcp) return "push-pull over UDP";
      if (m.states.size() > kMembersMax) return "push-pull with too many members";
      for (const MemberSnapshot& s : m.states) {
        std::string why = check_name(s.name, "push-pull member");
        if (!why.empty()) return why;
        if (s.addr.empty() || s.addr.size() > kAddrSizeMax) return "push-pull member address";
        if (s.meta.size() > kMetaSizeMax) return "push-pull member meta too large";
        if (static_cast<std::uint32_t>(s.state) > static_cast<std::uint32_t>(MemberState::kLeft))
          return "push-pull member state unknown";
      }
      return {};
    }
    case MessageKind::kUserEvent:
    case MessageKind::kQuery:
    case MessageKind::kQueryResponse: return {};  // validate_user_message above
  }
  return "unknown message kind";
}

}  // namespace pc::gossip
