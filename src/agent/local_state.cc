#include "agent/local_state.h"

namespace pc::agent {

LocalState::LocalState(std::string node_name, const core::Clock& clock)
    : node_name_(std::move(node_name)), clock_(clock) {}

void LocalState::set_change_hook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  hook_ = std::move(hook);
}

// Bumps the version and swaps in a fresh channel under the lock; the caller fires the old
// one through notify(), outside it.
std::shared_ptr<state::WatchChannel> LocalState::changed_locked() {
  ++version_;
  return std::exchange(channel_, std::make_shared<state::WatchChannel>());
}

void LocalState::notify(std::shared_ptr<state::WatchChannel> fired) {
  fired->fire();
  std::function<void()> hook;
  {
    std::lock_guard lock(mu_);
    hook = hook_;
  }
  if (hook) hook();
}

void LocalState::add_service(state::Service service, std::string token) {
  std::shared_ptr<state::WatchChannel> fired;
  {
    std::lock_guard lock(mu_);
    service.node = node_name_;
    service.create_index = service.modify_index = 0;
    for (auto& [id, local] : checks_) {
      if (local.check.service_id != service.id) continue;
      local.check.service_name = service.service;
      local.check.service_tags = service.tags;
    }
    if (token.empty()) {
      service_tokens_.erase(service.id);
    } else {
      service_tokens_[service.id] = std::move(token);
    }
    services_[service.id] = std::move(service);
    fired = changed_locked();
  }
  notify(std::move(fired));
}

core::Status LocalState::remove_service(std::string_view id) {
  std::shared_ptr<state::WatchChannel> fired;
  {
    std::lock_guard lock(mu_);
    auto it = services_.find(id);
    if (it == services_.end()) {
      return core::make_error(core::Code::kNotFound,
                              "Unknown service ID \"" + std::string(id) +
                                  "\". Ensure that the service ID is passed, not the service "
                                  "name.");
    }
    services_.erase(it);
    if (auto t = service_tokens_.find(id); t != service_tokens_.end()) service_tokens_.erase(t);
    std::erase_if(checks_, [id](const auto& entry) { return entry.second.check.service_id == id; });
    fired = changed_locked();
  }
  notify(std::move(fired));
  return core::ok();
}

core::Status LocalState::add_check(state::HealthCheck check, CheckSpec spec) {
  std::shared_ptr<state::WatchChannel> fired;
  {
    std::lock_guard lock(mu_);
    check.node = node_name_;
    check.create_index = check.modify_index = 0;
    if (!check.service_id.empty()) {
      auto svc = services_.find(check.service_id);
      if (svc == services_.end()) {
        return core::make_error(core::Code::kNotFound,
                                "ServiceID \"" + check.service_id + "\" does not exist");
      }
      check.service_name = svc->second.service;
      check.service_tags = svc->second.tags;
    } else {
      check.service_name.clear();
      check.service_tags.clear();
    }
    LocalCheck local{std::move(check), std::move(spec), {}, {}};
    if (local.check.status == state::kHealthCritical) local.critical_since = clock_.now();
    std::string id = local.check.check_id;
    checks_[id] = std::move(local);
    fired = changed_locked();
  }
  notify(std::move(fired));
  return core::ok();
}

core::Status LocalState::remove_check(std::string_view id) {
  std::shared_ptr<state::WatchChannel> fired;
  {
    std::lock_guard lock(mu_);
    auto it = checks_.find(id);
    if (it == checks_.end()) {
      return core::make_error(core::Code::kNotFound,
                              "Unknown check ID \"" + std::string(id) +
                                  "\". Ensure that the check ID is passed, not the check name.");
    }
    checks_.erase(it);
    fired = changed_locked();
  }
  notify(std::move(fired));
  return core::ok();
}

bool LocalState::update_check(std::string_view id, std::string_view status,
                              std::string_view output) {
  std::shared_ptr<state::WatchChannel> fired;
  {
    std::lock_guard lock(mu_);
    auto it = checks_.find(id);
    if (it == checks_.end()) return false;
    LocalCheck& local = it->second;
    if (local.check.status == status && local.check.output == output) return false;
    core::MonoTime now = clock_.now();
    if (local.check.status != status) {
      if (status == state::kHealthCritical) local.critical_since = now;
      local.check.status = std::string(status);
    } else {
      local.output_changed_at = now;
    }
    local.check.output = std::string(output);
    fired = changed_locked();
  }
  notify(std::move(fired));
  return true;
}

std::optional<state::Service> LocalState::service(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = services_.find(id);
  if (it == services_.end()) return std::nullopt;
  return it->second;
}

std::string LocalState::service_token(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = service_tokens_.find(id);
  return it == service_tokens_.end() ? std::string() : it->second;
}

std::vector<state::Service> LocalState::services() const {
  std::lock_guard lock(mu_);
  std::vector<state::Service> out;
  out.reserve(services_.size());
  for (const auto& [id, s] : services_) out.push_back(s);
  return out;
}

std::optional<LocalCheck> LocalState::check(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = checks_.find(id);
  if (it == checks_.end()) return std::nullopt;
  return it->second;
}

std::vector<LocalCheck> LocalState::checks() const {
  std::lock_guard lock(mu_);
  std::vector<LocalCheck> out;
  out.reserve(checks_.size());
  for (const auto& [id, c] : checks_) out.push_back(c);
  return out;
}

std::vector<std::string> LocalState::check_ids_of_service(std::string_view service_id) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, c] : checks_) {
    if (c.check.service_id == service_id) out.push_back(id);
  }
  return out;
}

std::uint64_t LocalState::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

void LocalState::watch(state::WatchSet& ws) const {
  std::lock_guard lock(mu_);
  ws.add(channel_);
}

}  // namespace pc::agent
