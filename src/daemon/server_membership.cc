// ServerRuntime's membership upkeep once Raft runs (see server_runtime.h): autopilot's
// dead-server cleanup on the leader, and elsewhere the check that brings a removed server
// back into the configuration.
#include <algorithm>
#include <future>

#include "core/log.h"
#include "core/rand.h"
#include "core/strings.h"
#include "daemon/server_runtime.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "server";
constexpr std::string_view kAutopilotModule = "autopilot";
// How often pc-servers samples the leader's view of its peers, plus a random part. Raft's
// "recently active" flag is cleared every election timeout and set again by the next answer,
// so a sample taken in that gap reads false for a live server. A fixed period that divides
// the election timeout would hit the gap every time; a random one lands in it rarely, and
// a live server is seen active many times within kDeadServerAfter.
constexpr auto kMaintainInterval = std::chrono::milliseconds(200);
constexpr std::uint64_t kMaintainJitterMs = 200;
constexpr auto kMembershipCheckInterval = std::chrono::seconds(2);
// Leader silence, in election timeouts, before a server asks whether it is still a member:
// any election takes about one; two without a leader are worth a question.
constexpr int kSilentElectionTimeouts = 2;
// Servers asked per membership check (its configuration and the pool's servers are short
// lists).
constexpr std::size_t kMembershipQueriesMax = 8;
constexpr auto kInfoTimeout = std::chrono::seconds(2);

bool in_conf(const consensus::raft::ConfState& conf, std::uint64_t id) {
  return std::find(conf.voters.begin(), conf.voters.end(), id) != conf.voters.end() ||
         std::find(conf.learners.begin(), conf.learners.end(), id) != conf.learners.end();
}

std::string address_in(const consensus::ReplicatedLog::Status& status, std::uint64_t id) {
  auto it = status.addresses.find(id);
  return it == status.addresses.end() ? "id " + std::to_string(id) : it->second;
}

}  // namespace

void ServerRuntime::maintain() {
  core::MonoTime next_membership_check = std::chrono::steady_clock::now();
  core::MonoTime next_autopilot_pass = next_membership_check;
  core::SystemRand rand;
  while (true) {
    const auto pause =
        kMaintainInterval + std::chrono::milliseconds(rand.next_u64() % kMaintainJitterMs);
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, pause, [this] { return stopping_; })) return;
    }
    consensus::ReplicatedLog* r = raft();
    if (r == nullptr) continue;
    const consensus::ReplicatedLog::Status status = r->status();
    const core::MonoTime now = std::chrono::steady_clock::now();
    if (status.role != consensus::raft::Role::kLeader) {
      if (leading_) core::log::info(kAutopilotModule, "stopped: this server no longer leads");
      leading_ = false;
      if (now >= next_membership_check) {
        check_membership(status);
        next_membership_check = std::chrono::steady_clock::now() + kMembershipCheckInterval;
      }
      continue;
    }
    if (!leading_) {
      // A new leader knows nothing of the silence before it led: every server starts with a
      // full kDeadServerAfter (ContactTracker counts first sight as contact).
      contacts_.clear();
      last_refusal_.clear();
      leading_ = true;
      core::log::info(kAutopilotModule,
                      "running on the leader (cleanup_dead_servers {}, min_quorum {})",
                      dead_server_policy_.cleanup_dead_servers, dead_server_policy_.min_quorum);
    }
    std::vector<std::uint64_t> ids;
    for (const auto* list : {&status.conf.voters, &status.conf.learners}) {
      for (std::uint64_t id : *list) {
        auto progress = status.progress.find(id);
        const bool active =
            id == id_ || (progress != status.progress.end() && progress->second.second);
        contacts_.observe(id, active, now);
        ids.push_back(id);
      }
    }
    contacts_.retain_only(ids);
    if (now >= next_autopilot_pass) {
      autopilot_pass(status, now);
      next_autopilot_pass = now + kAutopilotInterval;
    }
  }
}

void ServerRuntime::autopilot_pass(const consensus::ReplicatedLog::Status& status,
                                   core::MonoTime now) {
  std::vector<ServerContact> servers;
  for (std::uint64_t id : status.conf.voters) {
    servers.push_back(
        ServerContact{id, address_in(status, id), true, contacts_.since_contact(id, now)});
  }
  for (std::uint64_t id : status.conf.learners) {
    servers.push_back(
        ServerContact{id, address_in(status, id), false, contacts_.since_contact(id, now)});
  }
  const CleanupDecision decision = dead_servers_to_remove(servers, id_, dead_server_policy_);
  // A refusal holds pass after pass while the servers stay down: say it when it changes.
  if (decision.refusal != last_refusal_) {
    if (!decision.refusal.empty()) {
      core::log::warn(kAutopilotModule, "not removing dead servers: {}", decision.refusal);
    }
    last_refusal_ = decision.refusal;
  }
  // One change at a time (the log takes one membership change at once); the next pass
  // decides again on the configuration that results.
  if (decision.remove.empty() || removal_pending_.exchange(true)) return;
  const std::uint64_t victim = decision.remove.front();
  const auto silent =
      std::chrono::duration_cast<std::chrono::seconds>(contacts_.since_contact(victim, now));
  const std::string address = address_in(status, victim);
  core::log::info(
      kAutopilotModule,
      "removing failed server {} (raft id {:016x}): no contact from the leader for "
      "{}s (dead after {}s without contact)",
      address, victim, silent.count(),
      std::chrono::duration_cast<std::chrono::seconds>(dead_server_policy_.dead_after).count());
  raft_->remove_server(victim, [this, address](core::Status s) {
    if (s) {
      core::log::info(kAutopilotModule, "removed failed server {}", address);
    } else {
      core::log::warn(kAutopilotModule, "removing failed server {}: {}", address,
                      s.error().message);
    }
    removal_pending_ = false;
  });
}

void ServerRuntime::check_membership(const consensus::ReplicatedLog::Status& status) {
  const consensus::LeaderInfo leader = raft_->leader();
  const auto election_timeout = std::chrono::milliseconds(1000) * options_.raft_multiplier;
  const bool silent = !leader.known_leader || std::chrono::milliseconds(leader.last_contact_ms) >
                                                  kSilentElectionTimeouts * election_timeout;
  if (in_conf(status.conf, id_) && !silent) {
    missing_strikes_ = 0;
    return;
  }
  auto view = leader_view(status);
  if (!view) return;  // no leader to ask: nothing is known, nothing changes
  if (view->second) {
    missing_strikes_ = 0;
    return;
  }
  // Twice in a row, so a configuration change on its way (this server's own join or removal)
  // is not mistaken for the settled state.
  if (++missing_strikes_ < 2) return;
  missing_strikes_ = 0;
  core::log::info(kModule,
                  "the leader's configuration does not include this server; asking {} to add it "
                  "back as a voter",
                  view->first);
  if (core::Status s = ask_to_join(view->first); !s) {
    core::log::warn(kModule, "rejoining through {}: {}", view->first, s.error().message);
    return;
  }
  core::log::info(kModule, "rejoined the cluster as a voter");
}

std::optional<std::pair<std::string, bool>> ServerRuntime::leader_view(
    const consensus::ReplicatedLog::Status& status) {
  // Whom to ask: the servers of this one's configuration, then the LAN pool's servers; a
  // server that names a leader other than itself puts that leader first in line.
  std::vector<std::string> queue;
  auto enqueue = [&](const std::string& address, bool front) {
    if (address.empty() || address == rpc_address_) return;
    if (std::find(queue.begin(), queue.end(), address) != queue.end()) return;
    queue.insert(front ? queue.begin() : queue.end(), address);
  };
  for (const auto& [id, address] : status.addresses) enqueue(address, false);
  if (options_.pool_servers) {
    for (const PoolServer& server : options_.pool_servers()) enqueue(server.rpc_address, false);
  }
  std::vector<std::string> asked;
  while (!queue.empty() && asked.size() < kMembershipQueriesMax) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return std::nullopt;  // each query may take kInfoTimeout: do not hold stop()
    }
    const std::string address = queue.front();
    queue.erase(queue.begin());
    asked.push_back(address);
    auto info = server_info(address);
    if (!info || info->datacenter != options_.datacenter || !core::is_uuid(info->node_id)) {
      continue;
    }
    if (info->leader_id == 0 || info->leader_address.empty()) continue;
    if (raft_id_of(info->node_id) != info->leader_id) {
      // Only the leader's own configuration settles it: a follower may lag behind it.
      if (std::find(asked.begin(), asked.end(), info->leader_address) == asked.end()) {
        enqueue(info->leader_address, true);
      }
      continue;
    }
    const bool member =
        std::find(info->members.begin(), info->members.end(), id_) != info->members.end();
    return std::make_pair(info->leader_address, member);
  }
  return std::nullopt;
}

core::Result<ServerInfo> ServerRuntime::server_info(const std::string& address) {
  auto reply = std::make_shared<std::promise<core::Result<std::string>>>();
  auto future = reply->get_future();
  auto sent =
      rpc_client_->call(address, consensus::kRpcServerInfo, "", kInfoTimeout,
                        [reply](core::Result<std::string> r) { reply->set_value(std::move(r)); });
  if (!sent) return sent.error();
  auto r = future.get();  // the call always answers within kInfoTimeout
  if (!r) return r.error();
  return decode_server_info(*r);
}

}  // namespace pc::daemon
