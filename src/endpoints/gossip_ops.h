#pragma once
// What the gossip-backed endpoints (/v1/operator/keyring, /v1/event/*) need from the agent:
// its pools' keyring operations, firing a user event and the events it received. The daemon
// fills it from the LAN pool; the members may be null when the agent runs no pool.
// Thread-safe: every member is safe to use from any thread.
#include <functional>
#include <string>

#include "core/rand.h"
#include "core/result.h"
#include "endpoints/keyring.h"
#include "endpoints/user_event.h"

namespace pc::core {
class TimerThread;
}

namespace pc::endpoints {

class AclResolver;

struct GossipOps {
  KeyringRunner keyring;
  // Fires one (already stamped) user event on the LAN pool; validation errors included.
  std::function<core::Status(const UserEvent&)> fire_user_event;
  UserEventLog* user_events = nullptr;
  core::TimerThread* timers = nullptr;      // parks blocking /v1/event/list
  core::Rand* rand = nullptr;               // event IDs
  const std::string* datacenter = nullptr;  // the local one, for ?dc=
  // Token resolution for keyring:read/write and event:read/write; null: ACLs are off.
  const AclResolver* acl = nullptr;
};

}  // namespace pc::endpoints
