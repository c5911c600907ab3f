#pragma once
// LocalPersist: the files under the data directory that keep what the agent API registered
// across restarts (Consul's persistService/persistCheck/persistCheckState):
//
//   <data_dir>/services/<sha256 of the service ID>      one service and its token
//   <data_dir>/checks/<sha256 of the check ID>          one check definition
//   <data_dir>/checks/state/<sha256 of the check ID>    a TTL check's last reported status
//
// The formats are local_persist_codec.h's (docs/formats/agent-local-state.md). Definitions
// are replaced atomically and synced (temporary file, fsync, rename, directory fsync); TTL
// states change on every update, so they are renamed into place without an fsync, as Consul
// does: a crash may lose the latest one, which only costs the check its status until the
// application reports again. Files and directories are private to the agent's user (0600,
// 0700): service files hold ACL tokens.
//
// Loading reads every file once at start; a file that cannot be read or decoded is logged
// with its path and skipped (left in place for a person to look at), a "*.tmp" left by a
// crash mid-write is removed, and the rest is returned for the agent to register.
//
// With an empty data directory (-dev) nothing is written or read.
//
// Thread-safety: none of its own; LocalAgent calls it under its write lock.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/local_persist_codec.h"
#include "core/result.h"

namespace pc::agent {

// The file name for an ID: its SHA-256 in lower-case hex, as Consul names these files (IDs
// may hold any character, and the name must not).
std::string persisted_file_name(std::string_view id);

template <typename T>
struct LoadedFile {
  T value;
  std::string path;
};

class LocalPersist {
 public:
  explicit LocalPersist(std::string data_dir);

  bool enabled() const { return !data_dir_.empty(); }

  core::Status save_service(const state::Service& service, const std::string& token);
  core::Status purge_service(std::string_view service_id);
  // A manual check (maintenance mode) is written without a ChkType.
  core::Status save_check(const state::HealthCheck& check, const CheckSpec& spec);
  // Removes the check's definition and its TTL state.
  core::Status purge_check(std::string_view check_id);
  core::Status save_check_state(const PersistedCheckState& state);
  core::Status purge_check_state(std::string_view check_id);

  std::vector<LoadedFile<PersistedService>> load_services() const;
  std::vector<LoadedFile<PersistedCheck>> load_checks() const;
  // nullopt when there is none; a state that does not decode is logged and removed.
  std::optional<PersistedCheckState> load_check_state(std::string_view check_id) const;

  std::string service_path(std::string_view service_id) const;
  std::string check_path(std::string_view check_id) const;
  std::string check_state_path(std::string_view check_id) const;

 private:
  const std::string data_dir_;
};

}  // namespace pc::agent
