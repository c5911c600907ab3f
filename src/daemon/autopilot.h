#pragma once
// Autopilot's dead-server cleanup, the pure part: which servers the leader should remove from
// the Raft configuration, given how long it has gone without hearing from each of them.
// ServerRuntime runs it on the leader (server_runtime.cc); nothing here does I/O or reads a
// clock, so the rules are tested on their own (tests/autopilot_test.cc).
//
// "Failed" stands in for gossip until gossip exists: a server is failed once the leader has
// had no contact with it for kDeadServerAfter without a break. Consul marks a server failed
// when serf's failure detector gives up on it (a few seconds in a small pool of servers) and
// autopilot removes it on its next pass (every 10 s), so a dead server there leaves the
// configuration some 5 to 16 seconds after it died. kDeadServerAfter sits at the top of
// that range: long enough that a restart (a few seconds) or a leader election never costs a
// server its seat, short enough that the cluster soon stops counting a dead server towards
// its quorum. A removed server that comes back asks to be added again (ServerRuntime), as a
// server rejoining serf is added again in Consul, so removal is never permanent by mistake.
//
// Safety (Consul's rules): the leader never removes itself; failed non-voters are always
// removed; failed voters are removed only all together and only when they are a minority
// that can be lost, i.e. at most (voters - 1) / 2 of them, and only when at least min_quorum
// voters remain. Otherwise nothing is removed and the refusal says why.
//
// Thread-safety: none needed for the functions; a ContactTracker belongs to one thread.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"

namespace pc::daemon {

// How long the leader must go without contact from a server before autopilot calls it
// failed (see above for why 15 s).
inline constexpr core::Duration kDeadServerAfter = std::chrono::seconds(15);
// How often the leader's autopilot pass runs (Consul updates its server health every 2 s).
inline constexpr core::Duration kAutopilotInterval = std::chrono::seconds(2);

// The settings dead-server cleanup reads (the agent's autopilot block).
struct DeadServerPolicy {
  bool cleanup_dead_servers = true;
  unsigned min_quorum = 0;  // 0: no minimum beyond the majority rule
  core::Duration dead_after = kDeadServerAfter;
};

// One server of the configuration as the leader sees it.
struct ServerContact {
  std::uint64_t id = 0;
  std::string address;
  bool voter = true;
  core::Duration since_contact{0};  // time since the leader last heard from it
};

struct CleanupDecision {
  // The servers to remove (by Raft id): failed non-voters first, then failed voters.
  std::vector<std::uint64_t> remove;
  // Why failed voters are kept, or "" when none are: what the leader logs.
  std::string refusal;
};

// Which servers to remove. `leader` is this server's own Raft id and is never removed.
CleanupDecision dead_servers_to_remove(const std::vector<ServerContact>& servers,
                                       std::uint64_t leader, const DeadServerPolicy& policy);

// When the leader last heard from each server, from periodic samples of Raft's "recently
// active" flag (true when the server answered within the last election timeout). A server
// first seen counts as heard from at that moment, so a new leader, which knows nothing of
// the time before it led, gives every server a full kDeadServerAfter.
class ContactTracker {
 public:
  void observe(std::uint64_t id, bool recently_active, core::MonoTime now);
  // Time since the last contact; 0 for a server never observed.
  core::Duration since_contact(std::uint64_t id, core::MonoTime now) const;
  // Forgets servers that left the configuration, so one that returns starts afresh.
  void retain_only(const std::vector<std::uint64_t>& ids);
  void clear() { last_contact_.clear(); }

 private:
  std::map<std::uint64_t, core::MonoTime> last_contact_;
};

}  // namespace pc::daemon
