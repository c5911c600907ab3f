#pragma once
// On the Raft leader, keeps the catalog in line with the LAN pool (Consul's leader loop:
// reconcile and reconcileMember): every member's node gets its serfHealth check, passing
// while alive and critical once failed, and a member that left is deregistered. The
// decisions are daemon/lan_reconcile.h's pure function; this class reads its inputs (the
// pool's members, the leader's catalog) and writes the commands through the log, as
// register_self does.
//
// When: at once after a member event (trigger(), from the pool's I/O thread), when this
// server becomes the leader (a new leader catches up on what happened before), every
// `interval` (Consul: 60 s) and again shortly after a pass whose write failed. Only the
// leader writes; elsewhere a pass is skipped. A pass writes only what differs, so running
// more often than needed costs catalog reads, not log entries.
//
// Servers' own rows: register_self still registers each server's node with the "consul"
// service once at start (passing, which is true then); from then on their serfHealth is this
// class's, like every other member's.
//
// Threads: one (pc-lan-reconcile). trigger() from any thread, including the pool's I/O
// thread (never blocks). start() and stop() from the owner; stop() before the pool stops.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "daemon/lan_gossip.h"
#include "daemon/lan_reconcile.h"
#include "endpoints/context.h"

namespace pc::daemon {

struct LanReconcilerOptions {
  std::function<bool()> is_leader;
  // Whether a server with this node ID is in the leader's Raft configuration (such a server
  // is not deregistered when it leaves the pool).
  std::function<bool(const std::string& node_id)> in_raft_configuration;
  std::chrono::milliseconds interval{std::chrono::seconds(60)};
  // How often leadership is looked at, and the delay before retrying a failed pass.
  std::chrono::milliseconds poll{std::chrono::milliseconds(500)};
};

class LanReconciler {
 public:
  LanReconciler(endpoints::Context& ctx, const LanGossip& gossip, LanReconcilerOptions options);
  ~LanReconciler();
  LanReconciler(const LanReconciler&) = delete;
  LanReconciler& operator=(const LanReconciler&) = delete;

  void start();
  void trigger();
  void stop();

 private:
  void run();
  // One full reconcile; false when a write failed (the pass is then retried).
  bool pass();
  // The catalog's serfHealth nodes that are no members: candidates for reaping.
  void add_serf_nodes(const state::Snapshot& snap, ReconcileInput& input);
  // Remembers the pool's member names (on every server, leader or not), so a node the pool
  // forgets can be told from one it never knew.
  void note_members();
  // The pool forgets a member without an event (serf would emit a reap event): a member
  // count smaller than at the last look (every `poll`) makes the next look a pass.
  bool pool_shrank();

  endpoints::Context& ctx_;
  const LanGossip& gossip_;
  LanReconcilerOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool dirty_ = false;
  std::thread thread_;
  // Reconcile thread only: names the pool has had as members, pruned once a name is neither
  // a member nor a serfHealth node; and when this reconciler started (the pool settles
  // reconnect_timeout after).
  std::set<std::string> seen_;
  std::chrono::steady_clock::time_point started_{};
  std::size_t last_member_count_ = 0;
};

class ServerRuntime;
// Raft membership as a server sees it: from its ServerRuntime, or, for -dev (server null),
// itself the only server. `is_leader` is the daemon's one leadership test (LeaderDuties).
LanReconcilerOptions reconciler_options(ServerRuntime* server, std::string self_node_id,
                                        std::function<bool()> is_leader);

}  // namespace pc::daemon
