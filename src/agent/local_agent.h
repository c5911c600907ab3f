#pragma once
// LocalAgent: what the agent API acts on (Consul's Agent.AddService/AddCheck/RemoveService/
// RemoveCheck/updateTTLCheck and maintenance mode). It owns the local state, the check runner
// and the catalog sync, validates registrations with Consul's texts before changing anything,
// and reaps services whose checks stayed critical past DeregisterCriticalServiceAfter.
//
// With a data directory, registrations are kept on disk (local_persist.h) and start()
// registers them again before the first anti-entropy pass, so a restart neither forgets them
// nor deletes them from the catalog.
//
// Errors: InvalidArgument (the edge answers 400), NotFound (404), Internal (500, Consul's
// plain errors; also a registration that took effect but could not be written to disk).
//
// Thread-safe: all public methods may be called from any thread; writes are serialized.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/catalog_sync.h"
#include "agent/check_runner.h"
#include "agent/check_spec.h"
#include "agent/local_persist.h"
#include "agent/local_state.h"

namespace pc::agent {

struct CheckRegistration {
  state::HealthCheck check;  // CheckID, Name, Notes, Status (""=critical), ServiceID
  CheckSpec spec;
  // Kept in the data directory so that it survives a restart (what the agent API registers).
  // Registrations that come from the configuration again at every start set false, so that
  // removing one from the configuration removes it (Consul's persist=false for them).
  bool persist = true;
  // Defined in a configuration file: a script check then needs only
  // enable_local_script_checks (Consul's ConfigSourceLocal).
  bool from_config_file = false;
};

struct ServiceRegistration {
  state::Service service;
  std::vector<CheckRegistration> checks;
  bool replace_existing_checks = false;
  // The ACL token secret of the request that registered it ("" for none): the service and
  // its checks reach the catalog acting for it.
  std::string token;
  bool persist = true;  // as CheckRegistration::persist, for the service and its checks
  // Defined in a configuration file (daemon/config_services.h): registered at start and by
  // reloads, never kept in the data directory (Consul re-reads its files instead).
  bool from_config_file = false;
};

// Consul's IDs and texts for maintenance mode.
inline constexpr std::string_view kNodeMaintenanceCheckId = "_node_maintenance";
inline constexpr std::string_view kServiceMaintenancePrefix = "_service_maintenance:";

class LocalAgent {
 public:
  struct Options {
    bool enable_script_checks = false;
    // Script checks from configuration files only (Consul's enable_local_script_checks).
    bool enable_local_script_checks = false;
    // Consul's check_deregister_interval_min and check_reap_interval.
    core::Duration deregister_interval_min = std::chrono::minutes(1);
    core::Duration reap_interval = std::chrono::seconds(30);
    CheckRunner::Options runner;
    CatalogSync::Options sync;
    // Where registrations persist (<data_dir>/services, <data_dir>/checks); "" keeps nothing
    // (-dev, as Consul's dev mode has no data directory).
    std::string data_dir;
  };

  // `reader` gives anti-entropy the catalog's rows for this node (store_reader on a server).
  LocalAgent(NodeInfo node, NodeReader reader, CommandSink sink, core::TimerThread& timers,
             const core::Clock& clock, core::Rand& rand, Options options);
  ~LocalAgent();
  LocalAgent(const LocalAgent&) = delete;
  LocalAgent& operator=(const LocalAgent&) = delete;

  // Restores what the data directory holds (services and checks already registered, from
  // the configuration, win over their files, which are removed), then starts the sync.
  void start();
  void stop();

  core::Status add_service(ServiceRegistration reg);
  core::Status remove_service(std::string_view id);
  core::Status add_check(CheckRegistration reg);
  core::Status remove_check(std::string_view id);
  core::Status update_ttl(std::string_view id, std::string_view status, std::string output);
  core::Status set_node_maintenance(bool enable, std::string_view reason);
  core::Status set_service_maintenance(std::string_view service_id, bool enable,
                                       std::string_view reason);

  // Runs `done` once the catalog reflects every change made before this call.
  void after_sync(std::function<void(core::Status)> done) { sync_.sync_then(std::move(done)); }

  const LocalState& local() const { return local_; }
  const CheckRunner& runner() const { return runner_; }
  const std::string& node_name() const { return local_.node_name(); }

  // Whether add_service / add_check would accept `reg` (check kinds, script permission),
  // changing nothing: a reload validates every definition before it applies any.
  core::Status validate(ServiceRegistration reg) const;
  core::Status validate(CheckRegistration reg) const;

  // One reaping pass (exposed for tests; runs every reap_interval once started).
  void reap_critical_services();

 private:
  core::Status prepare_check(CheckRegistration& reg, std::string_view default_service_name) const;
  core::Status add_check_locked(CheckRegistration reg);
  core::Duration resume_ttl_state_locked(state::HealthCheck& check);
  void drop_check_locked(const std::string& id);
  core::Status persist_service_locked(const state::Service& service, const std::string& token);
  void restore_persisted();
  core::Status restore_check_locked(CheckRegistration reg);
  void schedule_reap();

  const Options options_;
  const core::Clock& clock_;
  core::TimerThread& timers_;
  std::mutex write_mu_;   // one registration at a time, so validation and change are atomic
  LocalPersist persist_;  // used under write_mu_
  LocalState local_;
  CheckRunner runner_;
  CatalogSync sync_;

  std::mutex reap_mu_;
  core::TimerThread::TimerId reap_timer_ = 0;
  bool stopping_ = false;
};

}  // namespace pc::agent
