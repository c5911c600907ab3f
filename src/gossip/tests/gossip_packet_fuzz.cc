// Gossip packets from the network: decode must never crash, over either channel; what it
// accepts must re-encode to bytes that decode to the same messages, and feeding it to a
// core (which knows a few members) must not trip any of the core's invariants either, nor
// may an ack's coordinate, fed to a Vivaldi client, leave the client's coordinate
// non-finite, nor may the core's own push-pull afterwards (which hands on the members and
// user events it accepted) be refused by a peer. The first input byte picks the channel, the rest
// is the packet.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "gossip/codec.h"
#include "gossip/core/memberlist.h"
#include "gossip/core/vivaldi_client.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pc::gossip;
  if (size == 0) return 0;
  auto channel = (data[0] & 1) != 0 ? Channel::kTcp : Channel::kUdp;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto decoded = decode_packet(bytes, channel);
  if (!decoded) return 0;
  auto again = decode_packet(encode_packet(*decoded), channel);
  PC_ASSERT(again && *again == *decoded, "a decoded gossip packet does not round-trip");

  Config config = lan_config("node-a", "10.0.0.1:8301");
  Memberlist core(config, 0);
  for (const char* peer : {"node-b", "node-c", "node-d"}) {
    Message alive{MessageKind::kAlive};
    alive.node = peer;
    alive.addr = peer;
    alive.incarnation = 3;
    PC_ASSERT(core.receive(peer, Channel::kUdp, {alive}, 0), "a well-formed alive refused");
  }
  // The packet twice (duplicates are normal on UDP), with time passing around it.
  for (std::uint64_t t : {100, 2'000}) {
    core.tick(t);
    (void)core.receive("node-b", channel, *decoded, t);
  }
  core.tick(120'000);
  (void)core.take_ready();
  // What the core hands on in its own push-pull (the members and events it accepted) must
  // be something every peer's decoder accepts.
  core.join({"node-c"}, 120'001);
  for (const Packet& p : core.take_ready().packets) {
    PC_ASSERT(decode_packet(encode_packet(p.messages), p.channel),
              "the core sent a packet its peers would refuse");
  }

  // Whatever coordinate decodes may reach a Vivaldi client: at most a refusal (wrong
  // dimensionality) or a reset, never a non-finite coordinate. The seq gives an RTT.
  VivaldiClient vivaldi(VivaldiConfig{});
  for (const Message& m : *decoded) {
    if (!m.coordinate) continue;
    double rtt_s = static_cast<double>(m.seq % 20'000) / 1'000.0;  // 0 to 20 s
    (void)vivaldi.update(m.node, *m.coordinate, rtt_s);
    (void)vivaldi.update("peer", *m.coordinate, 0.001);
    PC_ASSERT(vivaldi.coordinate().finite(), "a decoded coordinate broke the Vivaldi client");
  }
  return 0;
}
