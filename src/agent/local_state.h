#pragma once
// LocalState: the services and checks registered on this agent (Consul's agent/local.State).
// It is the agent's truth; CatalogSync makes the catalog's rows for this node equal to it.
//
// Rows are kept with the node name filled in and the Raft indexes zero, as Consul's agent API
// shows them. A check of a service carries that service's name and tags, refreshed when the
// service is registered again.
//
// Thread-safe: every method takes the one mutex; nothing is called back under it except the
// change hook, which must not call back into LocalState (CatalogSync's trigger only sets a flag).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/check_spec.h"
#include "core/clock.h"
#include "core/result.h"
#include "state/types.h"
#include "state/watch.h"

namespace pc::agent {

struct LocalCheck {
  state::HealthCheck check;
  CheckSpec spec;
  // When the check last turned critical (meaningful while it is critical); drives
  // DeregisterCriticalServiceAfter.
  core::MonoTime critical_since{};
  // When the output last changed without the status changing: such changes reach the
  // catalog only after check_update_interval (Consul's deferred check sync).
  core::MonoTime output_changed_at{};
};

class LocalState {
 public:
  LocalState(std::string node_name, const core::Clock& clock);

  const std::string& node_name() const { return node_name_; }

  // Adds or replaces a service. Its existing checks keep running; their ServiceName and
  // ServiceTags follow the new registration. `token` is the ACL token secret it was
  // registered with ("" for none): anti-entropy writes the service acting for it, as
  // Consul's agent does.
  void add_service(state::Service service, std::string token = {});
  // Removes a service and every check bound to it. NotFound (Consul's text) if unknown.
  core::Status remove_service(std::string_view id);

  // Adds or replaces a check. A check naming a ServiceID needs that service to exist.
  core::Status add_check(state::HealthCheck check, CheckSpec spec);
  core::Status remove_check(std::string_view id);  // NotFound if unknown

  // Sets a check's status and output. Returns false if the check is gone (a probe finishing
  // after its check was removed) or nothing changed.
  bool update_check(std::string_view id, std::string_view status, std::string_view output);

  std::optional<state::Service> service(std::string_view id) const;
  // The token the service was registered with; "" for none or an unknown service.
  std::string service_token(std::string_view id) const;
  std::vector<state::Service> services() const;  // ordered by ID
  std::optional<LocalCheck> check(std::string_view id) const;
  std::vector<LocalCheck> checks() const;  // ordered by ID
  std::vector<std::string> check_ids_of_service(std::string_view service_id) const;

  // Bumps on every change; blocking agent reads report it as their index.
  std::uint64_t version() const;
  // Registers the channel that fires on the next change.
  void watch(state::WatchSet& ws) const;
  // Called (outside the lock) after every change; set once before use.
  void set_change_hook(std::function<void()> hook);

 private:
  std::shared_ptr<state::WatchChannel> changed_locked();
  void notify(std::shared_ptr<state::WatchChannel> fired);

  const std::string node_name_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, state::Service, std::less<>> services_;
  std::map<std::string, LocalCheck, std::less<>> checks_;
  std::map<std::string, std::string, std::less<>> service_tokens_;  // service ID -> secret
  std::uint64_t version_ = 1;
  std::shared_ptr<state::WatchChannel> channel_ = std::make_shared<state::WatchChannel>();
  std::function<void()> hook_;
};

}  // namespace pc::agent
