// Vivaldi end to end through the wire: gossip cores whose packets go through the codec,
// acks carrying each member's coordinate, the prober's ack samples fed to its Vivaldi
// client with an RTT from a truth matrix, and the new coordinate handed back to the core,
// the loop the runtime will run. Packets arrive at once; only the RTTs are made up.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "gossip/codec.h"
#include "gossip/core/memberlist.h"
#include "gossip/core/vivaldi_client.h"

namespace pc::gossip {
namespace {

struct Member {
  Memberlist core;
  VivaldiClient vivaldi;
};

TEST(VivaldiWire, CoordinatesRideOnAcksAndConverge) {
  constexpr int kMembers = 5;
  constexpr double kSpacingS = 0.010;  // a line, 10 ms between neighbours
  auto name = [](int i) { return "node-" + std::to_string(i); };
  auto index = [](const std::string& n) { return std::stoi(n.substr(5)); };
  auto truth_s = [&](int i, int j) { return std::abs(i - j) * kSpacingS; };

  std::vector<Member> members;
  for (int i = 0; i < kMembers; ++i) {
    Config config = lan_config(name(i), name(i));
    config.seed = static_cast<std::uint64_t>(i) + 1;
    VivaldiConfig vivaldi;
    vivaldi.seed = static_cast<std::uint64_t>(i) + 100;
    members.push_back(Member{Memberlist(config, 0), VivaldiClient(vivaldi)});
  }
  for (Member& m : members) {
    for (int j = 0; j < kMembers; ++j) {
      if (name(j) == m.core.name()) continue;
      Message alive{MessageKind::kAlive};
      alive.node = alive.addr = name(j);
      alive.incarnation = 1;
      ASSERT_TRUE(m.core.receive(name(j), Channel::kUdp, {alive}, 0));
    }
    ASSERT_TRUE(m.core.set_coordinate(m.vivaldi.coordinate()));
    (void)m.core.take_ready();
  }

  struct InFlight {
    int from;
    Packet packet;
  };
  std::uint64_t acks_with_coordinates = 0;
  std::uint64_t samples = 0;
  for (std::uint64_t t = 0; t <= 300'000; t += 10) {
    std::deque<InFlight> network;
    auto collect = [&](int i) {
      Ready rd = members[static_cast<std::size_t>(i)].core.take_ready();
      for (Packet& p : rd.packets) network.push_back(InFlight{i, std::move(p)});
      Member& m = members[static_cast<std::size_t>(i)];
      for (const AckSample& s : rd.ack_samples) {
        auto updated = m.vivaldi.update(s.node, s.coordinate, truth_s(i, index(s.node)));
        ASSERT_TRUE(updated) << updated.error().message;
        ASSERT_TRUE(m.core.set_coordinate(*updated));
        ++samples;
      }
    };
    for (int i = 0; i < kMembers; ++i) {
      members[static_cast<std::size_t>(i)].core.tick(t);
      collect(i);
    }
    for (int delivered = 0; !network.empty(); ++delivered) {
      ASSERT_LT(delivered, 10'000) << "packets keep begetting packets";
      InFlight f = std::move(network.front());
      network.pop_front();
      auto decoded = decode_packet(encode_packet(f.packet.messages), f.packet.channel);
      ASSERT_TRUE(decoded) << decoded.error().message;
      for (const Message& m : *decoded) {
        if (m.kind == MessageKind::kAck && m.coordinate) ++acks_with_coordinates;
      }
      int to = index(f.packet.to);
      ASSERT_TRUE(members[static_cast<std::size_t>(to)].core.receive(name(f.from), f.packet.channel,
                                                                     *decoded, t));
      collect(to);
    }
  }

  // 300 probe rounds: every member probed the others about 75 times each.
  EXPECT_GE(samples, 5u * 290);
  EXPECT_EQ(acks_with_coordinates, samples) << "every direct ack carried a coordinate";
  double sum = 0;
  double max = 0;
  int pairs = 0;
  for (int i = 0; i < kMembers; ++i) {
    for (int j = i + 1; j < kMembers; ++j) {
      const Coordinate& theirs = members[static_cast<std::size_t>(j)].vivaldi.coordinate();
      double estimate = members[static_cast<std::size_t>(i)].vivaldi.distance_s(theirs);
      double error = std::abs(estimate - truth_s(i, j)) / truth_s(i, j);
      sum += error;
      max = std::max(max, error);
      ++pairs;
    }
  }
  std::printf("vivaldi over gossip: %llu samples, relative error avg=%.6f max=%.6f\n",
              static_cast<unsigned long long>(samples), sum / pairs, max);
  EXPECT_LE(sum / pairs, 0.01);
  EXPECT_LE(max, 0.05);
  for (const Member& m : members) EXPECT_EQ(m.core.stats().probe_failures, 0u);
}

}  // namespace
}  // namespace pc::gossip
