#pragma once
// The messages gossip cores exchange: a plain struct the codec (gossip/codec.h) maps to
// protobuf field by field; the core never serializes. Fields a kind does not use stay at
// their defaults. A Packet is what one datagram (UDP) or one stream message (TCP) carries:
// a probe message plus the broadcasts piggybacked on it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/core/coordinate.h"

namespace pc::gossip {

// memberlist's incarnation numbers are 32 bits; ours too, so a mixed cluster could one day
// share the meaning.
using Incarnation = std::uint32_t;
using SeqNo = std::uint32_t;

// Append-only: the codec maps these numbers onto the wire (docs in proto/gossip.proto).
enum class MemberState : std::uint8_t {
  kAlive = 0,
  kSuspect = 1,
  kDead = 2,
  kLeft = 3,  // a graceful leave: dead by its own word
};
std::string_view member_state_name(MemberState state);
inline bool dead_or_left(MemberState s) {
  return s == MemberState::kDead || s == MemberState::kLeft;
}

// Append-only, as above.
enum class MessageKind : std::uint8_t {
  kPing = 1,          // seq, node (the intended target), from (the prober's name)
  kIndirectPing = 2,  // seq, node + addr (the target), nack (send a nack if no ack in time)
  kAck = 3,           // seq, coordinate (the sender's Vivaldi coordinate, if it has one)
  kNack = 4,          // seq: the relay heard nothing from the target (Lifeguard)
  kAlive = 5,         // incarnation, node, addr, meta
  kSuspect = 6,       // incarnation, node, from
  kDead = 7,          // incarnation, node, from (from == node: a graceful leave)
  kPushPull = 8,      // join, reply, states: full state exchange (TCP only); ltime and
                      // query_ltime: the sender's event and query clocks, events: its recent
                      // user events (serf's push-pull)
  // serf's user messages, carried by the broadcasts (src/gossip/README.md "Events and
  // queries").
  kUserEvent = 9,       // ltime, topic (the event's name), payload
  kQuery = 10,          // seq (the query id), ltime, from + addr (the origin), topic, payload,
                        // timeout_ms, relay_factor
  kQueryResponse = 11,  // seq, ltime, from (the responder), payload; addr: the origin, set
                        // when a relay is asked to forward it there
};
std::string_view message_kind_name(MessageKind kind);
bool known_message_kind(std::uint32_t kind);

// How the runtime carries a packet. Push-pull and the TCP ping fallback go over TCP; the
// runtime answers a TCP message on the stream it came on (a TCP ping's ack, a push-pull's
// reply), everything else is a datagram.
enum class Channel : std::uint8_t { kUdp = 0, kTcp = 1 };

// One member as a push-pull carries it.
struct MemberSnapshot {
  std::string name;
  std::string addr;
  std::string meta;
  Incarnation incarnation = 0;
  MemberState state = MemberState::kAlive;
  bool operator==(const MemberSnapshot&) const = default;
};

// One recent user event as a push-pull carries it (serf's userEvents, one per event).
struct EventRecord {
  std::uint64_t ltime = 0;
  std::string name;
  std::string payload;
  bool operator==(const EventRecord&) const = default;
};

struct Message {
  MessageKind kind = MessageKind::kPing;
  SeqNo seq = 0;
  std::string node;
  std::string addr;
  Incarnation incarnation = 0;
  std::string from;
  std::string meta;
  bool nack = false;
  bool join = false;
  bool reply = false;
  std::vector<MemberSnapshot> states;
  std::optional<Coordinate> coordinate;
  // serf's user events and queries (kinds 9-11) and the clocks a push-pull carries.
  std::uint64_t ltime = 0;
  std::string payload;
  std::string topic;
  std::uint32_t timeout_ms = 0;
  std::uint32_t relay_factor = 0;
  std::uint64_t query_ltime = 0;
  std::vector<EventRecord> events;  // a push-pull: the sender's recent user events
  bool operator==(const Message&) const = default;
};

// What the core hands the runtime to send.
struct Packet {
  std::string to;  // the destination's address
  Channel channel = Channel::kUdp;
  std::vector<Message> messages;
};

// The encoded size of a message inside a packet: exact for today's encoding, an upper bound
// by contract (the codec's tests check it). The core fills datagrams up to
// Config::udp_packet_size with it without linking the codec; the simulation counts bytes
// with it. The runtime's keyring adds its own overhead (nonce, tag) on top.
std::size_t encoded_size_bound(const Message& m);
// The frame around the messages: the version byte.
inline constexpr std::size_t kPacketOverheadBound = 1;
std::size_t encoded_size_bound(const std::vector<Message>& messages);

// Why the core refuses a message from a peer (a string for logs; never an assertion).
// Empty: the message is well-formed for its kind.
std::string validate_message(const Message& m, Channel channel);

}  // namespace pc::gossip
