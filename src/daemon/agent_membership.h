#pragma once
// The daemon's endpoints::Membership: the agent's LAN pool (every agent) and WAN pool
// (servers) behind /v1/agent/join, /v1/agent/force-leave, /v1/agent/leave,
// /v1/agent/members?wan and /v1/catalog/datacenters.
//
// Leave: leave() only records the request and, shortly after (so that the HTTP answer gets
// out first), sends the agent SIGTERM; the agent's shutdown, which stops HTTP and the
// reconciler before the pools, then leaves the WAN pool and the LAN pool gracefully instead of
// just stopping them (leave_requested()). So no pool is left while a request or the
// reconciler still reads it.
//
// Lifetime: the pools outlive this object's users (HTTP); it owns neither.
#include <atomic>
#include <string>

#include "daemon/lan_gossip.h"
#include "daemon/wan_gossip.h"
#include "endpoints/membership.h"

namespace pc::daemon {

class AgentMembership final : public endpoints::Membership {
 public:
  // `lan` or `wan` may be null (no pool); `datacenter` is the agent's.
  AgentMembership(LanGossip* lan, WanGossip* wan, std::string datacenter);

  std::optional<std::vector<endpoints::LanMember>> wan_members() override;
  core::Result<int> join(const std::vector<std::string>& addresses, bool wan) override;
  core::Status force_leave(const std::string& node, bool prune, bool wan) override;
  core::Status leave() override;
  std::vector<std::string> datacenters() override;

  // True once /v1/agent/leave asked for a graceful leave of every pool.
  bool leave_requested() const { return leave_requested_.load(); }

 private:
  LanGossip* lan_;
  WanGossip* wan_;
  std::string datacenter_;
  std::atomic<bool> leave_requested_{false};
};

}  // namespace pc::daemon
