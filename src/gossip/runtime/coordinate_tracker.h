#pragma once
// The runtime's half of Vivaldi (serf keeps the same state beside memberlist): the send time
// of each direct UDP ping, the VivaldiClient those pings' acks move, and the last coordinate
// each member sent us (serf's coordinate cache).
//
// Threads: ping_sent, on_ack and forget run on the pool's I/O thread; coordinate() and
// member_coordinates() may be called from any thread (one mutex, held for a copy).
// Invariant: at most kPingsTrackedMax sends are remembered; an older one whose ack never came
// is dropped first.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "gossip/core/coordinate.h"
#include "gossip/core/memberlist.h"
#include "gossip/core/vivaldi_client.h"

namespace pc::gossip {

class CoordinateTracker {
 public:
  // Probes are one per probe interval; this is far above what can be in flight.
  static constexpr std::size_t kPingsTrackedMax = 1024;

  explicit CoordinateTracker(const VivaldiConfig& config) : client_(config) {}

  // A direct UDP ping with `seq` left at `sent_us` (a monotonic clock, microseconds).
  void ping_sent(SeqNo seq, std::int64_t sent_us);
  // An ack sample from the core, received at `received_us`: the RTT since its ping was sent
  // updates the client (a sample whose send we did not see, or that the client refuses,
  // changes nothing). Returns the new coordinate for Memberlist::set_coordinate when the
  // client moved.
  std::optional<Coordinate> on_ack(const AckSample& sample, std::int64_t received_us);
  // A member left or was reaped: its latency samples and cached coordinate go.
  void forget(const std::string& node);

  Coordinate coordinate() const;
  std::map<std::string, Coordinate> member_coordinates() const;
  VivaldiStats stats() const;

 private:
  std::map<SeqNo, std::int64_t> pings_sent_us_;  // I/O thread only
  mutable std::mutex mu_;                        // guards the two below
  VivaldiClient client_;
  std::map<std::string, Coordinate> members_;
};

}  // namespace pc::gossip
