#pragma once
// The scaling formulas of memberlist and Lifeguard, and the suspicion timer.
//
// Suspicion (Lifeguard "LHA-Suspicion"): a suspect member is declared dead after a timeout
// that starts at `max` and shrinks, log-scaled, towards `min` as independent members
// confirm the suspicion: with n of the k expected confirmations,
//   timeout(n) = max(min, max - (max - min) * log(n + 1) / log(k + 1)).
// With k < 1 (too few members to expect confirmations) the timeout is `min` at once.
//
// Thread-safety: none (owned by the core).
#include <cstdint>
#include <set>
#include <string>

#include "core/split_mix64.h"

namespace pc::gossip {

// SWIM's suspicion timeout, scaled by the cluster size: mult * max(1, log10(n)) * interval.
std::uint64_t suspicion_timeout_ms(int suspicion_mult, std::size_t members,
                                   std::uint64_t probe_interval_ms);
// How many times a broadcast is piggybacked: mult * ceil(log10(n + 1)).
int retransmit_limit(int retransmit_mult, std::size_t members);
// memberlist's pushPullScale: the interval grows by one step per doubling past 32 members.
std::uint64_t push_pull_interval_scaled_ms(std::uint64_t interval_ms, std::size_t members);
// The time left of a suspicion started `elapsed_ms` ago with n of k confirmations.
std::int64_t remaining_suspicion_ms(int n, int k, std::uint64_t elapsed_ms, std::uint64_t min_ms,
                                    std::uint64_t max_ms);

class Suspicion {
 public:
  // `from` started the suspicion; it does not count as a confirmation.
  Suspicion(std::string from, int k, std::uint64_t min_ms, std::uint64_t max_ms,
            std::uint64_t start_ms);

  // A suspicion from `from`: true when it is a new, independent confirmation (the deadline
  // moved closer); false for a repeat or beyond the k that count.
  bool confirm(const std::string& from);
  std::uint64_t deadline_ms() const { return deadline_ms_; }
  int confirmations() const { return n_; }
  int expected() const { return k_; }

 private:
  int k_;
  int n_ = 0;
  std::uint64_t min_ms_;
  std::uint64_t max_ms_;
  std::uint64_t start_ms_;
  std::uint64_t deadline_ms_;
  std::set<std::string> confirmed_;
};

// Lifeguard's local health multiplier ("LHA-Probe"): a score in [0, max - 1] that grows when
// this member's own probes go unanswered (a sign the fault may be here: a slow or
// overloaded process), and shrinks with each successful probe. Probe intervals and
// timeouts are multiplied by score + 1.
class Awareness {
 public:
  explicit Awareness(int max_multiplier) : max_(max_multiplier) {}
  void apply_delta(int delta) {
    score_ += delta;
    if (score_ < 0) score_ = 0;
    if (score_ > max_ - 1) score_ = max_ - 1;
  }
  int score() const { return score_; }
  std::uint64_t scale(std::uint64_t ms) const {
    return ms * static_cast<std::uint64_t>(score_ + 1);
  }

 private:
  int max_;
  int score_ = 0;
};

// The core's randomness: splitmix64 from Config::seed (no global RNG in a pure target).
using SplitMix64 = core::SplitMix64;

}  // namespace pc::gossip
