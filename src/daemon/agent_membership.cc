#include "daemon/agent_membership.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/log.h"
#include "daemon/gossip_pool.h"
#include "daemon/wan_members.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "agent";
// Time for the answer to /v1/agent/leave to be written before the shutdown stops HTTP.
constexpr auto kLeaveReplyGrace = std::chrono::milliseconds(300);
constexpr int kSerfLanPortDefault = 8301;

core::Error no_node(const std::string& node) {
  return core::make_error(core::Code::kNotFound, "agent: No node found with name '" + node + "'");
}

std::string fmt_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

AgentMembership::AgentMembership(LanGossip* lan, WanGossip* wan, std::string datacenter)
    : lan_(lan), wan_(wan), datacenter_(std::move(datacenter)) {}

std::optional<std::vector<endpoints::LanMember>> AgentMembership::wan_members() {
  if (wan_ == nullptr) return std::nullopt;
  return wan_->wan_members();
}

core::Result<int> AgentMembership::join(const std::vector<std::string>& addresses, bool wan) {
  if (wan && wan_ == nullptr) {
    return core::make_error(core::Code::kInvalidArgument, "Must be a server to join WAN cluster");
  }
  if (!wan && lan_ == nullptr) {
    return core::make_error(core::Code::kUnavailable, "this agent runs no LAN gossip pool");
  }
  core::log::info(kModule, "({}) joining: {}", wan ? "WAN" : "LAN", fmt_list(addresses));
  gossip::Pool::JoinOutcome outcome;
  if (wan) {
    outcome = wan_->join(addresses);
  } else {
    std::vector<std::string> targets;
    for (const std::string& a : addresses) {
      for (std::string& t : lan_join_addresses(a)) targets.push_back(std::move(t));
    }
    outcome = lan_->join(targets);
  }
  const std::size_t answered = outcome.answered;
  if (answered == 0) {
    return core::make_error(core::Code::kUnavailable,
                            "Failed to join any of " + fmt_list(addresses) +
                                ": no member answered at those addresses" +
                                key_mismatch_hint(outcome.refused));
  }
  core::log::info(kModule, "({}) joined: number_of_nodes={}", wan ? "WAN" : "LAN", answered);
  return static_cast<int>(answered);
}

core::Status AgentMembership::force_leave(const std::string& node, bool prune, bool wan) {
  core::log::info(kModule, "{}force leaving node: {}", wan ? "(WAN) " : "", node);
  if (wan) {
    if (wan_ == nullptr) {
      return core::make_error(core::Code::kInvalidArgument,
                              "Must be a server to force-leave a node from the WAN cluster");
    }
    auto state = wan_->force_leave(node, prune);
    if (!state && state.error().code == core::Code::kNotFound) return no_node(node);
    return state ? core::ok() : core::Status(state.error());
  }
  if (lan_ == nullptr) return no_node(node);
  auto state = lan_->force_leave(node, prune);
  if (!state) {
    return state.error().code == core::Code::kNotFound ? no_node(node)
                                                       : core::Status(state.error());
  }
  // A server leaves the WAN pool too under its "<node>.<dc>" name (Consul's
  // Server.RemoveFailedNode); not being there is no error.
  if (wan_ != nullptr) (void)wan_->force_leave(wan_name_for(node, datacenter_), prune);
  return core::ok();
}

core::Status AgentMembership::leave() {
  if (leave_requested_.exchange(true)) return core::ok();
  core::log::info(kModule, "graceful leave requested through the HTTP API");
  std::thread([] {
    std::this_thread::sleep_for(kLeaveReplyGrace);
    // Every thread blocks SIGTERM; the agent's main thread takes it with sigwait.
    ::kill(::getpid(), SIGTERM);
  }).detach();
  return core::ok();
}

std::vector<std::string> AgentMembership::datacenters() {
  if (wan_ == nullptr) return {datacenter_};
  // By the median estimated RTT to each datacenter's servers (Consul's router); those not
  // measured yet after them, by name. The local datacenter counts as 0: it is reached without
  // crossing the WAN, and on one host the estimates are equal up to noise.
  return known_datacenters(
      datacenter_, wan_->members(),
      [wan = wan_, local = datacenter_](const std::string& dc) -> std::optional<double> {
        if (dc == local) return 0.0;
        auto ms = wan->median_rtt_ms(dc);
        if (!ms) return std::nullopt;
        return *ms / 1000.0;  // the hook takes seconds
      });
}

}  // namespace pc::daemon
