#include "daemon/lan_reconciler.h"

#include <future>

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

bool LanReconciler::pass() {
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
