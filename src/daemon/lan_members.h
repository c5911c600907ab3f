#pragma once
// The LAN pool's members as the rest of the agent sees them: serf's view (alive, left,
// failed; the tags decoded from the meta) for /v1/agent/members, and reconcile's input.
//
// A suspect member is still alive to serf (memberlist reports it alive until its suspicion
// times out); dead is serf's "failed". Meta that is not valid tags (a peer's bytes) is shown
// as no tags rather than refused: the member is there either way. Pure: no I/O.
#include <string>
#include <utility>

#include "core/config.h"
#include "daemon/lan_reconcile.h"
#include "endpoints/context.h"
#include "gossip/core/config.h"
#include "gossip/core/memberlist.h"

namespace pc::daemon {

// serf's MemberStatus numbers, as Consul's API reports them.
inline constexpr int kSerfStatusAlive = 1;
inline constexpr int kSerfStatusLeft = 3;
inline constexpr int kSerfStatusFailed = 4;

// "10.0.0.1:8301" → {"10.0.0.1", 8301}; "[::1]:8301" → {"::1", 8301}; port 0 when absent.
std::pair<std::string, int> split_host_port(const std::string& addr);

endpoints::LanMember lan_member_of(const gossip::MemberInfo& member);

// Reconcile's view; in_raft_configuration is the caller's to fill.
ReconcileMember reconcile_member_of(const gossip::MemberInfo& member);

// The gossip core's configuration for this agent: memberlist's LAN defaults (Consul's) with
// the gossip_lan settings, which the config loader validated. addr is left for the pool.
gossip::Config lan_core_config(const std::string& node_name, const core::GossipLanConfig& timing);

}  // namespace pc::daemon
