#include "daemon/lan_reconciler.h"

#include <future>
#include <set>
#include <string_view>

#include "core/log.h"
#include "core/strings.h"
#include "daemon/lan_members.h"
#include "daemon/lan_reconcile.h"
#include "daemon/server_runtime.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "gossip.reconcile";

core::Status submit_and_wait(endpoints::Context& ctx, proto::Command cmd) {
  std::promise<core::Status> done;
  endpoints::submit(ctx, std::move(cmd), [&done](core::Result<state::ApplyResult> r) {
    done.set_value(r ? core::ok() : core::Status(r.error()));
  });
  return done.get_future().get();
}

std::string describe(const proto::Command& cmd) {
  if (cmd.has_catalog_deregister()) return "deregistering " + cmd.catalog_deregister().node();
  const auto& reg = cmd.catalog_register();
  return "serfHealth " + reg.check().status() + " for " + reg.node();
}

}  // namespace

LanReconciler::LanReconciler(endpoints::Context& ctx, const LanGossip& gossip,
                             LanReconcilerOptions options)
    : ctx_(ctx), gossip_(gossip), options_(std::move(options)) {}

LanReconciler::~LanReconciler() {
  stop();
}

void LanReconciler::start() {
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] {
    core::set_thread_name("pc-lan-reconcile");
    run();
  });
}

void LanReconciler::trigger() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  cv_.notify_one();
}

void LanReconciler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void LanReconciler::run() {
  bool was_leader = false;
  bool retry = false;
  auto next_full = std::chrono::steady_clock::now();
  while (true) {
    bool dirty = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.poll, [this] { return stopping_ || dirty_; });
      if (stopping_) return;
      dirty = dirty_;
      dirty_ = false;
    }
    if (pool_shrank()) dirty = true;
    if (dirty) note_members();
    if (!options_.is_leader()) {
      was_leader = false;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (was_leader && !dirty && !retry && now < next_full) continue;
    if (!was_leader) core::log::info(kModule, "leading: reconciling the LAN members");
    was_leader = true;
    retry = !pass();
    next_full = now + options_.interval;
  }
}

bool LanReconciler::pool_shrank() {
  const std::size_t count = gossip_.members().size();
  const bool shrank = count < last_member_count_;
  last_member_count_ = count;
  return shrank;
}

void LanReconciler::note_members() {
  for (const gossip::MemberInfo& info : gossip_.members()) seen_.insert(info.name);
}

void LanReconciler::add_serf_nodes(const state::Snapshot& snap, ReconcileInput& input) {
  input.pool_settled = std::chrono::steady_clock::now() - started_ >= gossip_.reconnect_timeout();
  // Members are never reaped, so only the others ask the Raft status below.
  std::set<std::string_view> members;
  for (const ReconcileMember& m : input.members) members.insert(m.name);
  std::set<std::string> keep;
  for (const state::HealthCheck& check : snap.checks_in_state("any")) {
    if (check.check_id != kSerfCheckId) continue;
    if (seen_.count(check.node) != 0) keep.insert(check.node);
    if (members.count(check.node) != 0) continue;
    SerfCheckedNode node;
    node.name = check.node;
    node.seen_by_pool = seen_.count(check.node) != 0;
    // A reaped server still in the configuration stays until autopilot removes it.
    if (auto row = snap.node_get(check.node); row && !row->id.empty()) {
      node.in_raft_configuration = options_.in_raft_configuration(row->id);
    }
    input.serf_nodes.push_back(std::move(node));
  }
  for (std::string_view m : members) keep.insert(std::string(m));
  seen_ = std::move(keep);
}

bool LanReconciler::pass() {
  note_members();
  ReconcileInput input;
  input.datacenter = ctx_.identity.datacenter;
  input.self_name = ctx_.identity.node_name;
  state::Snapshot snap = ctx_.store.snapshot();
  for (const gossip::MemberInfo& info : gossip_.members()) {
    ReconcileMember m = reconcile_member_of(info);
    // Only a departure asks (each answer reads the Raft status).
    m.in_raft_configuration = m.health == MemberHealth::kLeft && !m.node_id.empty() &&
                              options_.in_raft_configuration(m.node_id);
    if (auto node = snap.node_get(m.name)) {
      CatalogNodeRow row;
      row.id = node->id;
      row.address = node->address;
      row.tagged_addresses = node->tagged_addresses;
      row.meta = node->meta;
      if (auto check = snap.check_get(node->node, kSerfCheckId)) row.serf_status = check->status;
      if (auto consul = snap.service_get(node->node, "consul")) {
        row.consul_service_port = consul->port;
      }
      input.catalog.emplace(m.name, std::move(row));
    }
    input.members.push_back(std::move(m));
  }
  add_serf_nodes(snap, input);
  for (proto::Command& cmd : reconcile_commands(input)) {
    const std::string what = describe(cmd);
    if (core::Status s = submit_and_wait(ctx_, std::move(cmd)); !s) {
      core::log::warn(kModule, "{}: {}", what, s.error().message);
      return false;
    }
    core::log::info(kModule, "{}", what);
  }
  return true;
}

LanReconcilerOptions reconciler_options(ServerRuntime* server, std::string self_node_id,
                                        std::function<bool()> is_leader) {
  LanReconcilerOptions o;
  o.is_leader = std::move(is_leader);
  if (server == nullptr) {
    o.in_raft_configuration = [self = std::move(self_node_id)](const std::string& id) {
      return id == self;
    };
    return o;
  }
  o.in_raft_configuration = [server](const std::string& node_id) {
    consensus::ReplicatedLog* raft = server->raft();
    if (raft == nullptr) return false;
    const consensus::ReplicatedLog::Status status = raft->status();
    const std::uint64_t id = raft_id_of(node_id);
    for (const auto* ids : {&status.conf.voters, &status.conf.learners}) {
      for (std::uint64_t member : *ids) {
        if (member == id) return true;
      }
    }
    return false;
  };
  return o;
}

}  // namespace pc::daemon
