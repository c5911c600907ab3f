#include "consensus/core/progress.h"

#include <algorithm>
#include <functional>

#include "core/assert.h"

namespace pc::consensus::raft {

void Inflights::add(std::uint64_t last_index) {
  PC_ASSERT(!full(), "inflights full ({})", capacity_);
  // Invariant: in-flight messages end at strictly increasing indexes.
  PC_ASSERT(in_flight_.empty() || in_flight_.back() < last_index, "inflight {} after {}",
            last_index, in_flight_.back());
  in_flight_.push_back(last_index);
}

void Inflights::free_le(std::uint64_t index) {
  while (!in_flight_.empty() && in_flight_.front() <= index) in_flight_.pop_front();
}

std::string_view progress_state_name(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe: return "probe";
    case ProgressState::kReplicate: return "replicate";
    case ProgressState::kSnapshot: return "snapshot";
  }
  return "unknown";
}

void Progress::reset_state(ProgressState s) {
  probe_sent = false;
  pending_snapshot = 0;
  state = s;
  inflights.reset();
}

void Progress::become_probe() {
  if (state == ProgressState::kSnapshot) {
    // The snapshot may have been applied: resume after it rather than below it.
    std::uint64_t pending = pending_snapshot;
    reset_state(ProgressState::kProbe);
    next = std::max(match + 1, pending + 1);
  } else {
    reset_state(ProgressState::kProbe);
    next = match + 1;
  }
  check_invariants();
}

void Progress::become_replicate() {
  reset_state(ProgressState::kReplicate);
  next = match + 1;
}

void Progress::become_snapshot(std::uint64_t snapshot_index) {
  reset_state(ProgressState::kSnapshot);
  pending_snapshot = snapshot_index;
}

bool Progress::maybe_update(std::uint64_t index) {
  bool updated = false;
  if (match < index) {
    match = index;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, index + 1);
  check_invariants();
  return updated;
}

bool Progress::maybe_decr_to(std::uint64_t rejected, std::uint64_t match_hint) {
  if (state == ProgressState::kReplicate) {
    // A rejection at or below match answers an old message: the logs do match there.
    if (rejected <= match) return false;
    // Pipelining overshot: go back to just after what is known to match.
    next = match + 1;
    return true;
  }
  // In Probe only the answer to the outstanding probe (next - 1) counts.
  if (next - 1 != rejected) return false;
  next = std::max(std::min(rejected, match_hint + 1), match + 1);
  probe_sent = false;
  check_invariants();
  return true;
}

void Progress::sent_entries(std::size_t count, std::uint64_t last_index) {
  switch (state) {
    case ProgressState::kReplicate:
      if (count > 0) {
        // Optimistic: assume it arrives, so the next message can go out without waiting.
        next = last_index + 1;
        inflights.add(last_index);
      }
      break;
    case ProgressState::kProbe: probe_sent = true; break;
    case ProgressState::kSnapshot:
      PC_UNREACHABLE("sending entries to a follower in snapshot state");
  }
  check_invariants();
}

bool Progress::is_paused() const {
  switch (state) {
    case ProgressState::kProbe: return probe_sent;
    case ProgressState::kReplicate: return inflights.full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

void Progress::check_invariants() const {
  // Invariant: 0 <= match < next.
  PC_ASSERT(match < next, "progress match {} >= next {}", match, next);
}

void ProgressTracker::set_conf(const ConfState& conf, std::uint64_t next_index) {
  PC_ASSERT(conf.voters_outgoing.empty(), "joint consensus is not supported");
  std::map<NodeId, Progress> next;
  auto carry = [&](NodeId id, bool learner) {
    auto it = progress_.find(id);
    Progress pr = it != progress_.end() ? it->second : Progress(inflight_capacity_);
    if (it == progress_.end()) {
      pr.next = std::max<std::uint64_t>(next_index, 1);
      // A new node counts as active until the first CheckQuorum after it joined, so adding a
      // node does not make the leader step down before that node was ever contacted.
      pr.recent_active = true;
    }
    pr.is_learner = learner;
    next.emplace(id, std::move(pr));
  };
  for (NodeId id : conf.voters) carry(id, false);
  for (NodeId id : conf.learners) {
    PC_ASSERT(std::find(conf.voters.begin(), conf.voters.end(), id) == conf.voters.end(),
              "node {} both voter and learner", id);
    carry(id, true);
  }
  progress_ = std::move(next);
  conf_ = conf;
}

bool ProgressTracker::is_voter(NodeId id) const {
  return std::find(conf_.voters.begin(), conf_.voters.end(), id) != conf_.voters.end();
}

Progress* ProgressTracker::get(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

const Progress* ProgressTracker::get(NodeId id) const {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

std::uint64_t ProgressTracker::committed() const {
  if (conf_.voters.empty()) return 0;
  std::vector<std::uint64_t> matches;
  matches.reserve(conf_.voters.size());
  for (NodeId id : conf_.voters) matches.push_back(progress_.at(id).match);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  // The quorum-th highest match is held by at least a quorum of voters.
  return matches[quorum() - 1];
}

bool ProgressTracker::quorum_active(NodeId self) const {
  std::size_t active = 0;
  for (NodeId id : conf_.voters) {
    if (id == self || progress_.at(id).recent_active) ++active;
  }
  return active >= quorum();
}

bool ProgressTracker::has_quorum(const std::vector<NodeId>& acks) const {
  std::size_t count = 0;
  for (NodeId id : conf_.voters) {
    if (std::find(acks.begin(), acks.end(), id) != acks.end()) ++count;
  }
  return count >= quorum();
}

void ProgressTracker::record_vote(NodeId id, bool granted) {
  // The first answer counts: a duplicated or reordered response cannot flip a vote.
  votes_.emplace(id, granted);
}

VoteResult ProgressTracker::tally(std::size_t* granted, std::size_t* rejected) const {
  std::size_t yes = 0;
  std::size_t no = 0;
  for (NodeId id : conf_.voters) {
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    (it->second ? yes : no)++;
  }
  if (granted) *granted = yes;
  if (rejected) *rejected = no;
  if (yes >= quorum()) return VoteResult::kWon;
  // Lost once the rest could not make a quorum even if they all said yes.
  if (conf_.voters.size() - no < quorum()) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace pc::consensus::raft
