#pragma once
// serf's building blocks for user events and queries: the Lamport clocks that order them and
// the ring of recent Lamport times that de-duplicates them (serf's eventBuffer and
// queryBuffer). Memberlist (memberlist_user.cc) owns one clock and one buffer per kind.
//
// Thread-safety: none (owned by the core).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pc::gossip {

using LamportTime = std::uint64_t;

// serf's LamportClock: time() is the next time to stamp with; witness() moves past a time
// seen from a peer.
class LamportClock {
 public:
  LamportTime time() const { return time_; }
  LamportTime increment() { return ++time_; }
  // Past `seen`: a peer's time never makes ours go back. A time at the very end of the range
  // (only a hostile peer sends one) is ignored rather than wrapped to zero.
  void witness(LamportTime seen) {
    if (seen >= time_ && seen < UINT64_MAX - 1) time_ = seen + 1;
  }

 private:
  LamportTime time_ = 0;
};

// The last `size` Lamport times, each with the ids seen at that time (an event's name and
// payload, a query's id). serf's rule: a time more than `size` behind the clock is too old
// to tell (it may have been seen and forgotten), so it is dropped rather than delivered twice.
class RecentBuffer {
 public:
  enum class Seen : std::uint8_t { kNew, kDuplicate, kTooOld };
  explicit RecentBuffer(std::size_t size);
  // Records (ltime, id) given the clock's current time; kNew only the first time.
  Seen record(LamportTime ltime, const std::string& id, LamportTime clock_now);

  struct Entry {
    LamportTime ltime = 0;
    const std::string* id = nullptr;  // valid until the next record()
  };
  // Every (time, id) still inside the window at clock_now, oldest time first: what a
  // push-pull hands on (serf sends its eventBuffer).
  std::vector<Entry> recent(LamportTime clock_now) const;

 private:
  struct Slot {
    LamportTime ltime = 0;
    bool used = false;
    std::vector<std::string> ids;  // at most kUserMessagesPerLtimeMax
  };
  bool too_old(LamportTime ltime, LamportTime clock_now) const {
    return clock_now > slots_.size() && ltime < clock_now - slots_.size();
  }
  std::vector<Slot> slots_;
};

}  // namespace pc::gossip
