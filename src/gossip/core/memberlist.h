#pragma once
// The gossip core: SWIM membership with Lifeguard's refinements, in the shape of
// hashicorp/memberlist, as a deterministic state machine. The owner (the runtime; the tests
// and the simulation here) feeds it time (`tick`) and packets (`receive`), and carries out
// what `take_ready()` hands back: packets to send over UDP or TCP, and member events.
// No I/O, clock, threads or global randomness: time is the `now_ms` the owner passes
// (monotonic, never going back), randomness comes from Config::seed.
//
// Thread-safety: none. One owner (the runtime's gossip strand) makes every call.
//
// Invariants (always-on PC_ASSERT; bytes from peers are validated and never asserted on):
//   - a member's incarnation never decreases in our table;
//   - a dead or left member becomes alive again only with a higher incarnation;
//   - our own member is alive until we leave, and its incarnation only grows;
//   - live_count() is the number of alive and suspect members, ourselves included.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "gossip/core/broadcast_queue.h"
#include "gossip/core/config.h"
#include "gossip/core/message.h"
#include "gossip/core/suspicion.h"
#include "gossip/core/user_messages.h"

namespace pc::gossip {

struct MemberInfo {
  std::string name;
  std::string addr;
  std::string meta;
  Incarnation incarnation = 0;
  MemberState state = MemberState::kAlive;
  std::uint64_t state_change_ms = 0;
};

// Member events for the owner (serf builds its member events on these, as it does on
// memberlist's EventDelegate).
enum class EventKind : std::uint8_t {
  kJoin = 0,    // a new member, or one that was dead or left, is alive
  kUpdate = 1,  // an alive member's meta or address changed
  kLeave = 2,   // a member left gracefully
  kFail = 3,    // a member was declared dead
};
std::string_view event_kind_name(EventKind kind);

struct Event {
  EventKind kind = EventKind::kJoin;
  MemberInfo member;
};

// One change of a member's state or incarnation in this core's table (only with
// Config::record_transitions).
struct Transition {
  std::string name;
  bool is_new = false;  // first sight: `from_*` are meaningless
  MemberState from_state = MemberState::kAlive;
  Incarnation from_incarnation = 0;
  MemberState to_state = MemberState::kAlive;
  Incarnation to_incarnation = 0;
  std::uint64_t at_ms = 0;
};

// A direct ack to our probe that carried the target's Vivaldi coordinate (memberlist's
// NotifyPingComplete). The core's clock is too coarse for an RTT (LAN RTTs are well under a
// millisecond), so the runtime measures it: from when it sent the UDP ping with this `seq`
// to when it received the packet this sample came from; then it updates its
// VivaldiClient and hands the new coordinate back with set_coordinate().
struct AckSample {
  std::string node;
  SeqNo seq = 0;
  Coordinate coordinate;
};

// serf's user events and queries (memberlist_user.cc; src/gossip/README.md "Events and
// queries").
using QueryId = std::uint32_t;

// A user event, delivered once to every member (the one that fired it included).
struct UserEvent {
  LamportTime ltime = 0;
  std::string name;
  std::string payload;
};

// A query to answer (the owner calls respond() with it, or ignores it); our own queries
// come here too, as serf's do.
struct QueryRequest {
  QueryId id = 0;
  LamportTime ltime = 0;
  std::string name;
  std::string payload;
  std::string origin;       // the origin's member name
  std::string origin_addr;  // where responses go
  std::uint32_t relay_factor = 0;
  std::uint64_t deadline_ms = 0;  // responses after this are not sent (serf's deadline)
};

// One member's answer to a query this member started.
struct QueryResponse {
  QueryId id = 0;
  std::string from;
  std::string payload;
};

struct QueryStarted {
  QueryId id = 0;
  LamportTime ltime = 0;
  std::uint64_t deadline_ms = 0;  // the query is done then (Ready::queries_done)
};

struct Ready {
  std::vector<Packet> packets;
  std::vector<Event> events;
  std::vector<Transition> transitions;
  std::vector<AckSample> ack_samples;  // at most one per probe
  std::vector<UserEvent> user_events;
  std::vector<QueryRequest> queries;
  std::vector<QueryResponse> query_responses;  // at most one per member per query
  std::vector<QueryId> queries_done;           // past their deadline: no more responses
  // Members this core forgot (serf's reap after the reconnect or tombstone timeout, and a
  // pruning force_leave), which no event reports: the owner drops what it keeps about them
  // (the Vivaldi samples and cached coordinate).
  std::vector<std::string> forgotten;
};

struct Stats {
  std::uint64_t probes = 0;
  std::uint64_t probe_failures = 0;   // no ack by the deadline: the target is suspected
  std::uint64_t indirect_probes = 0;  // indirect pings sent (k per failed direct ping)
  std::uint64_t tcp_pings = 0;        // TCP fallback pings handed to the runtime
  std::uint64_t nacks_received = 0;
  std::uint64_t nacks_sent = 0;
  std::uint64_t relays_refused = 0;   // indirect pings beyond kRelaysMax
  std::uint64_t suspicions = 0;       // members we started suspecting
  std::uint64_t deaths_declared = 0;  // suspicions that timed out here
  std::uint64_t refutations = 0;
  std::uint64_t rejected_messages = 0;  // malformed, or a ping for another member
  std::uint64_t address_conflicts = 0;  // alive about a live member from another address
  std::uint64_t push_pulls = 0;         // push-pulls started (periodic, join, reconnect)
  std::uint64_t reconnects = 0;
  std::uint64_t udp_packets_sent = 0;
  std::uint64_t udp_bytes_sent = 0;  // encoded_size_bound of what was sent
  std::uint64_t tcp_messages_sent = 0;
  std::uint64_t tcp_bytes_sent = 0;
  std::uint64_t user_events_delivered = 0;
  std::uint64_t user_events_from_push_pull = 0;  // of those: first heard of in a push-pull
  std::uint64_t queries_delivered = 0;
  std::uint64_t query_responses_received = 0;
  std::uint64_t user_messages_duplicate = 0;  // events and queries seen before
  std::uint64_t user_messages_old = 0;        // too old to tell, or from before our join
  std::uint64_t query_responses_relayed = 0;
};

class Memberlist {
 public:
  // Starts a cluster of one (ourselves, alive at incarnation 1); join() to meet others.
  Memberlist(Config config, std::uint64_t now_ms);

  // A push-pull (join) to each address: their members become ours and ours theirs.
  void join(const std::vector<std::string>& addrs, std::uint64_t now_ms);
  // Runs every timer due by now_ms: probes, suspicion timeouts, gossip, push-pull,
  // reconnect, relays. Call it at least every few tens of milliseconds (or at
  // next_deadline_ms()).
  void tick(std::uint64_t now_ms);
  // One packet from the network. A malformed message rejects the whole packet
  // (kInvalidArgument; nothing of it is applied).
  core::Status receive(const std::string& from_addr, Channel channel,
                       const std::vector<Message>& messages, std::uint64_t now_ms);
  // Graceful leave: broadcasts our departure (others mark us left, not dead). The owner
  // keeps ticking until leave_broadcast_done() (or a timeout), then stops.
  void leave(std::uint64_t now_ms);
  bool leave_broadcast_done() const;
  // serf's force-leave (RemoveFailedNode): a member we hold dead becomes left, and we
  // broadcast its leave (a dead message from itself, as its own graceful leave would be) so
  // every member turns it left and serf's reconnect loop stops trying it. A member we hold
  // alive or suspect is left as it is: serf marks it leaving only for the member itself to
  // refute it at once, so the outcome is the same. `prune` (serf's RemoveFailedNodePrune)
  // then forgets the member here instead of keeping its tombstone for
  // tombstone_timeout_ms; others keep theirs. Returns the member's state afterwards
  // (kLeft, or kAlive / kSuspect untouched); kNotFound for an unknown name, kInvalidArgument
  // for ourselves (leave() is our way out).
  core::Result<MemberState> force_leave(const std::string& name, bool prune, std::uint64_t now_ms);
  // New meta (serf tags) for ourselves: a new incarnation, broadcast as alive.
  core::Status set_meta(std::string meta, std::uint64_t now_ms);
  // Our Vivaldi coordinate, carried by every UDP ack we send from now on (none: acks carry
  // none). Refused (kInvalidArgument) unless it would pass the codec's check.
  core::Status set_coordinate(std::optional<Coordinate> coordinate);

  // serf's user events and queries (memberlist_user.cc). An event: stamped with the event
  // clock, delivered here and broadcast; kTooLarge past kUserEventSizeMax (name and payload),
  // kInvalidArgument for an empty name, kUnavailable after leave().
  core::Result<LamportTime> fire_event(std::string name, std::string payload, std::uint64_t now_ms);
  // A query: stamped with the query clock, delivered here and broadcast; responses come in
  // Ready::query_responses until the deadline (timeout_ms, 0: default_query_timeout_ms()),
  // then its id in Ready::queries_done. relay_factor: each responder also sends its
  // response through that many random members (serf's RelayFactor, at most 5).
  core::Result<QueryStarted> query(std::string name, std::string payload, std::uint64_t timeout_ms,
                                   std::uint32_t relay_factor, std::uint64_t now_ms);
  // Answers a query from Ready::queries: straight to its origin over UDP (and through the
  // relays). kTimeout past its deadline, kTooLarge past kQueryResponseSizeMax.
  core::Status respond(const QueryRequest& query, std::string payload, std::uint64_t now_ms);
  // serf's DefaultQueryTimeout: GossipInterval x QueryTimeoutMult x ceil(log10(N + 1)).
  std::uint64_t default_query_timeout_ms() const;
  LamportTime event_time() const { return event_clock_.time(); }
  LamportTime query_time() const { return query_clock_.time(); }

  bool has_ready() const;
  Ready take_ready();
  // The earliest time tick() has something to do.
  std::uint64_t next_deadline_ms() const;

  const std::string& name() const { return config_.name; }
  const Config& config() const { return config_; }
  std::optional<MemberInfo> member(const std::string& name) const;
  // The same without a copy; null when unknown. Valid until the next call on the core.
  const MemberInfo* find_member(const std::string& name) const;
  std::vector<MemberInfo> members() const;
  std::size_t live_count() const { return live_; }
  std::size_t member_count() const { return members_.size(); }
  Incarnation incarnation() const;
  int health_score() const { return awareness_.score(); }
  // Broadcasts waiting to be piggybacked (memberlist's NumQueued): a metric, and the
  // simulation's sign that the news of a mass join has settled.
  std::size_t queued_broadcasts() const { return broadcasts_.size(); }
  // Of those, the ones of one kind (the agent's serf stats: intent, event and query queues).
  std::size_t queued_broadcasts(MessageKind kind) const { return broadcasts_.count(kind); }
  // Members in this state, ourselves included (serf's failed and left lists for the stats).
  std::size_t count_in_state(MemberState state) const;
  const Stats& stats() const { return stats_; }
  // The suspicion timer of a suspect member: (confirmations, expected, deadline).
  struct SuspicionInfo {
    int confirmations = 0;
    int expected = 0;
    std::uint64_t deadline_ms = 0;
  };
  std::optional<SuspicionInfo> suspicion(const std::string& name) const;

 private:
  struct Member {
    MemberInfo info;
    std::optional<Suspicion> suspicion;
  };
  struct Probe {
    SeqNo seq = 0;
    std::string target;
    Incarnation incarnation = 0;    // the target's when the probe started
    std::uint64_t timeout_ms = 0;   // no ack by then: indirect probes and the TCP ping
    std::uint64_t deadline_ms = 0;  // no ack by then: the probe failed
    bool indirect_sent = false;
    int expected_nacks = 0;
    int nacks = 0;
  };
  struct Relay {
    std::string requester_addr;
    SeqNo requester_seq = 0;
    bool nack = false;
    std::uint64_t nack_ms = 0;     // no ack by then: nack the requester
    std::uint64_t expires_ms = 0;  // no ack by then: forget it
  };

  void advance_clock(std::uint64_t now_ms);
  Member& self();
  const Member& self() const;
  // Probing.
  void tick_probe();
  void start_probe();
  bool next_probe_target(std::string& target);
  void reset_probe_order();
  void send_indirect_probes();
  void finish_probe(bool acked);
  // State changes (memberlist's aliveNode / suspectNode / deadNode / refute).
  void on_alive(const Message& a, bool bootstrap);
  void on_suspect(Incarnation inc, const std::string& node, const std::string& from);
  void on_dead(Incarnation inc, const std::string& node, const std::string& from);
  void refute(Incarnation accused);
  void forget(const std::string& name);
  void set_state(Member& m, MemberState state, Incarnation inc, bool is_new);
  void emit_event(EventKind kind, const Member& m);
  void broadcast(Message m);
  // Periodic work.
  void tick_suspicions();
  void tick_relays();
  void gossip();
  void push_pull_random();
  void reconnect();
  std::vector<MemberSnapshot> local_state() const;
  void merge_state(const std::vector<MemberSnapshot>& states);
  void on_message(const std::string& from_addr, Channel channel, const Message& m);
  void on_ping(const std::string& from_addr, Channel channel, const Message& m);
  void on_indirect_ping(const std::string& from_addr, const Message& m);
  void on_ack(const Message& m);
  // serf's user messages (memberlist_user.cc).
  void on_user_event(const Message& m);
  void on_query(const Message& m);
  void on_query_response(const Message& m);
  void on_push_pull_clocks(const Message& m);
  // serf's push-pull state: both clocks and the recent events (newest kPushPullEventsMax).
  void stamp_serf_state(Message& push_pull) const;
  // A push-pull's events, each handled as a received event but not re-broadcast (serf's
  // MergeRemoteState): after on_push_pull_clocks, so a join's ignore-old rule applies.
  void merge_events(const Message& push_pull);
  // Records and delivers a new event; false when seen before, too old or predating our join.
  bool accept_user_event(LamportTime ltime, const std::string& name, const std::string& payload);
  void tick_queries();
  void broadcast_user(Message m);
  // Sending.
  void send_udp(const std::string& to, std::vector<Message> messages, bool piggyback = true);
  void send_tcp(const std::string& to, std::vector<Message> messages);
  std::vector<std::string> random_members(std::size_t k, int filter_kind,
                                          const std::string& exclude);
  int retransmit_limit_now() const;

  Config config_;
  std::uint64_t now_ms_;
  SplitMix64 rng_;
  Awareness awareness_;
  BroadcastQueue broadcasts_;
  std::unordered_map<std::string, Member> members_;
  // memberlist's node list: the probe order, reshuffled after every round; new members go
  // in at a random place.
  std::vector<std::string> probe_order_;
  std::size_t probe_index_ = 0;
  std::set<std::string> suspects_;  // members with a suspicion timer
  // No suspicion is due before this (a lower bound: confirmations only move deadlines
  // closer), so a tick does not scan hundreds of suspects when a partition made them.
  std::uint64_t suspicion_check_ms_ = UINT64_MAX;
  std::size_t live_ = 0;
  bool left_ = false;
  std::optional<Coordinate> coordinate_;  // sent with our acks

  std::optional<Probe> probe_;
  std::uint64_t next_probe_ms_ = 0;
  std::uint64_t next_gossip_ms_ = 0;
  std::uint64_t next_push_pull_ms_ = 0;
  std::uint64_t next_reconnect_ms_ = 0;
  SeqNo next_seq_ = 1;
  std::map<SeqNo, Relay> relays_;

  // serf's user messages.
  struct PendingQuery {
    LamportTime ltime = 0;
    std::uint64_t deadline_ms = 0;
    std::set<std::string> responders;
  };
  LamportClock event_clock_;
  LamportClock query_clock_;
  LamportTime event_min_time_ = 0;  // events before this predate our join: not delivered
  RecentBuffer events_seen_{kEventBufferSize};
  RecentBuffer queries_seen_{kQueryBufferSize};
  std::map<QueryId, PendingQuery> pending_queries_;
  std::uint64_t next_user_broadcast_ = 0;
  // Push-pull replies to join() still expected: the first ones set event_min_time_ (serf's
  // Join with ignoreOld, as Consul joins).
  std::size_t join_replies_pending_ = 0;

  Ready ready_;
  Stats stats_;
};

}  // namespace pc::gossip
