#include "daemon/user_events.h"

#include "agent/local_agent.h"
#include "core/log.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "agent.event";

}  // namespace

std::string user_event_serf_name(const endpoints::UserEvent& event) {
  return std::string(endpoints::kUserEventPrefix) + event.name;
}

void UserEventIngest::ingest(const gossip::UserEvent& serf_event) {
  // Other serf events (none yet) are not Consul's.
  if (!serf_event.name.starts_with(endpoints::kUserEventPrefix)) return;
  auto event = endpoints::decode_user_event(serf_event.payload);
  if (!event) {
    core::log::warn(kModule, "dropping user event {}: {}", serf_event.name, event.error().message);
    return;
  }
  event->ltime = serf_event.ltime;
  std::vector<endpoints::LocalServiceTags> services;
  if (agent::LocalAgent* a = agent_.load()) {
    for (const state::Service& s : a->local().services()) {
      services.push_back({s.service, s.tags});
    }
  }
  if (!endpoints::user_event_matches(*event, node_name_, services)) {
    core::log::debug(kModule, "user event {} ({}) is not for this agent", event->name, event->id);
    return;
  }
  core::log::debug(kModule, "user event {} ({}) at {}", event->name, event->id, event->ltime);
  log_.add(std::move(*event));
}

}  // namespace pc::daemon
