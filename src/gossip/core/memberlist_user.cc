// serf's user events and queries on top of the core's broadcasts (memberlist.h; serf's
// serf.go handleUserEvent / handleQuery / handleQueryResponse and query.go). Events and
// queries are stamped with their own Lamport clock, de-duplicated by a ring of recent
// Lamport times, re-broadcast once by every member that sees them first, and delivered to
// the owner through Ready. Responses go straight to the query's origin over UDP.
#include <algorithm>
#include <cmath>

#include "core/assert.h"
#include "gossip/core/memberlist.h"

namespace pc::gossip {
namespace {

// What de-duplicates an event: its name and payload (serf compares both), as
// "<name length>:<name><payload>" so that the pair can be read back for a push-pull.
std::string event_id(const std::string& name, const std::string& payload) {
  return std::to_string(name.size()) + ":" + name + payload;
}

EventRecord event_from_id(LamportTime ltime, const std::string& id) {
  const std::size_t colon = id.find(':');
  PC_ASSERT(colon != std::string::npos, "event id without a name length");
  const std::size_t name_size = std::stoul(id.substr(0, colon));
  PC_ASSERT(colon + 1 + name_size <= id.size(), "event id shorter than its name");
  return EventRecord{ltime, id.substr(colon + 1, name_size), id.substr(colon + 1 + name_size)};
}

}  // namespace

std::uint64_t Memberlist::default_query_timeout_ms() const {
  const double n = static_cast<double>(std::max<std::size_t>(live_, 1));
  const auto scale = static_cast<std::uint64_t>(std::ceil(std::log10(n + 1)));
  return config_.gossip_interval_ms * kQueryTimeoutMult * std::max<std::uint64_t>(scale, 1);
}

void Memberlist::broadcast_user(Message m) {
  // Each event or query is its own broadcast: nothing replaces it.
  broadcasts_.push(std::move(m), "\x01user/" + std::to_string(next_user_broadcast_++));
}

void Memberlist::stamp_serf_state(Message& push_pull) const {
  push_pull.ltime = event_clock_.time();
  push_pull.query_ltime = query_clock_.time();
  std::vector<RecentBuffer::Entry> recent = events_seen_.recent(event_clock_.time());
  const std::size_t skip =
      recent.size() > kPushPullEventsMax ? recent.size() - kPushPullEventsMax : 0;
  push_pull.events.reserve(recent.size() - skip);
  for (std::size_t i = skip; i < recent.size(); ++i) {
    push_pull.events.push_back(event_from_id(recent[i].ltime, *recent[i].id));
  }
}

void Memberlist::merge_events(const Message& push_pull) {
  for (const EventRecord& e : push_pull.events) {
    event_clock_.witness(e.ltime);
    if (accept_user_event(e.ltime, e.name, e.payload)) ++stats_.user_events_from_push_pull;
  }
}

void Memberlist::on_push_pull_clocks(const Message& m) {
  // serf witnesses the peer's clocks minus one: its next stamp is then at least theirs.
  if (m.ltime > 0) event_clock_.witness(m.ltime - 1);
  if (m.query_ltime > 0) query_clock_.witness(m.query_ltime - 1);
  if (m.reply && m.join && join_replies_pending_ > 0) {
    --join_replies_pending_;
    // Consul joins with ignoreOld: events the cluster saw before we joined are not ours.
    event_min_time_ = std::max(event_min_time_, m.ltime);
  }
}

core::Result<LamportTime> Memberlist::fire_event(std::string name, std::string payload,
                                                 std::uint64_t now_ms) {
  advance_clock(now_ms);
  if (name.empty()) return core::make_error(core::Code::kInvalidArgument, "user event: no name");
  if (name.size() + payload.size() > kUserEventSizeMax) {
    return core::make_error(
        core::Code::kTooLarge,
        "user event exceeds the limit of " + std::to_string(kUserEventSizeMax) + " bytes");
  }
  if (left_) return core::make_error(core::Code::kUnavailable, "left the cluster");
  Message m;
  m.kind = MessageKind::kUserEvent;
  m.ltime = event_clock_.time();
  event_clock_.increment();
  m.topic = std::move(name);
  m.payload = std::move(payload);
  const LamportTime ltime = m.ltime;
  on_user_event(m);
  return ltime;
}

void Memberlist::on_user_event(const Message& m) {
  event_clock_.witness(m.ltime);
  if (accept_user_event(m.ltime, m.topic, m.payload)) broadcast_user(m);
}

bool Memberlist::accept_user_event(LamportTime ltime, const std::string& name,
                                   const std::string& payload) {
  if (ltime < event_min_time_) {
    ++stats_.user_messages_old;
    return false;
  }
  switch (events_seen_.record(ltime, event_id(name, payload), event_clock_.time())) {
    case RecentBuffer::Seen::kTooOld: ++stats_.user_messages_old; return false;
    case RecentBuffer::Seen::kDuplicate: ++stats_.user_messages_duplicate; return false;
    case RecentBuffer::Seen::kNew: break;
  }
  ++stats_.user_events_delivered;
  ready_.user_events.push_back(UserEvent{ltime, name, payload});
  return true;
}

core::Result<QueryStarted> Memberlist::query(std::string name, std::string payload,
                                             std::uint64_t timeout_ms, std::uint32_t relay_factor,
                                             std::uint64_t now_ms) {
  advance_clock(now_ms);
  if (name.empty()) return core::make_error(core::Code::kInvalidArgument, "query: no name");
  if (relay_factor > kQueryRelayFactorMax) {
    return core::make_error(core::Code::kInvalidArgument,
                            "query: relay factor over " + std::to_string(kQueryRelayFactorMax));
  }
  if (timeout_ms == 0) timeout_ms = default_query_timeout_ms();
  if (timeout_ms > kQueryTimeoutMaxMs) {
    return core::make_error(core::Code::kInvalidArgument, "query: timeout too long");
  }
  if (left_) return core::make_error(core::Code::kUnavailable, "left the cluster");
  if (pending_queries_.size() >= kPendingQueriesMax) {
    return core::make_error(core::Code::kUnavailable, "query: too many queries in flight");
  }
  Message m;
  m.kind = MessageKind::kQuery;
  do {
    m.seq = static_cast<QueryId>(rng_.next());
  } while (pending_queries_.count(m.seq) != 0);
  m.ltime = query_clock_.time();
  m.from = config_.name;
  m.addr = config_.addr;
  m.topic = std::move(name);
  m.payload = std::move(payload);
  m.timeout_ms = static_cast<std::uint32_t>(timeout_ms);
  m.relay_factor = relay_factor;
  if (!validate_message(m, Channel::kUdp).empty() ||
      encoded_size_bound({m}) + kPacketOverheadBound > config_.udp_packet_size) {
    return core::make_error(core::Code::kTooLarge, "query exceeds the size limit");
  }
  query_clock_.increment();
  QueryStarted started{m.seq, m.ltime, now_ms_ + timeout_ms};
  pending_queries_[m.seq] = PendingQuery{m.ltime, started.deadline_ms, {}};
  on_query(m);
  return started;
}

void Memberlist::on_query(const Message& m) {
  query_clock_.witness(m.ltime);
  switch (queries_seen_.record(m.ltime, std::to_string(m.seq), query_clock_.time())) {
    case RecentBuffer::Seen::kTooOld: ++stats_.user_messages_old; return;
    case RecentBuffer::Seen::kDuplicate: ++stats_.user_messages_duplicate; return;
    case RecentBuffer::Seen::kNew: break;
  }
  broadcast_user(m);
  ++stats_.queries_delivered;
  QueryRequest q;
  q.id = m.seq;
  q.ltime = m.ltime;
  q.name = m.topic;
  q.payload = m.payload;
  q.origin = m.from;
  q.origin_addr = m.addr;
  q.relay_factor = m.relay_factor;
  // serf's deadline: from when this member got the query, not from when it was sent (the
  // members' clocks are not compared).
  q.deadline_ms = now_ms_ + m.timeout_ms;
  ready_.queries.push_back(std::move(q));
}

core::Status Memberlist::respond(const QueryRequest& q, std::string payload, std::uint64_t now_ms) {
  advance_clock(now_ms);
  if (now_ms_ > q.deadline_ms) {
    return core::make_error(core::Code::kTimeout, "query response is past the deadline");
  }
  if (payload.size() > kQueryResponseSizeMax) {
    return core::make_error(
        core::Code::kTooLarge,
        "query response exceeds the limit of " + std::to_string(kQueryResponseSizeMax) + " bytes");
  }
  Message r;
  r.kind = MessageKind::kQueryResponse;
  r.seq = q.id;
  r.ltime = q.ltime;
  r.from = config_.name;
  r.payload = std::move(payload);
  if (q.origin == config_.name) {
    on_query_response(r);
    return core::ok();
  }
  // Relays get the origin's address and forward the response there once.
  Message relayed = r;
  relayed.addr = q.origin_addr;
  for (const std::string& peer :
       random_members(std::min<std::uint32_t>(q.relay_factor, kQueryRelayFactorMax), 0, q.origin)) {
    if (peer == config_.name) continue;
    send_udp(members_.at(peer).info.addr, {relayed}, /*piggyback=*/false);
  }
  send_udp(q.origin_addr, {std::move(r)});
  return core::ok();
}

void Memberlist::on_query_response(const Message& m) {
  if (!m.addr.empty() && m.addr != config_.addr) {
    // We are a relay: forward once, without the address, so it is not forwarded again.
    Message forward = m;
    forward.addr.clear();
    ++stats_.query_responses_relayed;
    send_udp(m.addr, {std::move(forward)}, /*piggyback=*/false);
    return;
  }
  auto it = pending_queries_.find(m.seq);
  if (it == pending_queries_.end() || it->second.ltime != m.ltime) return;  // late or unknown
  PendingQuery& q = it->second;
  // One response per member: relayed copies and duplicates count once (serf's QueryResponse
  // de-duplicates by the responder's name).
  if (q.responders.size() >= kQueryResponsesMax || !q.responders.insert(m.from).second) return;
  ++stats_.query_responses_received;
  ready_.query_responses.push_back(QueryResponse{m.seq, m.from, m.payload});
}

void Memberlist::tick_queries() {
  for (auto it = pending_queries_.begin(); it != pending_queries_.end();) {
    if (now_ms_ >= it->second.deadline_ms) {
      ready_.queries_done.push_back(it->first);
      it = pending_queries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace pc::gossip
