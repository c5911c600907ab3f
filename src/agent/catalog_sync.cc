#include "agent/catalog_sync.h"

#include <algorithm>

#include "agent/sync_interval.h"
#include "core/log.h"
#include "core/strings.h"
#include "proto/commands.pb.h"
#include "state/row_proto.h"

namespace pc::agent {
namespace {

constexpr std::string_view kModule = "agent.sync";
// Rows the servers own for every server node, which the agent never holds itself.
constexpr std::string_view kSerfCheckId = "serfHealth";
constexpr std::string_view kConsulServiceId = "consul";

void set_pairs(const std::map<std::string, std::string>& m,
               google::protobuf::RepeatedPtrField<proto::BytesPair>* out) {
  for (const auto& [k, v] : m) {
    auto* p = out->Add();
    p->set_key(k);
    p->set_value(v);
  }
}

proto::Command register_command(const NodeInfo& node) {
  proto::Command cmd;
  auto* reg = cmd.mutable_catalog_register();
  reg->set_id(node.id);
  reg->set_node(node.name);
  reg->set_address(node.address);
  reg->set_datacenter(node.datacenter);
  set_pairs(node.tagged_addresses, reg->mutable_tagged_addresses());
  set_pairs(node.meta, reg->mutable_node_meta());
  return cmd;
}

proto::Command deregister_command(const std::string& node, const std::string& service_id,
                                  const std::string& check_id) {
  proto::Command cmd;
  auto* d = cmd.mutable_catalog_deregister();
  d->set_node(node);
  d->set_service_id(service_id);
  d->set_check_id(check_id);
  return cmd;
}

template <typename Row>
Row without_indexes(Row row) {
  row.create_index = row.modify_index = 0;
  return row;
}

bool node_in_sync(const std::optional<state::Node>& row, const NodeInfo& node) {
  return row && row->id == node.id && row->address == node.address &&
         row->tagged_addresses == node.tagged_addresses && row->meta == node.meta;
}

// Consul's names for a write in its "<what> blocked by ACLs" warnings.
std::string_view what_of(const proto::Command& cmd) {
  if (cmd.has_catalog_deregister()) {
    return cmd.catalog_deregister().service_id().empty() ? "Check deregistration"
                                                         : "Service deregistration";
  }
  if (cmd.has_catalog_register()) {
    const auto& reg = cmd.catalog_register();
    if (reg.has_service()) return "Service registration";
    if (reg.has_check() || reg.checks_size() > 0) return "Check registration";
  }
  return "Node info update";
}

}  // namespace

CatalogSync::CatalogSync(LocalState& local, NodeReader reader, NodeInfo node, CommandSink sink,
                         const core::Clock& clock, Options options)
    : local_(local),
      reader_(std::move(reader)),
      node_(std::move(node)),
      sink_(std::move(sink)),
      clock_(clock),
      options_(options) {}

CatalogSync::~CatalogSync() {
  stop();
}

void CatalogSync::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    core::set_thread_name("pc-agent-sync");
    loop();
  });
}

void CatalogSync::stop() {
  std::vector<std::function<void(core::Status)>> waiters;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    waiters.swap(waiters_);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& w : waiters) {
    w(core::make_error(core::Code::kUnavailable, "Agent was shutdown before the sync completed"));
  }
}

void CatalogSync::trigger() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void CatalogSync::sync_then(std::function<void(core::Status)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      done(core::make_error(core::Code::kUnavailable, "Agent is shutting down"));
      return;
    }
    waiters_.push_back(std::move(done));
    pending_ = true;
  }
  cv_.notify_all();
}

std::uint64_t CatalogSync::passes() const {
  std::lock_guard lock(mu_);
  return passes_;
}

void CatalogSync::loop() {
  // The first pass runs at once, as Consul's agent syncs in full when it starts.
  core::MonoTime next_full = clock_.now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    core::MonoTime wake = next_full;
    if (deferred_until_ != core::MonoTime{} && deferred_until_ < wake) wake = deferred_until_;
    cv_.wait_until(lock, wake, [this] { return stopping_ || pending_; });
    if (stopping_) break;
    bool full = clock_.now() >= next_full;
    bool deferred = deferred_until_ != core::MonoTime{} && clock_.now() >= deferred_until_;
    if (!pending_ && !full && !deferred) continue;
    pending_ = false;
    auto waiters = std::move(waiters_);
    waiters_.clear();
    lock.unlock();
    core::Status status = sync_once();
    if (!status) {
      core::log::warn(kModule, "failed to sync with the catalog: {}", status.error().message);
    }
    for (auto& w : waiters) w(status);
    // A failed pass is tried again soon (Consul retries after 15 s), not a whole interval on.
    if (!status) {
      next_full = clock_.now() + std::min(options_.full_sync_interval, options_.retry_interval);
    } else if (full) {
      next_full = clock_.now() + next_full_sync_wait();
    }
    lock.lock();
  }
}

core::Duration CatalogSync::next_full_sync_wait() const {
  std::size_t members = options_.cluster_size ? options_.cluster_size() : 1;
  if (!options_.random) return options_.full_sync_interval;
  return full_sync_wait(options_.full_sync_interval, members, options_.random());
}

NodeReader store_reader(const state::Store& store, std::string node_name) {
  return [&store, node_name = std::move(node_name)]() -> core::Result<NodeRows> {
    state::Snapshot snap = store.snapshot();
    return NodeRows{snap.node_get(node_name), snap.node_services(node_name),
                    snap.checks_for_node(node_name)};
  };
}

core::Status CatalogSync::sync_once() {
  auto rows = reader_();
  if (!rows) return rows.error();
  const core::MonoTime now = clock_.now();
  core::MonoTime next_deferred{};
  // Each write with the token it acts for ("" the agent's own).
  std::vector<std::pair<proto::Command, std::string>> writes;

  std::vector<state::Service> services = local_.services();
  std::vector<LocalCheck> checks = local_.checks();
  auto local_service = [&services](std::string_view id) {
    return std::find_if(services.begin(), services.end(),
                        [id](const state::Service& s) { return s.id == id; });
  };
  auto local_check = [&checks](std::string_view id) {
    return std::find_if(checks.begin(), checks.end(),
                        [id](const LocalCheck& c) { return c.check.check_id == id; });
  };

  // Deletions: what the catalog holds for this node and the agent does not.
  const std::vector<state::Service>& remote_services = rows->services;
  const std::vector<state::HealthCheck>& remote_checks = rows->checks;
  std::vector<std::string> gone_services;
  for (const auto& rs : remote_services) {
    if (rs.id == kConsulServiceId || local_service(rs.id) != services.end()) continue;
    writes.emplace_back(deregister_command(node_.name, rs.id, ""), "");
    gone_services.push_back(rs.id);
  }
  for (const auto& rc : remote_checks) {
    if (rc.check_id == kSerfCheckId || local_check(rc.check_id) != checks.end()) continue;
    // Deregistering a service removes its checks with it.
    if (std::find(gone_services.begin(), gone_services.end(), rc.service_id) !=
        gone_services.end()) {
      continue;
    }
    writes.emplace_back(deregister_command(node_.name, "", rc.check_id), "");
  }

  // Registrations: what is missing or different.
  auto remote_check = [&remote_checks](std::string_view id) -> const state::HealthCheck* {
    for (const auto& c : remote_checks) {
      if (c.check_id == id) return &c;
    }
    return nullptr;
  };
  auto check_in_sync = [&](const LocalCheck& lc) {
    const state::HealthCheck* rc = remote_check(lc.check.check_id);
    if (rc == nullptr) return false;
    state::HealthCheck remote = without_indexes(*rc);
    state::HealthCheck mine = without_indexes(lc.check);
    if (remote == mine) return true;
    remote.output = mine.output;
    if (remote != mine) return false;
    // Only the output differs: defer it (Consul's check_update_interval).
    core::MonoTime due = lc.output_changed_at + options_.check_update_interval;
    if (now >= due) return false;
    if (next_deferred == core::MonoTime{} || due < next_deferred) next_deferred = due;
    return true;
  };

  const bool node_ok = node_in_sync(rows->node, node_);
  bool node_written = false;
  const std::size_t registrations_start = writes.size();
  for (const auto& s : services) {
    auto remote = std::find_if(remote_services.begin(), remote_services.end(),
                               [&s](const state::Service& r) { return r.id == s.id; });
    bool service_ok =
        remote != remote_services.end() && without_indexes(*remote) == without_indexes(s);
    std::vector<const LocalCheck*> stale;
    for (const auto& lc : checks) {
      if (lc.check.service_id == s.id && !check_in_sync(lc)) stale.push_back(&lc);
    }
    if (service_ok && stale.empty() && node_ok) continue;
    proto::Command cmd = register_command(node_);
    auto* reg = cmd.mutable_catalog_register();
    state::to_proto(s, reg->mutable_service());
    for (const LocalCheck* lc : stale) {
      state::to_proto(lc->check, reg->add_checks());
    }
    std::string token = local_.service_token(s.id);
    // A service registered with its own token leaves the node to the agent's token (that
    // token need not have node:write), as Consul's SkipNodeUpdate.
    if (token.empty()) {
      node_written = true;
    } else {
      reg->set_skip_node_update(true);
    }
    writes.emplace_back(std::move(cmd), std::move(token));
  }
  for (const auto& lc : checks) {
    if (!lc.check.service_id.empty() || check_in_sync(lc)) continue;
    proto::Command cmd = register_command(node_);
    state::to_proto(lc.check, cmd.mutable_catalog_register()->mutable_check());
    writes.emplace_back(std::move(cmd), "");
    node_written = true;
  }
  // The node goes first: registrations that skip it need it to exist.
  if (!node_ok && !node_written) {
    writes.emplace(writes.begin() + static_cast<std::ptrdiff_t>(registrations_start),
                   register_command(node_), "");
  }

  {
    std::lock_guard lock(mu_);
    deferred_until_ = next_deferred;
    ++passes_;
  }
  for (auto& [cmd, token] : writes) {
    const std::string_view what = what_of(cmd);
    auto st = sink_(std::move(cmd), token);
    if (st) continue;
    // A write its token may not make is skipped with a warning, not retried soon, and the
    // others go on (Consul marks it in sync): only a change or the next full pass tries again.
    if (st.error().code != core::Code::kPermissionDenied) return st;
    core::log::warn(kModule, "{} blocked by ACLs: {}", what, st.error().message);
  }
  return core::ok();
}

}  // namespace pc::agent
