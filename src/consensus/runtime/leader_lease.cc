#include "consensus/runtime/leader_lease.h"

#include <algorithm>
#include <functional>

namespace pc::consensus {

LeaderLease::Clock::duration LeaderLease::duration_for(std::chrono::milliseconds tick,
                                                       int election_tick) {
  if (election_tick < 2) return Clock::duration::zero();
  // Computed in the clock's own unit so that a short test tick keeps its precision.
  const Clock::duration window =
      std::chrono::duration_cast<Clock::duration>(tick) * (election_tick - 1);
  return window * kLeaseSafetyPercent / 100;
}

void LeaderLease::sent(std::uint64_t stamp, TimePoint at) {
  sent_.emplace(stamp, at);  // keeps the first send of a stamp
  // A send older than one lease can no longer make the lease hold at or after `at`.
  while (!sent_.empty() && (sent_.size() > kStampsMax || sent_.begin()->second + duration_ <= at)) {
    sent_.erase(sent_.begin());
  }
}

void LeaderLease::acked(raft::NodeId peer, std::uint64_t stamp) {
  auto it = sent_.find(stamp);
  if (it == sent_.end()) return;
  auto [slot, inserted] = acked_.emplace(peer, it->second);
  if (!inserted) slot->second = std::max(slot->second, it->second);
}

void LeaderLease::reset() {
  sent_.clear();
  acked_.clear();
  revoked_ = false;
}

LeaderLease::TimePoint LeaderLease::expiry(const std::vector<raft::NodeId>& voters,
                                           raft::NodeId self, TimePoint now) const {
  if (revoked_ || voters.empty() || duration_ <= Clock::duration::zero()) {
    return TimePoint::min();
  }
  const std::size_t quorum = voters.size() / 2 + 1;
  const bool self_votes = std::find(voters.begin(), voters.end(), self) != voters.end();
  if (self_votes && quorum == 1) return TimePoint::max();
  std::vector<TimePoint> since;
  since.reserve(voters.size());
  for (raft::NodeId id : voters) {
    if (id == self) {
      since.push_back(now);
      continue;
    }
    auto it = acked_.find(id);
    since.push_back(it == acked_.end() ? TimePoint::min() : it->second);
  }
  // The quorum-th newest acknowledgement: every voter of some quorum heard from us at or
  // after it, and each refuses votes for the followers' window after that.
  std::nth_element(since.begin(), since.begin() + static_cast<std::ptrdiff_t>(quorum - 1),
                   since.end(), std::greater<>());
  const TimePoint quorum_since = since[quorum - 1];
  if (quorum_since == TimePoint::min()) return TimePoint::min();
  return quorum_since + duration_;
}

}  // namespace pc::consensus
