#pragma once
// Consul's user events (/v1/event/fire, /v1/event/list; agent/user_event.go): what an event
// is, how it travels as a serf user event named "consul:event:<name>", which agents act on
// it (the node, service and tag filters) and the ring of recent events an agent keeps.
//
// The payload on the wire is our own JSON (not Consul's msgpack): decode_user_event reads
// bytes from the network and refuses anything malformed or oversized (user_event_fuzz).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/rand.h"
#include "core/result.h"

namespace pc::endpoints {

// Consul's userEventMaxVersion, and the ring of events an agent keeps (its eventBuf).
inline constexpr int kUserEventVersion = 1;
inline constexpr std::size_t kUserEventBufferSize = 256;
// serf's user event name for a Consul event.
inline constexpr std::string_view kUserEventPrefix = "consul:event:";

struct UserEvent {
  std::string id;  // a UUID
  std::string name;
  std::string payload;  // raw bytes; base64 in the HTTP API's JSON
  std::string node_filter;
  std::string service_filter;
  std::string tag_filter;
  int version = kUserEventVersion;
  std::uint64_t ltime = 0;  // set by the receiving agent from the gossip Lamport time
  bool operator==(const UserEvent&) const = default;
};

// Consul's checks before firing: a name, a tag filter only with a service filter, filters
// that are valid regular expressions (kInvalidArgument with Consul's texts).
core::Status validate_user_event(const UserEvent& event);
// A new event's ID and version, as the agent that fires it sets them.
void stamp_user_event(UserEvent& event, core::Rand& rand);

std::string encode_user_event(const UserEvent& event);
core::Result<UserEvent> decode_user_event(std::string_view bytes);

// Consul's shouldProcessUserEvent: whether this agent (its node name and its services)
// matches the event's filters.
struct LocalServiceTags {
  std::string service;
  std::vector<std::string> tags;
};
bool user_event_matches(const UserEvent& event, const std::string& node_name,
                        const std::vector<LocalServiceTags>& services);

// Consul's uuidToUint64: the index of an event list is the XOR of the two halves of its
// last event's ID.
std::uint64_t user_event_index(const std::string& uuid);

// The events this agent received and acted on, the last kUserEventBufferSize in order of
// arrival. Thread-safe. Waiters (a parked blocking /v1/event/list) run once at the next add(),
// on the adding thread, outside the lock; they must not block.
class UserEventLog {
 public:
  using WaiterId = std::uint64_t;
  void add(UserEvent event);
  // Events with this name (all when empty), oldest first.
  std::vector<UserEvent> list(const std::string& name) const;
  // Runs `fn` once at the next add(); cancel() drops it unrun (false if it ran or is unknown).
  WaiterId on_next(std::function<void()> fn);
  bool cancel(WaiterId id);
  std::size_t waiters() const;

 private:
  mutable std::mutex mu_;
  std::vector<UserEvent> ring_;  // ring_[next_ % size] is the oldest once full
  std::size_t next_ = 0;
  std::map<WaiterId, std::function<void()>> waiters_;
  WaiterId next_waiter_ = 1;
};

}  // namespace pc::endpoints
