// /v1/event/fire/<name> and /v1/event/list — Consul's user events (agent/event_endpoint.go).
// Every agent answers both itself: it fires on its own LAN pool and lists what it received.
#include <atomic>
#include <memory>

#include "core/timer_thread.h"
#include "endpoints/acl_checks.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/gossip.h"
#include "http/query.h"

namespace pc::http::handlers {
namespace {

// Consul's structs.UserEvent as its HTTP API writes it: Payload is base64, or null when
// empty (a nil []byte).
void write_user_event(JsonWriter& w, const endpoints::UserEvent& e) {
  w.begin_object();
  w.string_field("ID", e.id);
  w.string_field("Name", e.name);
  w.key("Payload");
  if (e.payload.empty()) {
    w.null();
  } else {
    w.base64(e.payload);
  }
  w.string_field("NodeFilter", e.node_filter);
  w.string_field("ServiceFilter", e.service_filter);
  w.string_field("TagFilter", e.tag_filter);
  w.key("Version");
  w.number(e.version);
  w.key("LTime");
  w.number(e.ltime);
  w.end_object();
}

std::string query_or_empty(const Request& req, std::string_view name) {
  const std::string* v = req.query_param(name);
  return v == nullptr ? std::string() : *v;
}

// The list and its index: Consul's uuidToUint64 of the last event's ID, or 1 when there is
// none (a non-zero index keeps a watcher from spinning).
// Events the token may not read (event:read on the name) are left out first, and the index is
// of the last event it may read.
Response render_list(std::vector<endpoints::UserEvent> events, std::uint64_t& index,
                     const endpoints::ResolvedToken& who) {
  const bool filtered = endpoints::filter_user_events(who, events);
  index = events.empty() ? 1 : endpoints::user_event_index(events.back().id);
  if (index == 0) index = 1;
  JsonWriter w;
  w.begin_array();
  for (const endpoints::UserEvent& e : events) write_user_event(w, e);
  w.end_array();
  Response r = filtered_json(w.take(), filtered);
  r.headers.emplace_back("X-Consul-Index", std::to_string(index));
  return r;
}

// A parked /v1/event/list: answered once, by the first of a new event or the wait's end.
struct ParkedList {
  std::atomic<bool> answered{false};
  Reply reply;
};

}  // namespace

void event_fire(const endpoints::GossipOps& ops, const Request& req, Reply reply) {
  endpoints::UserEvent event;
  event.name = std::string(path_suffix(req, "/v1/event/fire/"));
  if (event.name.empty()) return reply(Response::text(400, "Missing name"));
  if (!require(ops.acl, req, reply, [&event](const endpoints::ResolvedToken& who) {
        return endpoints::require_rule(who, acl::Resource::kEvent, event.name,
                                       acl::AccessLevel::kWrite);
      })) {
    return;
  }
  event.node_filter = query_or_empty(req, "node");
  event.service_filter = query_or_empty(req, "service");
  event.tag_filter = query_or_empty(req, "tag");
  event.payload = req.body;
  if (!ops.fire_user_event) return reply(Response::text(500, "No gossip pool to fire events on"));
  core::SystemRand fallback;
  endpoints::stamp_user_event(event, ops.rand != nullptr ? *ops.rand : fallback);
  // Consul answers every failure to fire (validation included) with a 500 and the error.
  if (auto fired = ops.fire_user_event(event); !fired) {
    return reply(Response::text(500, fired.error().message));
  }
  JsonWriter w;
  write_user_event(w, event);
  reply(Response::json(w.take()));
}

void event_list(const endpoints::GossipOps& ops, const Request& req, Reply reply) {
  auto options = parse_query_options(req);
  if (!options) return reply(error_response(options.error()));
  const std::string name = query_or_empty(req, "name");
  auto resolved = authorize(ops.acl, req, reply);
  if (!resolved) return;
  const endpoints::ResolvedToken who = std::move(*resolved);
  if (ops.user_events == nullptr) {
    std::uint64_t index = 0;
    return reply(render_list({}, index, who));
  }
  endpoints::UserEventLog& log = *ops.user_events;
  if (!options->blocking() || ops.timers == nullptr) {
    std::uint64_t index = 0;
    return reply(render_list(log.list(name), index, who));
  }
  auto parked = std::make_shared<ParkedList>();
  parked->reply = std::move(reply);
  auto answer = [&log, name, parked, who] {
    if (parked->answered.exchange(true)) return;
    std::uint64_t ignored = 0;
    parked->reply(render_list(log.list(name), ignored, who));
  };
  // The waiter first, then the read: an event between the two wakes us rather than being
  // missed. Consul parks while the index (its last event's) is the one the client has.
  core::TimerThread* timers = ops.timers;
  auto timer = std::make_shared<std::atomic<core::TimerThread::TimerId>>(0);
  const auto waiter = log.on_next([answer, timers, timer] {
    if (auto id = timer->load(); id != 0) timers->cancel(id);
    answer();
  });
  std::uint64_t index = 0;
  Response now = render_list(log.list(name), index, who);
  if (index != options->min_index) {
    log.cancel(waiter);
    if (!parked->answered.exchange(true)) parked->reply(std::move(now));
    return;
  }
  timer->store(
      timers->schedule(std::chrono::steady_clock::now() + options->wait, [answer, &log, waiter] {
        log.cancel(waiter);
        answer();
      }));
}

}  // namespace pc::http::handlers
