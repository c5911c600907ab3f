#pragma once
// Configuration of the pure gossip core (SWIM with Lifeguard, in memberlist's shape) and the
// limits every queue, packet and table of it obeys (shared/STYLE.md rule 5). Times are in
// milliseconds of the owner's monotonic clock; the core never reads a clock itself.
//
// The profiles carry memberlist's defaults (DefaultLANConfig, DefaultWANConfig,
// DefaultLocalConfig), which are also Consul's: Consul hands serf a memberlist LAN config for
// port 8301 and a WAN config for port 8302.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace pc::gossip {

// Limits. Names and addresses are short in practice (Consul node names are DNS labels); the
// limits keep one hostile packet from making the core hold megabytes.
inline constexpr std::size_t kNameSizeMax = 256;
inline constexpr std::size_t kAddrSizeMax = 256;
// memberlist's MetaMaxSize: the node meta (serf tags) of one member.
inline constexpr std::size_t kMetaSizeMax = 512;
// memberlist's UDPBufferSize: a datagram we build never exceeds it (safe under a 1500 MTU).
inline constexpr std::size_t kUdpPacketSizeDefault = 1400;
// A datagram we accept: the largest UDP payload.
inline constexpr std::size_t kUdpPacketSizeMax = 65507;
// memberlist's compound messages count in one byte; we keep the same bound per packet.
inline constexpr std::size_t kMessagesPerPacketMax = 255;
// Members in one push-pull (full state) message, and in the member table.
inline constexpr std::size_t kMembersMax = 65536;
// memberlist's maxPushStateBytes (20 MiB): the largest TCP message, a push-pull.
inline constexpr std::size_t kTcpMessageSizeMax = 20 * 1024 * 1024;
// Broadcasts waiting to be piggybacked; one per member at most (newer ones replace older
// ones about the same member), so the bound is the member table's.
inline constexpr std::size_t kBroadcastQueueMax = kMembersMax;
// Indirect probes we relay for others at once; more are refused (dropped) until some finish.
inline constexpr std::size_t kRelaysMax = 1024;
static_assert(kNameSizeMax + kAddrSizeMax + kMetaSizeMax + 64 < kUdpPacketSizeDefault,
              "an alive message for a member of maximal size must fit a datagram");

// serf's user events and queries (serf's defaults: UserEventSizeLimit 512, QuerySizeLimit
// and QueryResponseSizeLimit 1024, EventBuffer and QueryBuffer 512, QueryTimeoutMult 16).
// The event's name and payload together.
inline constexpr std::size_t kUserEventSizeMax = 512;
inline constexpr std::size_t kQueryPayloadSizeMax = 1024;
inline constexpr std::size_t kQueryResponseSizeMax = 1024;
// Recent Lamport times remembered for de-duplication, for events and for queries.
inline constexpr std::size_t kEventBufferSize = 512;
inline constexpr std::size_t kQueryBufferSize = 512;
// Events and queries remembered per Lamport time (serf keeps them all; a hostile member could
// then grow one slot without bound).
inline constexpr std::size_t kUserMessagesPerLtimeMax = 64;
inline constexpr int kQueryTimeoutMult = 16;
// Recent events one push-pull carries (serf sends its whole event buffer so a member that
// missed a broadcast still gets the event). The buffer could hold 512 x 64; the newest this
// many go, which keeps a push-pull's events under ~0.6 MB.
inline constexpr std::size_t kPushPullEventsMax = 1024;
static_assert(kPushPullEventsMax * (kUserEventSizeMax + 32) < kTcpMessageSizeMax / 16,
              "a push-pull's events must leave room for its members");
// A query's timeout on the wire is bounded (serf has no bound; ten minutes is far beyond any
// cluster's default).
inline constexpr std::uint32_t kQueryTimeoutMaxMs = 10 * 60 * 1000;
// Members a response is relayed through (Consul's -relay-factor allows up to 5).
inline constexpr std::uint32_t kQueryRelayFactorMax = 5;
// Queries this member started and still collects responses for.
inline constexpr std::size_t kPendingQueriesMax = 1024;
// Responses one query collects: one per member.
inline constexpr std::size_t kQueryResponsesMax = kMembersMax;
// A query must also fit one datagram whole (Memberlist::query checks its encoded size).

struct Config {
  // This member: its unique name and the address others reach it at (opaque to the core;
  // the runtime maps it to host:port for UDP and TCP).
  std::string name;
  std::string addr;
  std::string meta;  // opaque bytes (serf tags), at most kMetaSizeMax

  // Randomness: everything random in the core comes from this seed (probe order, indirect
  // peers, gossip targets, timer staggers). The runtime seeds it from the OS.
  std::uint64_t seed = 1;

  // Failure detection (SWIM + Lifeguard).
  std::uint64_t probe_interval_ms = 1000;
  std::uint64_t probe_timeout_ms = 500;
  int indirect_checks = 3;
  // A TCP ping to the target alongside the indirect probes (memberlist's fallback): helps a
  // member whose UDP is lossy or blocked from being marked dead.
  bool tcp_ping_fallback = true;
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;
  // Lifeguard local health: timeouts scale by (score + 1), score in [0, max - 1].
  int awareness_max_multiplier = 8;

  // Dissemination.
  int retransmit_mult = 4;
  std::uint64_t gossip_interval_ms = 200;
  int gossip_nodes = 3;
  // Dead members still get gossip for this long, so a falsely accused one can refute.
  std::uint64_t gossip_to_the_dead_ms = 30'000;
  std::size_t udp_packet_size = kUdpPacketSizeDefault;

  // Anti-entropy: a full state exchange with one random member over TCP, scaled up with the
  // cluster size past 32 members (memberlist's pushPullScale).
  std::uint64_t push_pull_interval_ms = 30'000;

  // serf's reconnect loop (Consul always runs it): every interval, with probability
  // failed/alive, a push-pull join to one random failed member, so partitions heal after
  // gossip to the dead has stopped. 0 turns it off (plain memberlist). Failed members are
  // forgotten after reconnect_timeout_ms, members that left after tombstone_timeout_ms.
  std::uint64_t reconnect_interval_ms = 30'000;
  std::uint64_t reconnect_timeout_ms = 72ULL * 3600 * 1000;
  std::uint64_t tombstone_timeout_ms = 24ULL * 3600 * 1000;

  // Ready::transitions gets every state change of every member (for the simulation's
  // invariant checks and for metrics); off by default: it allocates per change.
  bool record_transitions = false;
};

// kInvalidArgument when a Config cannot work (empty name, a probe timeout longer than the
// interval ...). The runtime checks user configuration with it; the core asserts it.
core::Status validate(const Config& config);

// memberlist's DefaultLANConfig (Consul's LAN pool on port 8301).
Config lan_config(std::string name, std::string addr);
// memberlist's DefaultWANConfig (Consul's WAN pool of servers on port 8302).
Config wan_config(std::string name, std::string addr);
// memberlist's DefaultLocalConfig (loopback; the fast profile for tests).
Config local_config(std::string name, std::string addr);

}  // namespace pc::gossip
