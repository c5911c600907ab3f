#pragma once
// What only the Raft leader does, and how the other servers reach it: session TTL timers run
// on the leader alone (endpoints::SessionTimers; a follower's timer would never see renewals
// sent elsewhere), and so does the KV tombstone GC (endpoints::TombstoneGc, as Consul's leader
// enables its own), so every second this checks whether this server leads, hands that to the
// timers and the GC and, on the leader, arms sessions created through other servers; and session
// renewals that arrive at a follower are run by the leader, over server RPC (the client
// agents' kRpcClientHttp, which the leader's ClientService answers).
//
// Lifecycle: start() once after the log runs; the timers' TimerThread stops it (its stop()
// joins and drops the pending check). Thread-safe.
#include <string>

#include "consensus/log.h"
#include "core/timer_thread.h"
#include "daemon/dns_service.h"
#include "endpoints/session_timers.h"
#include "endpoints/tombstone_gc.h"
#include "http/routes.h"
#include "rpc/transport.h"

namespace pc::daemon {

class LeaderDuties {
 public:
  // `own_address`: this server's rpc "ip:port", as the log names its leader.
  LeaderDuties(const consensus::Log& log, std::string own_address,
               endpoints::SessionTimers& sessions, endpoints::TombstoneGc& tombstones,
               core::TimerThread& timers);

  void start();
  bool leading() const;

  // For http::register_routes: runs a request on the leader through `client` unless this
  // server leads. A request a follower already forwarded is not forwarded again.
  http::LeaderForwarder forwarder(rpc::RpcClient& client);
  // For DnsService::set_leader_forwarding: asks the leader through `client` (dns_call.h, so a
  // leader that predates DNS options is asked again without them) and returns true, or
  // returns false when this server leads or no leader is known (the caller answers itself).
  DnsService::LeaderForwarding dns_forwarder(rpc::RpcClient& client);

 private:
  void check();

  const consensus::Log& log_;
  const std::string own_address_;
  endpoints::SessionTimers& sessions_;
  endpoints::TombstoneGc& tombstones_;
  core::TimerThread& timers_;
};

}  // namespace pc::daemon
