#pragma once
// Deterministic simulation of a gossip cluster (tigerbeetle VOPR style, like the Raft
// simulation in consensus/core/tests): N Memberlist cores on a simulated network with
// per-datagram loss, latency jitter and partitions, all driven from one seed, so a run
// replays exactly from it.
//
// The network: a UDP datagram is lost with the configured probability and arrives after a
// latency drawn uniformly from [latency_min_ms, latency_max_ms]; a TCP message is never
// lost (TCP retransmits) but takes twice as long (the handshake); across a partition or to
// a stopped member both are dropped (a TCP connection fails). Time advances in steps of
// step_ms; each step delivers what is due, then ticks every running member.
//
// Invariants checked on every state change every member makes (Ready::transitions):
//   - incarnations only grow;
//   - a member never goes back from dead or left to alive without a higher incarnation;
//   - a member's own incarnation only grows, and it is alive to itself until it leaves.
// The first violation is kept; check() returns it with the seed to reproduce.
//
// Thread-safety: none; one Simulation per thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "gossip/core/memberlist.h"

namespace pc::gossip::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  int members = 100;
  int udp_loss_permille = 0;
  std::uint64_t latency_min_ms = 1;
  std::uint64_t latency_max_ms = 10;
  std::uint64_t step_ms = 10;
  // Every member's meta (serf tags): Consul's LAN tags (role, dc, id, vsn, build, port ...)
  // take about this much.
  std::size_t meta_bytes = 160;
  // The profile every member runs (its name, address and seed are filled in per member).
  Config base = lan_config("", "");
};

struct SimStats {
  std::uint64_t udp_sent = 0;
  std::uint64_t udp_dropped = 0;
  std::uint64_t tcp_sent = 0;
  std::uint64_t tcp_dropped = 0;
  std::uint64_t bytes_sent = 0;  // encoded sizes of every packet (before encryption)
  std::uint64_t tcp_bytes_sent = 0;
  // A member declared dead (a fail event, or a transition to suspect) by another member
  // while it was running and reachable: a false positive.
  std::uint64_t false_failures = 0;
  std::uint64_t false_suspicions = 0;
  std::uint64_t fail_events = 0;
  std::uint64_t join_events = 0;
};

// The invariant checks on one transition: empty when it is allowed, else what is wrong.
// `observer` is the member that made the change (its own member must stay alive).
std::string check_transition(const std::string& observer, const Transition& t, bool left);

class Simulation {
 public:
  explicit Simulation(SimOptions options);
  ~Simulation();

  // Starts member 0 alone; every other member i joins member 0 at i * 5 ms (the way
  // agents retry_join a server), then runs until every member sees every other alive or
  // limit_ms passes. Returns the time that took, or an error.
  core::Result<std::uint64_t> bootstrap(std::uint64_t limit_ms);
  void run_for(std::uint64_t ms);
  // Runs until done() holds (checked every check_every_ms) or limit_ms passes; returns the
  // time it took, or nullopt on the limit.
  std::optional<std::uint64_t> run_until(const std::function<bool()>& done, std::uint64_t limit_ms,
                                         std::uint64_t check_every_ms = 100);

  // Faults.
  void stop(int i);  // a crash: the member neither sends nor receives any more
  bool running(int i) const;
  void leave(int i);  // a graceful leave (the member keeps running until stop())
  void set_udp_loss(int permille) { options_.udp_loss_permille = permille; }
  void partition(const std::vector<int>& group_of_member);
  void heal();
  // Drops every packet for which `drop(from, to, channel)` holds (a one-way or per-channel
  // fault, such as a firewall that blocks UDP); nullptr clears it.
  void set_link_filter(std::function<bool(int, int, Channel)> drop) { filter_ = std::move(drop); }
  // Sees every member's Ready before its packets go out (user events, queries, responses);
  // it may call the member (respond to a query): what that makes goes out on the next step.
  void set_on_ready(std::function<void(int, const Ready&)> hook) { on_ready_ = std::move(hook); }
  // Hands member `to` a packet as if from `from_addr` (tests inject rumours with it).
  core::Status inject(int to, const std::string& from_addr, Channel channel,
                      const std::vector<Message>& messages);

  // Views.
  int size() const { return static_cast<int>(nodes_.size()); }
  Memberlist& member(int i);
  // Member i's name (node-0042.dc1.internal-like) and address (10.x.y.z:8301-like): sizes
  // close to a real cluster's, so the byte counts mean something.
  static std::string name_of(int i);
  static std::string addr_of(int i);
  const std::string& name(int i) const { return names_[static_cast<std::size_t>(i)]; }
  const std::string& addr(int i) const { return addrs_[static_cast<std::size_t>(i)]; }
  // Every running member other than `subject` sees it in `state`.
  bool all_see(int subject, MemberState state) const;
  // Every running member sees every running member alive and every stopped one dead or
  // left.
  bool converged() const;
  std::uint64_t now_ms() const { return now_ms_; }
  const SimStats& stats() const { return stats_; }
  // A digest of everything that happened (packets, events, transitions): equal seeds give
  // equal digests.
  std::uint64_t digest() const { return digest_; }
  // The first invariant violation, with the seed.
  core::Status check() const;
  // Members that reached their own-health (awareness) score above zero at the end.
  int degraded_members() const;

 private:
  struct Node;
  struct InFlight {
    std::uint64_t deliver_at = 0;
    std::uint64_t order = 0;
    int from = 0;
    int to = 0;
    Channel channel = Channel::kUdp;
    std::vector<Message> messages;
  };
  struct Later {  // a min-heap on (deliver_at, order)
    bool operator()(const InFlight& a, const InFlight& b) const {
      if (a.deliver_at != b.deliver_at) return a.deliver_at > b.deliver_at;
      return a.order > b.order;
    }
  };

  void step();
  void drain(int i);
  void route(int from, Packet packet);
  bool connected(int a, int b) const;
  void mix(std::uint64_t v);
  void mix(const std::string& s);
  void fail(const std::string& what);

  SimOptions options_;
  SplitMix64 rng_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<std::string, int> index_of_addr_;
  std::unordered_map<std::string, int> index_of_name_;
  std::vector<InFlight> network_;  // a heap with Later
  std::vector<std::string> names_;
  std::vector<std::string> addrs_;
  std::function<bool(int, int, Channel)> filter_;
  std::function<void(int, const Ready&)> on_ready_;
  std::vector<int> group_;  // partition group per member; empty: connected
  std::uint64_t now_ms_ = 0;
  std::uint64_t order_ = 0;
  std::uint64_t digest_ = 1469598103934665603ULL;
  SimStats stats_;
  std::string violation_;
};

}  // namespace pc::gossip::sim
