#pragma once
// What the agent's membership endpoints (/v1/agent/members?wan, join, leave, force-leave) and
// /v1/catalog/datacenters ask of the agent's gossip pools. An interface here, implemented by
// the daemon (daemon/agent_membership.h), which owns the pools.
//
// Thread-safety: every method may be called from any HTTP thread. join, force_leave and
// leave block while the pools work (a join up to the pool's TCP timeout, a leave up to its
// broadcast timeout), as Consul's handlers do.
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "endpoints/context.h"

namespace pc::endpoints {

class Membership {
 public:
  virtual ~Membership() = default;

  // The WAN pool's members ("<node>.<dc>"); nullopt when this agent runs no WAN pool (a
  // client agent, or a server with ports.serf_wan = -1).
  virtual std::optional<std::vector<LanMember>> wan_members() = 0;
  // Joins the LAN or WAN pool through these gossip addresses ("ip[:port]"): how many
  // answered, or the error when none did (Consul's JoinLAN / JoinWAN).
  virtual core::Result<int> join(const std::vector<std::string>& addresses, bool wan) = 0;
  // Consul's ForceLeave / ForceLeaveWAN: a failed member becomes left; `prune` forgets it.
  // On a server, a LAN force-leave also force-leaves "<node>.<dc>" from the WAN pool.
  virtual core::Status force_leave(const std::string& node, bool prune, bool wan) = 0;
  // Graceful leave of every pool (WAN first, as Consul's server does), then the agent shuts
  // down shortly after (once the caller has answered).
  virtual core::Status leave() = 0;
  // The local datacenter and every datacenter seen in the WAN pool, nearest first.
  virtual std::vector<std::string> datacenters() = 0;
};

}  // namespace pc::endpoints
