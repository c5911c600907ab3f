// The gossip wire codec: round trips for every kind, the size bound the core relies on,
// and refusal (never a crash) of malformed, oversized or invalid bytes.
#include "gossip/codec.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "gossip/core/config.h"
#include "gossip/core/suspicion.h"

namespace pc::gossip {
namespace {

std::vector<Message> one_of_each() {
  std::vector<Message> out;
  Message ping{MessageKind::kPing, 42};
  ping.node = "node-b";
  ping.from = "node-a";
  out.push_back(ping);
  Message ind{MessageKind::kIndirectPing, 43};
  ind.node = "node-c";
  ind.addr = "10.0.0.3:8301";
  ind.nack = true;
  out.push_back(ind);
  out.push_back(Message{MessageKind::kAck, 42});
  out.push_back(Message{MessageKind::kNack, 43});
  Message alive{MessageKind::kAlive};
  alive.node = "node-d";
  alive.addr = "10.0.0.4:8301";
  alive.incarnation = 7;
  alive.meta = std::string("\x00\x01role\xffserver", 14);
  out.push_back(alive);
  Message suspect{MessageKind::kSuspect};
  suspect.node = "node-d";
  suspect.incarnation = 7;
  suspect.from = "node-a";
  out.push_back(suspect);
  Message dead = suspect;
  dead.kind = MessageKind::kDead;
  out.push_back(dead);
  return out;
}

Message push_pull(int members) {
  Message pp{MessageKind::kPushPull};
  pp.join = true;
  for (int i = 0; i < members; ++i) {
    pp.states.push_back(MemberSnapshot{"member-" + std::to_string(i), "10.1.0.1:8301",
                                       "dc=us-west-2", static_cast<Incarnation>(i),
                                       static_cast<MemberState>(i % 4)});
  }
  return pp;
}

// A push-pull carrying its sender's recent user events (serf's messagePushPull Events).
Message push_pull_with_events(int events) {
  Message pp = push_pull(2);
  pp.ltime = 40;
  for (int i = 0; i < events; ++i) {
    pp.events.push_back(EventRecord{static_cast<std::uint64_t>(30 + i),
                                    "consul:event:deploy-" + std::to_string(i),
                                    std::string("id\0payload", 10)});
  }
  return pp;
}

// An ack carrying its sender's Vivaldi coordinate (8 dimensions, as Consul's default).
Message ack_with_coordinate() {
  Message ack{MessageKind::kAck, 44};
  ack.coordinate =
      Coordinate{{0.0012, -0.0003, 0.0, 1e-9, -0.25, 3.5e-5, 0.0001, -0.0}, 0.31, -0.00002, 1e-5};
  return ack;
}

TEST(GossipCodec, EveryKindRoundTrips) {
  std::vector<Message> msgs = one_of_each();
  auto back = decode_packet(encode_packet(msgs), Channel::kUdp);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, msgs);
  std::vector<Message> tcp{push_pull(100)};
  auto back2 = decode_packet(encode_packet(tcp), Channel::kTcp);
  ASSERT_TRUE(back2) << back2.error().message;
  EXPECT_EQ(*back2, tcp);
}

TEST(GossipCodec, AckCoordinatesRoundTrip) {
  std::vector<Message> msgs{ack_with_coordinate(), Message{MessageKind::kAck, 45}};
  auto back = decode_packet(encode_packet(msgs), Channel::kUdp);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, msgs);
  EXPECT_TRUE((*back)[0].coordinate.has_value());
  EXPECT_FALSE((*back)[1].coordinate.has_value()) << "absent stays absent";
  // The origin (every value zero) is a coordinate too, not an absent one.
  Message origin{MessageKind::kAck, 46};
  origin.coordinate = Coordinate{std::vector<double>(8, 0.0), 0.0, 0.0, 0.0};
  auto back2 = decode_packet(encode_packet({origin}), Channel::kTcp);
  ASSERT_TRUE(back2) << back2.error().message;
  EXPECT_EQ(*back2, std::vector<Message>{origin});
}

TEST(GossipCodec, TheSizeBoundIsExactForCoordinates) {
  // Zero and negative zero, one to eight dimensions, every scalar present or not.
  for (std::size_t dims = 1; dims <= kCoordinateDimensionalityMax; ++dims) {
    for (double scalar : {0.0, -0.0, 1.5, -1e-300}) {
      Message ack{MessageKind::kAck, 7};
      ack.coordinate = Coordinate{std::vector<double>(dims, scalar), scalar, scalar, scalar};
      if (scalar != 0.0) ack.coordinate->vec[0] = 0.0;
      std::vector<Message> one{ack};
      EXPECT_EQ(encode_packet(one).size(), encoded_size_bound(one))
          << dims << " dimensions, " << scalar;
    }
  }
  Message empty{MessageKind::kAck, 7};
  empty.coordinate = Coordinate{};
  std::vector<Message> one_empty{empty};
  EXPECT_EQ(encode_packet(one_empty).size(), encoded_size_bound(one_empty));
  // An 8-dimension coordinate costs an ack 95 bytes: a packed vector (66), three doubles
  // (27), and its own tag and length.
  EXPECT_EQ(encoded_size_bound(ack_with_coordinate()) -
                encoded_size_bound(Message{MessageKind::kAck, 44}),
            95u);
}

TEST(GossipCodec, BadCoordinatesAreRefused) {
  auto refused = [](const Message& m, const char* what) {
    auto r = decode_packet(encode_packet({m}), Channel::kUdp);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, core::Code::kInvalidArgument) << what;
    EXPECT_NE(r.error().message.find("coordinate"), std::string::npos) << r.error().message;
  };
  Message nine = ack_with_coordinate();
  nine.coordinate->vec.push_back(0.1);
  refused(nine, "nine dimensions");
  Message many = ack_with_coordinate();
  many.coordinate->vec.assign(5000, 0.1);
  refused(many, "5,000 dimensions");
  Message none = ack_with_coordinate();
  none.coordinate->vec.clear();
  refused(none, "no dimensions");
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Message nan = ack_with_coordinate();
  nan.coordinate->vec[3] = kNaN;
  refused(nan, "NaN");
  Message inf = ack_with_coordinate();
  inf.coordinate->error = kInf;
  refused(inf, "infinite error");
  Message negative = ack_with_coordinate();
  negative.coordinate->height = -0.001;
  refused(negative, "negative height");
  Message on_ping = ack_with_coordinate();
  on_ping.kind = MessageKind::kPing;
  refused(on_ping, "a coordinate on a ping");
}

TEST(GossipCodec, TheCoresSizeBoundHoldsForEveryKind) {
  // The core fills datagrams by encoded_size_bound(); real packets must never be larger.
  std::vector<Message> all = one_of_each();
  all.push_back(push_pull(50));
  all.push_back(ack_with_coordinate());
  for (const Message& m : all) {
    std::vector<Message> one{m};
    EXPECT_LE(encode_packet(one).size(), encoded_size_bound(one)) << message_kind_name(m.kind);
  }
  EXPECT_LE(encode_packet(all).size(), encoded_size_bound(all));
  // Today it is exact, so the simulation's byte counts are the real ones.
  EXPECT_EQ(encode_packet(all).size(), encoded_size_bound(all));
  // Worst case: maximal names, address, meta and numbers.
  Message big{MessageKind::kAlive, 0xffffffffu};
  big.node = std::string(kNameSizeMax, 'n');
  big.from = std::string(kNameSizeMax, 'f');
  big.addr = std::string(kAddrSizeMax, 'a');
  big.meta = std::string(kMetaSizeMax, 'm');
  big.incarnation = 0xffffffffu;
  big.nack = big.join = big.reply = true;
  std::vector<Message> one{big};
  EXPECT_LE(encode_packet(one).size(), encoded_size_bound(one));
}

TEST(GossipCodec, MalformedBytesAreErrors) {
  std::string good = encode_packet(one_of_each());
  EXPECT_FALSE(decode_packet("", Channel::kUdp));
  EXPECT_FALSE(decode_packet(std::string(1, '\x01'), Channel::kUdp)) << "no messages";
  std::string wrong_version = good;
  wrong_version[0] = '\x02';
  EXPECT_FALSE(decode_packet(wrong_version, Channel::kUdp));
  for (std::size_t cut = 1; cut < good.size(); ++cut) {
    auto r = decode_packet(std::string_view(good).substr(0, cut), Channel::kUdp);
    if (r) {
      // Protobuf may parse a prefix that ends on a field boundary; it must still be valid.
      for (const Message& m : *r) EXPECT_EQ(validate_message(m, Channel::kUdp), "");
    }
  }
  std::string garbage = "\x01\xff\xff\xff\xff\xff\xff";
  EXPECT_FALSE(decode_packet(garbage, Channel::kUdp));
}

TEST(GossipCodec, InvalidMessagesAreErrors) {
  Message unknown_state = push_pull(1);
  unknown_state.states[0].state = static_cast<MemberState>(9);
  EXPECT_FALSE(decode_packet(encode_packet({unknown_state}), Channel::kTcp));
  EXPECT_FALSE(decode_packet(encode_packet({push_pull(2)}), Channel::kUdp))
      << "push-pull only over TCP";
  Message alive{MessageKind::kAlive};
  alive.addr = "x";
  EXPECT_FALSE(decode_packet(encode_packet({alive}), Channel::kUdp)) << "alive without a name";
  Message unknown_kind{static_cast<MessageKind>(77)};
  auto r = decode_packet(encode_packet({unknown_kind}), Channel::kUdp);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unknown kind 77"), std::string::npos) << r.error().message;
}

TEST(GossipCodec, SizeLimitsPerChannel) {
  std::string huge(kUdpPacketSizeMax + 1, '\x01');
  auto r = decode_packet(huge, Channel::kUdp);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Code::kTooLarge);
  std::vector<Message> too_many(kMessagesPerPacketMax + 1, Message{MessageKind::kAck, 1});
  EXPECT_FALSE(decode_packet(encode_packet(too_many), Channel::kUdp));
}

// GOSSIP_WRITE_CORPUS=<dir> regenerates the fuzzer's seed corpus (first byte: the channel).
TEST(GossipCodec, SeedCorpus) {
  const char* dir = std::getenv("GOSSIP_WRITE_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "set GOSSIP_WRITE_CORPUS=<dir> to write the corpus";
  auto write = [&](const std::string& name, char channel, const std::string& bytes) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << channel << bytes;
  };
  std::vector<Message> all = one_of_each();
  write("all_kinds_udp", '\0', encode_packet(all));
  for (const Message& m : all) {
    write(std::string(message_kind_name(m.kind)), '\0', encode_packet({m}));
  }
  write("push_pull_tcp", '\1', encode_packet({push_pull(5)}));
  write("ack_coordinate", '\0', encode_packet({ack_with_coordinate()}));
  Message nan = ack_with_coordinate();
  nan.coordinate->error = std::numeric_limits<double>::quiet_NaN();
  write("ack_coordinate_nan", '\0', encode_packet({nan}));
  write("push_pull_over_udp", '\0', encode_packet({push_pull(2)}));
  std::string bad_version = encode_packet(all);
  bad_version[0] = '\x07';
  write("bad_version", '\0', bad_version);
  write("truncated", '\0', encode_packet(all).substr(0, 20));
  // serf's user messages.
  Message event;
  event.kind = MessageKind::kUserEvent;
  event.ltime = 7;
  event.topic = "consul:event:deploy";
  event.payload = "payload";
  write("user_event", '\0', encode_packet({event}));
  Message query;
  query.kind = MessageKind::kQuery;
  query.seq = 1234;
  query.ltime = 3;
  query.from = "node-a";
  query.addr = "10.0.0.1:8301";
  query.topic = "_serf_install-key";
  query.payload = "T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s=";
  query.timeout_ms = 3200;
  query.relay_factor = 2;
  write("query", '\0', encode_packet({query}));
  Message response;
  response.kind = MessageKind::kQueryResponse;
  response.seq = 1234;
  response.ltime = 3;
  response.from = "node-b";
  response.addr = "10.0.0.1:8301";
  response.payload = "ok";
  write("query_response_relayed", '\0', encode_packet({response}));
  Message clocks = push_pull(2);
  clocks.ltime = 9;
  clocks.query_ltime = 4;
  write("push_pull_clocks_tcp", '\1', encode_packet({clocks}));
  write("push_pull_events_tcp", '\1', encode_packet({push_pull_with_events(3)}));
}

TEST(GossipCodec, UserMessagesCarryEveryField) {
  Message q;
  q.kind = MessageKind::kQuery;
  q.seq = 0xfeedbeef;
  q.ltime = 1ULL << 40;
  q.from = "node-a";
  q.addr = "10.0.0.1:8301";
  q.topic = "_serf_install-key";
  q.payload = std::string("\0\x01\xff", 3);
  q.timeout_ms = 9600;
  q.relay_factor = 3;
  Message pp;
  pp.kind = MessageKind::kPushPull;
  pp.ltime = 12;
  pp.query_ltime = 99;
  pp.join = true;
  pp.reply = true;
  auto udp = decode_packet(encode_packet({q}), Channel::kUdp);
  ASSERT_TRUE(udp) << udp.error().message;
  EXPECT_EQ((*udp)[0], q);
  auto tcp = decode_packet(encode_packet({pp}), Channel::kTcp);
  ASSERT_TRUE(tcp) << tcp.error().message;
  EXPECT_EQ((*tcp)[0], pp);
  // The size bound the core fills datagrams with stays exact for the new fields.
  EXPECT_EQ(encode_packet({q}).size(), encoded_size_bound(std::vector<Message>{q}));
  EXPECT_EQ(encode_packet({pp}).size(), encoded_size_bound(std::vector<Message>{pp}));
}

TEST(GossipCodec, PushPullEventsRoundTripWithAnExactSize) {
  std::vector<Message> pp{push_pull_with_events(5)};
  auto back = decode_packet(encode_packet(pp), Channel::kTcp);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, pp);
  EXPECT_EQ(encode_packet(pp).size(), encoded_size_bound(pp));
  // Events with a large Lamport time and a maximal payload: two-byte lengths.
  pp[0].events.push_back(EventRecord{1ULL << 62, "n", std::string(kUserEventSizeMax - 1, 'p')});
  EXPECT_EQ(encode_packet(pp).size(), encoded_size_bound(pp));
}

TEST(GossipCodec, PushPullEventsAreChecked) {
  auto refused = [](const Message& m, Channel channel, const std::string& why) {
    auto r = decode_packet(encode_packet({m}), channel);
    ASSERT_FALSE(r) << why;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  };
  Message unnamed = push_pull_with_events(1);
  unnamed.events[0].name.clear();
  refused(unnamed, Channel::kTcp, "push-pull event without a name");
  Message big = push_pull_with_events(1);
  big.events[0].payload = std::string(kUserEventSizeMax, 'x');
  refused(big, Channel::kTcp, "push-pull event too large");
  Message many = push_pull(1);
  many.events.assign(kPushPullEventsMax + 1, EventRecord{1, "e", ""});
  refused(many, Channel::kTcp, "too many events");
  Message on_ack{MessageKind::kAck, 1};
  on_ack.events.push_back(EventRecord{1, "e", ""});
  refused(on_ack, Channel::kUdp, "events on a ack");
  Message full = push_pull(1);
  full.events.assign(kPushPullEventsMax, EventRecord{1, "e", ""});
  EXPECT_TRUE(decode_packet(encode_packet({full}), Channel::kTcp));
}

}  // namespace
}  // namespace pc::gossip
