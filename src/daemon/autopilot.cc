#include "daemon/autopilot.h"

#include <algorithm>

namespace pc::daemon {

CleanupDecision dead_servers_to_remove(const std::vector<ServerContact>& servers,
                                       std::uint64_t leader, const DeadServerPolicy& policy) {
  CleanupDecision decision;
  if (!policy.cleanup_dead_servers) return decision;
  int voters = 0;
  std::vector<std::uint64_t> failed_voters;
  for (const ServerContact& s : servers) {
    if (s.voter) ++voters;
    if (s.id == leader || s.since_contact < policy.dead_after) continue;
    // A non-voter does not count towards any quorum: losing it costs nothing.
    if (s.voter) {
      failed_voters.push_back(s.id);
    } else {
      decision.remove.push_back(s.id);
    }
  }
  const int failed = static_cast<int>(failed_voters.size());
  if (failed == 0) return decision;
  const std::string counted = std::to_string(failed) + " of " + std::to_string(voters);
  if (voters - failed < static_cast<int>(policy.min_quorum)) {
    decision.refusal = "keeping " + counted + " failed voters: removing them would leave " +
                       std::to_string(voters - failed) + ", below min_quorum " +
                       std::to_string(policy.min_quorum);
    return decision;
  }
  // With n voters a cluster survives the loss of (n - 1) / 2; more failed voters than that
  // means the failure is not of a minority, and the leader (if it still is one) must not
  // shrink the configuration down to the servers it can see.
  if (failed > (voters - 1) / 2) {
    decision.refusal = "keeping " + counted +
                       " failed voters: removing that many is not safe, they are not a minority";
    return decision;
  }
  decision.remove.insert(decision.remove.end(), failed_voters.begin(), failed_voters.end());
  return decision;
}

void ContactTracker::observe(std::uint64_t id, bool recently_active, core::MonoTime now) {
  auto it = last_contact_.try_emplace(id, now).first;
  if (recently_active) it->second = now;
}

core::Duration ContactTracker::since_contact(std::uint64_t id, core::MonoTime now) const {
  auto it = last_contact_.find(id);
  if (it == last_contact_.end()) return core::Duration(0);
  return std::max(core::Duration(0), now - it->second);
}

void ContactTracker::retain_only(const std::vector<std::uint64_t>& ids) {
  std::erase_if(last_contact_, [&](const auto& entry) {
    return std::find(ids.begin(), ids.end(), entry.first) == ids.end();
  });
}

}  // namespace pc::daemon
