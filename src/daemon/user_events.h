#pragma once
// The agent's side of Consul's user events: a serf user event named "consul:event:<name>"
// from the LAN pool is decoded, checked against this agent's node name and services (the
// event's filters, Consul's shouldProcessUserEvent) and kept in the log /v1/event/list reads.
//
// Threads: ingest() runs on the pool's I/O thread and does not block (a short lock on the
// local services and on the log). set_agent() before the pool delivers events that need it;
// the agent must outlive the pool.
#include <atomic>
#include <string>

#include "endpoints/user_event.h"
#include "gossip/core/memberlist.h"

namespace pc::agent {
class LocalAgent;
}

namespace pc::daemon {

class UserEventIngest {
 public:
  explicit UserEventIngest(std::string node_name) : node_name_(std::move(node_name)) {}
  void set_agent(agent::LocalAgent* agent) { agent_.store(agent); }
  void ingest(const gossip::UserEvent& event);
  endpoints::UserEventLog& log() { return log_; }

 private:
  std::string node_name_;
  std::atomic<agent::LocalAgent*> agent_{nullptr};
  endpoints::UserEventLog log_;
};

// The serf event that carries `event` (name and payload), for the LAN pool to fire.
std::string user_event_serf_name(const endpoints::UserEvent& event);

}  // namespace pc::daemon
