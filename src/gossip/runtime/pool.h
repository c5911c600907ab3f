#pragma once
// One gossip pool on the network: a Memberlist (gossip/core) driven by real sockets, a
// monotonic clock and a keyring. Consul runs two per server (LAN on 8301, WAN on 8302) and one
// per client agent (LAN).
//
// What it does with the core's Ready (src/gossip/README.md "The runtime"):
//   - binds UDP and TCP on the same port (port 0: the kernel picks one, start() returns it);
//   - ticks the core at next_deadline_ms(), at least every 10 ms, with steady_clock;
//   - a datagram: keyring → decode_packet(kUdp) → receive(); a UDP packet of the core is one
//     datagram;
//   - a TCP packet of the core opens one connection: one length-prefixed frame out, one back
//     (the push-pull reply or the ping's ack), handed to receive() with Channel::kTcp. Connect
//     and read time out after Options::tcp_timeout (memberlist's TCPTimeout); a TCP ping gives
//     up at its probe's deadline. An inbound connection carries one frame in and, when the
//     core answers it, the answer back (docs/formats/gossip.md "TCP");
//   - bytes the keyring refuses, the codec refuses or the core refuses are counted (stats())
//     and change nothing. A frame the keyring refuses is logged at warn, at most once a minute
//     per sender's IP (a wrong or missing key: memberlist's "failed to decrypt"); the others
//     at debug.
//
// pool.cc is the only Boost.Asio translation unit of gossip; this header carries no Asio.
// Threads: one I/O thread (pc-gossip) owns the Memberlist; the owner's calls are posted to it.
//
// Lifecycle: construct, start() once, then join / members / set_meta / leave from one owning
// thread that is not the I/O thread; stop() once (leave() and the destructor stop too). When
// stop() returns the sockets are closed, the I/O thread is joined and no callback runs again.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "gossip/core/config.h"
#include "gossip/core/memberlist.h"
#include "gossip/core/vivaldi_client.h"
#include "gossip/keyring.h"

namespace pc::gossip {

class Pool {
 public:
  // Runs on the I/O thread, in the order the core produced the events. It must not block and
  // must not call this Pool's blocking methods (join, members, set_meta, leave, stop: asserted).
  // An exception from it is logged and the event is lost.
  using EventCallback = std::function<void(const Event&)>;
  // serf's user events and queries, on the I/O thread like EventCallback (must not block or
  // call the pool's blocking methods). A user event is delivered once per member, ours too.
  using UserEventCallback = std::function<void(const UserEvent&)>;
  // A query (ours too): the answer to send back to its origin, or nullopt for none.
  using QueryCallback = std::function<std::optional<std::string>(const QueryRequest&)>;
  // What a query collected: every response that arrived by its deadline (or until
  // `expected_responses` arrived), one per member. Runs on the I/O thread.
  using QueryDone = std::function<void(core::Result<std::vector<QueryResponse>>)>;

  struct Options {
    // The core's configuration (lan_config, wan_config, local_config). An empty addr is
    // filled in with bind_ip:<bound port>. The seed is replaced by one from the OS: every
    // member must make different random choices.
    Config config;
    std::string bind_ip = "127.0.0.1";       // an IP literal; 0.0.0.0 needs config.addr set
    std::uint16_t port = 8301;               // 0: the kernel picks (tests)
    std::shared_ptr<const Keyring> keyring;  // null: plaintext gossip
    // memberlist's TCPTimeout: 10 s LAN, 30 s WAN (Consul's defaults).
    std::chrono::milliseconds tcp_timeout{std::chrono::seconds(10)};
    // Inbound TCP connections open at once; more are closed at accept.
    std::size_t tcp_connections_max = 128;
    EventCallback on_event;
    UserEventCallback on_user_event;
    QueryCallback on_query;
    // The Vivaldi client fed by direct ping RTTs (serf's defaults); its seed is replaced by
    // one from the OS.
    VivaldiConfig vivaldi;
  };

  struct Stats {
    std::uint64_t udp_packets_received = 0;
    std::uint64_t udp_bytes_received = 0;
    std::uint64_t udp_packets_sent = 0;
    std::uint64_t udp_bytes_sent = 0;
    std::uint64_t udp_send_errors = 0;
    std::uint64_t tcp_messages_received = 0;  // frames read, inbound and replies
    std::uint64_t tcp_bytes_received = 0;
    std::uint64_t tcp_messages_sent = 0;
    std::uint64_t tcp_bytes_sent = 0;
    std::uint64_t tcp_exchange_failures = 0;    // connect, write or read failed or timed out
    std::uint64_t tcp_connections_refused = 0;  // over tcp_connections_max
    // Refused input, by stage: the keyring (wrong key, tampered, plaintext when encryption is
    // verified), the codec (malformed, too large, unknown version), the core (invalid for its
    // kind).
    std::uint64_t refused_decrypt = 0;
    std::uint64_t refused_decode = 0;
    std::uint64_t refused_core = 0;
  };

  // What serf's Stats() reports about a pool (Consul's serf_lan / serf_wan sections of
  // /v1/agent/self). serf's member clock has no counterpart here: incarnations order the
  // membership news (src/gossip/README.md "The runtime").
  struct SerfStats {
    std::size_t members = 0;  // every member in the table, failed and left ones included
    std::size_t failed = 0;
    std::size_t left = 0;
    int health_score = 0;    // Lifeguard's awareness: 0 is healthy
    bool encrypted = false;  // the keyring holds keys
    LamportTime event_time = 0;
    LamportTime query_time = 0;
    std::size_t intent_queue = 0;  // queued membership broadcasts (alive, suspect, dead)
    std::size_t event_queue = 0;   // queued user events
    std::size_t query_queue = 0;   // queued queries
    std::uint64_t coordinate_resets = 0;
  };

  explicit Pool(Options options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Binds, creates the core (alone, alive) and starts the I/O thread. Returns the bound port,
  // or kInvalidArgument / kIoError ("gossip: listen 127.0.0.1:8301: bind: Address in use").
  core::Result<std::uint16_t> start();

  // A push-pull to each address ("ip:port"); blocks until each answered or failed (at most
  // tcp_timeout) and returns how many answered, as memberlist's Join does.
  std::size_t join(const std::vector<std::string>& addrs);
  // The same, also counting the members that refused us: they read our push-pull and closed
  // the connection without answering, or answered with a frame our keyring cannot open.
  // That is what a gossip key mismatch looks like from the joining side (a member that
  // cannot decode our frame closes the same way), so callers can say so in their error.
  struct JoinOutcome {
    std::size_t answered = 0;
    std::size_t refused = 0;
  };
  JoinOutcome join_outcome(const std::vector<std::string>& addrs);

  // Graceful leave: broadcasts our departure, keeps gossiping until the broadcast went out or
  // `timeout` passed (kTimeout), then stops. Alone in the pool, it stops at once.
  core::Status leave(std::chrono::milliseconds timeout);

  // Stops at once (no leave): others will find this member failed. Idempotent.
  void stop();

  // A snapshot of the member table, ourselves included; empty when not running.
  std::vector<MemberInfo> members() const;
  // The core's force_leave (a failed member becomes left everywhere; `prune` forgets it
  // here): the member's state afterwards, or kNotFound / kInvalidArgument / kUnavailable.
  core::Result<MemberState> force_leave(const std::string& name, bool prune);
  // Our new meta (serf tags), broadcast with a new incarnation.
  core::Status set_meta(std::string meta);

  // serf's UserEvent: broadcast to every member (delivered here too); returns its Lamport
  // time. kTooLarge past 512 bytes of name and payload; kUnavailable when not running.
  core::Result<LamportTime> fire_event(std::string name, std::string payload);
  // serf's Query, asynchronous: `done` runs once on the I/O thread when the timeout (0:
  // serf's default for the pool's size) passes or `expected_responses` (0: no early end)
  // arrived. relay_factor: each response also travels through that many members (0-5).
  // Errors (name, size, relay factor) go to `done` too; when not running, at once on the
  // caller's thread.
  void query_async(std::string name, std::string payload, std::chrono::milliseconds timeout,
                   std::uint32_t relay_factor, std::size_t expected_responses, QueryDone done);
  // The same, waiting for the result (from the owner's thread, not the I/O thread).
  core::Result<std::vector<QueryResponse>> query(std::string name, std::string payload,
                                                 std::chrono::milliseconds timeout,
                                                 std::uint32_t relay_factor = 0,
                                                 std::size_t expected_responses = 0);
  // Members alive or suspect, ourselves included (memberlist's NumMembers); 0 when stopped.
  std::size_t live_count() const;
  // serf's default query timeout for the pool's size now (0 when stopped).
  std::chrono::milliseconds default_query_timeout() const;
  // Our Vivaldi coordinate (the origin until the first ack sample), and the last coordinate
  // each member's direct acks carried (serf's coordinate cache; members that left are
  // dropped). Any thread; they do not wait for the I/O thread.
  Coordinate coordinate() const;
  std::map<std::string, Coordinate> member_coordinates() const;

  // The address others reach us at ("ip:port"), the bound port: valid after start().
  const std::string& address() const;
  std::uint16_t port() const;
  const std::string& name() const;
  Stats stats() const;
  // The core's counters (probes, suspicions ...); zeros when not running.
  gossip::Stats core_stats() const;
  // serf's statistics of this pool; nullopt when not running. Waits for the I/O thread.
  std::optional<SerfStats> serf_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::gossip
