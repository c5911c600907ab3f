#include "gossip/runtime/coordinate_tracker.h"

namespace pc::gossip {

void CoordinateTracker::ping_sent(SeqNo seq, std::int64_t sent_us) {
  if (pings_sent_us_.size() >= kPingsTrackedMax) {
    // Sequence numbers grow (and wrap after 2^32 probes): the smallest is the oldest but
    // right after a wrap, where it is the newest; dropping it then costs one sample.
    pings_sent_us_.erase(pings_sent_us_.begin());
  }
  pings_sent_us_[seq] = sent_us;
}

std::optional<Coordinate> CoordinateTracker::on_ack(const AckSample& sample,
                                                    std::int64_t received_us) {
  auto it = pings_sent_us_.find(sample.seq);
  if (it == pings_sent_us_.end()) return std::nullopt;
  const double rtt_s = static_cast<double>(received_us - it->second) / 1e6;
  pings_sent_us_.erase(it);
  std::lock_guard lock(mu_);
  auto updated = client_.update(sample.node, sample.coordinate, rtt_s);
  if (!updated) return std::nullopt;
  members_[sample.node] = sample.coordinate;
  return *updated;
}

void CoordinateTracker::forget(const std::string& node) {
  std::lock_guard lock(mu_);
  client_.forget_node(node);
  members_.erase(node);
}

Coordinate CoordinateTracker::coordinate() const {
  std::lock_guard lock(mu_);
  return client_.coordinate();
}

std::map<std::string, Coordinate> CoordinateTracker::member_coordinates() const {
  std::lock_guard lock(mu_);
  return members_;
}

VivaldiStats CoordinateTracker::stats() const {
  std::lock_guard lock(mu_);
  return client_.stats();
}

}  // namespace pc::gossip
