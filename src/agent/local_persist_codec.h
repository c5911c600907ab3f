#pragma once
// The JSON documents an agent keeps in its data directory for what the agent API registered
// (docs/formats/agent-local-state.md): one service file per service, one check file per
// check, and for TTL checks one state file holding the last status an application reported.
// Pure: text in, structs out; the files themselves are LocalPersist's (local_persist.h).
//
// The decoders read bytes from disk: they accept only the documented shape (each field of
// its type, statuses and durations valid, the size within kPersistedFileSizeMax), return
// kCorruption with the reason otherwise, and never assert (agent_persist_fuzz).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/check_spec.h"
#include "core/result.h"
#include "state/types.h"

namespace pc::agent {

// A larger file is not ours: a service with Consul's most meta and many tags is a few KiB.
inline constexpr std::size_t kPersistedFileSizeMax = 1024 * 1024;

struct PersistedService {
  // As LocalState holds it, less the node name and indexes (the agent fills those in).
  state::Service service;
  // The ACL token secret the service was registered with ("" for none): anti-entropy writes
  // the restored service acting for it, as before the restart.
  std::string token;
  bool operator==(const PersistedService&) const = default;
};

struct PersistedCheck {
  // The definition part of the row: CheckID, Name, Notes, ServiceID. Status, output, type and
  // the definition's text fields are not stored: a restored check starts critical (or with
  // its TTL state), and the rest follows from `spec` and the service again.
  state::HealthCheck check;
  // How it runs; nullopt for the checks the agent sets itself (maintenance mode).
  std::optional<CheckSpec> spec;
  bool operator==(const PersistedCheck&) const = default;
};

// The last status of a TTL check, good until `expires_unix_s` (the update's time plus the
// TTL, wall clock seconds, as Consul writes it).
struct PersistedCheckState {
  std::string check_id;
  std::string status;  // passing, warning or critical
  std::string output;
  std::int64_t expires_unix_s = 0;
  bool operator==(const PersistedCheckState&) const = default;
};

std::string encode_persisted_service(const PersistedService& p);
std::string encode_persisted_check(const PersistedCheck& p);
std::string encode_persisted_check_state(const PersistedCheckState& p);

core::Result<PersistedService> decode_persisted_service(std::string_view text);
core::Result<PersistedCheck> decode_persisted_check(std::string_view text);
core::Result<PersistedCheckState> decode_persisted_check_state(std::string_view text);

}  // namespace pc::agent
