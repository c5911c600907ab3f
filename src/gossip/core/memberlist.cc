#include "gossip/core/memberlist.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace pc::gossip {

namespace {

// Filters for random_members().
constexpr int kFilterAlive = 0;        // alive only (indirect probers, push-pull partners)
constexpr int kFilterGossip = 1;       // alive, suspect, or dead/left within gossip-to-the-dead
constexpr int kFilterDeadNotLeft = 2;  // failed members (reconnect)

Message alive_message(const MemberInfo& m) {
  Message a;
  a.kind = MessageKind::kAlive;
  a.node = m.name;
  a.addr = m.addr;
  a.meta = m.meta;
  a.incarnation = m.incarnation;
  return a;
}

Message state_message(MessageKind kind, Incarnation inc, const std::string& node,
                      const std::string& from) {
  Message m;
  m.kind = kind;
  m.incarnation = inc;
  m.node = node;
  m.from = from;
  return m;
}

}  // namespace

std::string_view event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kJoin: return "join";
    case EventKind::kUpdate: return "update";
    case EventKind::kLeave: return "leave";
    case EventKind::kFail: return "fail";
  }
  return "unknown";
}

Memberlist::Memberlist(Config config, std::uint64_t now_ms)
    : config_(std::move(config)),
      now_ms_(now_ms),
      rng_(config_.seed),
      awareness_(config_.awareness_max_multiplier) {
  core::Status valid = validate(config_);
  PC_ASSERT(valid, "{}", valid ? "" : valid.error().message);
  // Ourselves, alive at incarnation 1 (memberlist's first nextIncarnation()).
  Message a;
  a.kind = MessageKind::kAlive;
  a.node = config_.name;
  a.addr = config_.addr;
  a.meta = config_.meta;
  a.incarnation = 1;
  on_alive(a, /*bootstrap=*/true);
  // Stagger the timers (memberlist waits a random fraction of each interval first) so
  // members started together do not probe and gossip in lockstep.
  next_probe_ms_ = now_ms + rng_.below(config_.probe_interval_ms);
  next_gossip_ms_ = now_ms + rng_.below(config_.gossip_interval_ms);
  next_push_pull_ms_ = now_ms + rng_.below(config_.push_pull_interval_ms);
  next_reconnect_ms_ =
      config_.reconnect_interval_ms > 0 ? now_ms + config_.reconnect_interval_ms : UINT64_MAX;
}

Memberlist::Member& Memberlist::self() {
  auto it = members_.find(config_.name);
  PC_ASSERT(it != members_.end(), "no self member");
  return it->second;
}

const Memberlist::Member& Memberlist::self() const {
  auto it = members_.find(config_.name);
  PC_ASSERT(it != members_.end(), "no self member");
  return it->second;
}

Incarnation Memberlist::incarnation() const {
  return self().info.incarnation;
}

void Memberlist::advance_clock(std::uint64_t now_ms) {
  PC_ASSERT(now_ms >= now_ms_, "the clock went back: {} < {}", now_ms, now_ms_);
  now_ms_ = now_ms;
}

std::optional<MemberInfo> Memberlist::member(const std::string& name) const {
  auto it = members_.find(name);
  if (it == members_.end()) return std::nullopt;
  return it->second.info;
}

const MemberInfo* Memberlist::find_member(const std::string& name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second.info;
}

std::vector<MemberInfo> Memberlist::members() const {
  std::vector<MemberInfo> out;
  out.reserve(members_.size());
  for (const auto& [name, m] : members_) out.push_back(m.info);
  std::sort(out.begin(), out.end(),
            [](const MemberInfo& a, const MemberInfo& b) { return a.name < b.name; });
  return out;
}

std::size_t Memberlist::count_in_state(MemberState state) const {
  std::size_t n = 0;
  for (const auto& [name, m] : members_) n += m.info.state == state ? 1 : 0;
  return n;
}

std::optional<Memberlist::SuspicionInfo> Memberlist::suspicion(const std::string& name) const {
  auto it = members_.find(name);
  if (it == members_.end() || !it->second.suspicion) return std::nullopt;
  const Suspicion& s = *it->second.suspicion;
  return SuspicionInfo{s.confirmations(), s.expected(), s.deadline_ms()};
}

bool Memberlist::has_ready() const {
  return !ready_.packets.empty() || !ready_.events.empty() || !ready_.transitions.empty() ||
         !ready_.ack_samples.empty() || !ready_.user_events.empty() || !ready_.queries.empty() ||
         !ready_.query_responses.empty() || !ready_.queries_done.empty();
}

Ready Memberlist::take_ready() {
  Ready out = std::move(ready_);
  ready_ = Ready{};
  return out;
}

std::uint64_t Memberlist::next_deadline_ms() const {
  std::uint64_t t = std::min({next_gossip_ms_, next_push_pull_ms_, next_reconnect_ms_});
  if (probe_) {
    t = std::min(t, probe_->indirect_sent ? probe_->deadline_ms : probe_->timeout_ms);
  } else {
    t = std::min(t, next_probe_ms_);
  }
  t = std::min(t, suspicion_check_ms_);
  for (const auto& [seq, r] : relays_) t = std::min(t, r.nack ? r.nack_ms : r.expires_ms);
  for (const auto& [id, q] : pending_queries_) t = std::min(t, q.deadline_ms);
  return std::max(t, now_ms_);
}

// ---- sending ----

int Memberlist::retransmit_limit_now() const {
  return retransmit_limit(config_.retransmit_mult, live_);
}

void Memberlist::send_udp(const std::string& to, std::vector<Message> messages, bool piggyback) {
  // Piggyback what fits (SWIM's infection-style dissemination on the probe traffic).
  std::size_t used = encoded_size_bound(messages);
  if (piggyback && used < config_.udp_packet_size && messages.size() < kMessagesPerPacketMax) {
    std::vector<Message> extra =
        broadcasts_.take(config_.udp_packet_size - used, retransmit_limit_now());
    for (Message& m : extra) {
      if (messages.size() >= kMessagesPerPacketMax) break;
      messages.push_back(std::move(m));
    }
  }
  if (messages.empty()) return;
  ++stats_.udp_packets_sent;
  stats_.udp_bytes_sent += encoded_size_bound(messages);
  ready_.packets.push_back(Packet{to, Channel::kUdp, std::move(messages)});
}

void Memberlist::send_tcp(const std::string& to, std::vector<Message> messages) {
  ++stats_.tcp_messages_sent;
  stats_.tcp_bytes_sent += encoded_size_bound(messages);
  ready_.packets.push_back(Packet{to, Channel::kTcp, std::move(messages)});
}

void Memberlist::broadcast(Message m) {
  broadcasts_.push(std::move(m));
}

std::vector<std::string> Memberlist::random_members(std::size_t k, int filter_kind,
                                                    const std::string& exclude) {
  // memberlist's kRandomNodes: random picks, at most 3n tries, so a large table costs no
  // full scan.
  std::vector<std::string> out;
  std::size_t n = probe_order_.size();
  if (n == 0 || k == 0) return out;
  for (std::size_t tries = 0; tries < 3 * n && out.size() < k; ++tries) {
    const std::string& name = probe_order_[rng_.below(n)];
    if (name == config_.name || name == exclude) continue;
    const MemberInfo& m = members_.at(name).info;
    bool ok = false;
    switch (filter_kind) {
      case kFilterAlive: ok = m.state == MemberState::kAlive; break;
      case kFilterGossip:
        ok = !dead_or_left(m.state) || now_ms_ - m.state_change_ms < config_.gossip_to_the_dead_ms;
        break;
      case kFilterDeadNotLeft: ok = m.state == MemberState::kDead; break;
      default: PC_UNREACHABLE("filter {}", filter_kind);
    }
    if (!ok) continue;
    if (std::find(out.begin(), out.end(), name) != out.end()) continue;
    out.push_back(name);
  }
  return out;
}

// ---- state changes ----

void Memberlist::set_state(Member& m, MemberState state, Incarnation inc, bool is_new) {
  MemberInfo& info = m.info;
  if (!is_new) {
    PC_ASSERT(inc >= info.incarnation, "incarnation of {} going back: {} -> {}", info.name,
              info.incarnation, inc);
    PC_ASSERT(!(dead_or_left(info.state) && state == MemberState::kAlive) || inc > info.incarnation,
              "{} back to alive from {} without a higher incarnation ({})", info.name,
              member_state_name(info.state), inc);
  }
  bool was_live = !is_new && !dead_or_left(info.state);
  bool is_live = !dead_or_left(state);
  if (config_.record_transitions) {
    ready_.transitions.push_back(
        Transition{info.name, is_new, info.state, info.incarnation, state, inc, now_ms_});
  }
  if (is_new || info.state != state) info.state_change_ms = now_ms_;
  info.state = state;
  info.incarnation = inc;
  if (was_live && !is_live) --live_;
  if (!was_live && is_live) ++live_;
}

void Memberlist::emit_event(EventKind kind, const Member& m) {
  ready_.events.push_back(Event{kind, m.info});
}

void Memberlist::on_alive(const Message& a, bool bootstrap) {
  auto it = members_.find(a.node);
  bool is_new = it == members_.end();
  if (is_new) {
    if (members_.size() >= kMembersMax) return;
    Member m;
    m.info.name = a.node;
    m.info.addr = a.addr;
    m.info.meta = a.meta;
    m.info.state = MemberState::kDead;  // so the first alive is a join
    it = members_.emplace(a.node, std::move(m)).first;
    // A random place in the probe order, so a new member is not always probed last.
    std::size_t at = probe_order_.empty() ? 0 : rng_.below(probe_order_.size() + 1);
    probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(at), a.node);
    if (at < probe_index_) ++probe_index_;  // keep the round's position
  }
  Member& m = it->second;
  bool is_self = a.node == config_.name;
  if (is_self && !bootstrap) {
    // Someone speaks of us. Older news is harmless; the same incarnation with other data (a
    // previous run of ours with another meta or address), or a newer one, we refute.
    if (left_ || a.incarnation < m.info.incarnation) return;
    if (a.incarnation == m.info.incarnation && a.meta == m.info.meta && a.addr == m.info.addr)
      return;
    refute(a.incarnation);
    return;
  }
  if (!is_new) {
    if (a.incarnation <= m.info.incarnation && !bootstrap) return;
    if (a.addr != m.info.addr && !dead_or_left(m.info.state)) {
      // Two live processes claim the name: keep the one we know (memberlist logs a conflict).
      ++stats_.address_conflicts;
      return;
    }
  }
  if (m.suspicion) {
    m.suspicion.reset();
    suspects_.erase(a.node);
  }
  broadcast(a);
  MemberState old_state = m.info.state;
  bool changed = m.info.meta != a.meta || m.info.addr != a.addr;
  m.info.meta = a.meta;
  m.info.addr = a.addr;
  set_state(m, MemberState::kAlive, a.incarnation, is_new);
  if (is_new || dead_or_left(old_state)) {
    emit_event(EventKind::kJoin, m);
  } else if (changed) {
    emit_event(EventKind::kUpdate, m);
  }
}

void Memberlist::on_suspect(Incarnation inc, const std::string& node, const std::string& from) {
  auto it = members_.find(node);
  if (it == members_.end()) return;
  Member& m = it->second;
  if (inc < m.info.incarnation) return;  // old news
  if (m.suspicion) {
    // Lifeguard: each independent confirmation shortens the timeout; pass it on so others
    // count it too.
    if (m.suspicion->confirm(from)) {
      suspicion_check_ms_ = std::min(suspicion_check_ms_, m.suspicion->deadline_ms());
      broadcast(state_message(MessageKind::kSuspect, inc, node, from));
    }
    return;
  }
  if (m.info.state != MemberState::kAlive) return;
  if (node == config_.name) {
    refute(inc);
    return;
  }
  broadcast(state_message(MessageKind::kSuspect, inc, node, from));
  set_state(m, MemberState::kSuspect, inc, false);
  ++stats_.suspicions;
  // Expect SuspicionMult - 2 confirmations when the cluster is big enough to give them.
  int n = static_cast<int>(live_);
  int k = config_.suspicion_mult - 2;
  if (n - 2 < k) k = 0;
  std::uint64_t min_ms =
      suspicion_timeout_ms(config_.suspicion_mult, live_, config_.probe_interval_ms);
  std::uint64_t max_ms = min_ms * static_cast<std::uint64_t>(config_.suspicion_max_timeout_mult);
  m.suspicion.emplace(from, k, min_ms, max_ms, now_ms_);
  suspects_.insert(node);
  suspicion_check_ms_ = std::min(suspicion_check_ms_, m.suspicion->deadline_ms());
}

void Memberlist::on_dead(Incarnation inc, const std::string& node, const std::string& from) {
  auto it = members_.find(node);
  if (it == members_.end()) return;
  Member& m = it->second;
  if (inc < m.info.incarnation) return;
  if (m.suspicion) {
    m.suspicion.reset();
    suspects_.erase(node);
  }
  bool graceful = from == node;
  // A leave in the member's name about one we hold dead turns it left (serf: a leave intent
  // for a failed member): a forced leave, or its own leave heard after we declared it dead.
  if (dead_or_left(m.info.state) && !(graceful && m.info.state == MemberState::kDead)) return;
  if (node == config_.name && !left_) {
    refute(inc);
    return;
  }
  broadcast(state_message(MessageKind::kDead, inc, node, from));
  set_state(m, graceful ? MemberState::kLeft : MemberState::kDead, inc, false);
  emit_event(graceful ? EventKind::kLeave : EventKind::kFail, m);
}

void Memberlist::refute(Incarnation accused) {
  Member& me = self();
  Incarnation inc = me.info.incarnation + 1;
  if (accused >= inc) inc = accused + 1;
  ++stats_.refutations;
  // Lifeguard: having to refute means others could not reach us in time: a sign that we
  // may be the slow one, so slow down our own judgements.
  awareness_.apply_delta(1);
  set_state(me, MemberState::kAlive, inc, false);
  broadcast(alive_message(me.info));
}

// ---- probing ----

void Memberlist::reset_probe_order() {
  // Forget members failed or left long ago (serf's reconnect and tombstone timeouts), then
  // reshuffle (memberlist's resetNodes).
  std::vector<std::string> keep;
  keep.reserve(probe_order_.size());
  for (const std::string& name : probe_order_) {
    const MemberInfo& m = members_.at(name).info;
    std::uint64_t age = now_ms_ - m.state_change_ms;
    bool forget = (m.state == MemberState::kDead && age > config_.reconnect_timeout_ms) ||
                  (m.state == MemberState::kLeft && age > config_.tombstone_timeout_ms);
    if (forget && name != config_.name) {
      members_.erase(name);
      ready_.forgotten.push_back(name);
      continue;
    }
    keep.push_back(name);
  }
  probe_order_ = std::move(keep);
  for (std::size_t i = probe_order_.size(); i > 1; --i) {
    std::swap(probe_order_[i - 1], probe_order_[rng_.below(i)]);
  }
  probe_index_ = 0;
}

bool Memberlist::next_probe_target(std::string& target) {
  // One pass over the order, and one more after a reshuffle if the first ran off the end.
  std::size_t checked = 0;
  bool reset = false;
  while (checked < probe_order_.size() + 1) {
    if (probe_index_ >= probe_order_.size()) {
      if (reset) return false;
      reset_probe_order();
      reset = true;
      checked = 0;
      continue;
    }
    const std::string& name = probe_order_[probe_index_++];
    ++checked;
    if (name == config_.name) continue;
    if (dead_or_left(members_.at(name).info.state)) continue;
    target = name;
    return true;
  }
  return false;
}

void Memberlist::start_probe() {
  std::string target;
  if (!next_probe_target(target)) return;
  const MemberInfo& t = members_.at(target).info;
  Probe p;
  p.seq = next_seq_++;
  p.target = target;
  p.incarnation = t.incarnation;
  p.timeout_ms = now_ms_ + awareness_.scale(config_.probe_timeout_ms);
  p.deadline_ms = now_ms_ + awareness_.scale(config_.probe_interval_ms);
  ++stats_.probes;
  Message ping;
  ping.kind = MessageKind::kPing;
  ping.seq = p.seq;
  ping.node = target;
  ping.from = config_.name;
  std::vector<Message> msgs{ping};
  // Lifeguard's buddy system: tell a suspect member at once that it is suspected, so it can
  // refute even if the suspicion's gossip has not reached it.
  if (t.state == MemberState::kSuspect) {
    msgs.push_back(state_message(MessageKind::kSuspect, t.incarnation, target, config_.name));
  }
  std::string addr = t.addr;
  probe_ = std::move(p);
  send_udp(addr, std::move(msgs));
}

void Memberlist::send_indirect_probes() {
  Probe& p = *probe_;
  p.indirect_sent = true;
  auto it = members_.find(p.target);
  if (it == members_.end()) return;
  const MemberInfo& t = it->second.info;
  std::vector<std::string> peers =
      random_members(static_cast<std::size_t>(config_.indirect_checks), kFilterAlive, p.target);
  for (const std::string& peer : peers) {
    Message req;
    req.kind = MessageKind::kIndirectPing;
    req.seq = p.seq;
    req.node = t.name;
    req.addr = t.addr;
    req.nack = true;
    ++p.expected_nacks;
    ++stats_.indirect_probes;
    send_udp(members_.at(peer).info.addr, {req});
  }
  if (config_.tcp_ping_fallback) {
    // The runtime gives up on the connection at the probe's deadline.
    Message ping;
    ping.kind = MessageKind::kPing;
    ping.seq = p.seq;
    ping.node = t.name;
    ping.from = config_.name;
    ++stats_.tcp_pings;
    send_tcp(t.addr, {ping});
  }
}

void Memberlist::finish_probe(bool acked) {
  Probe p = std::move(*probe_);
  probe_.reset();
  if (acked) {
    awareness_.apply_delta(-1);
    return;
  }
  ++stats_.probe_failures;
  // Lifeguard: missing nacks mean the fault may be ours (our packets do not get out, or we
  // are too slow to see the answers); with no nacking peers, any failure counts.
  int delta = 1;
  if (p.expected_nacks > 0) delta = std::max(0, p.expected_nacks - p.nacks);
  awareness_.apply_delta(delta);
  on_suspect(p.incarnation, p.target, config_.name);
}

void Memberlist::tick_probe() {
  if (probe_ && !probe_->indirect_sent && now_ms_ >= probe_->timeout_ms) send_indirect_probes();
  if (probe_ && now_ms_ >= probe_->deadline_ms) finish_probe(false);
  if (!probe_ && now_ms_ >= next_probe_ms_ && !left_) {
    // A fixed ticker that skips the ticks a long (failed, health-scaled) probe ran over.
    while (next_probe_ms_ <= now_ms_) next_probe_ms_ += config_.probe_interval_ms;
    start_probe();
  }
}

// ---- timers ----

void Memberlist::tick_suspicions() {
  if (now_ms_ < suspicion_check_ms_) return;
  std::vector<std::string> due;
  suspicion_check_ms_ = UINT64_MAX;
  for (const std::string& name : suspects_) {
    std::uint64_t deadline = members_.at(name).suspicion->deadline_ms();
    if (deadline <= now_ms_) {
      due.push_back(name);
    } else {
      suspicion_check_ms_ = std::min(suspicion_check_ms_, deadline);
    }
  }
  for (const std::string& name : due) {
    Member& m = members_.at(name);
    if (m.info.state != MemberState::kSuspect) continue;
    ++stats_.deaths_declared;
    on_dead(m.info.incarnation, name, config_.name);
  }
}

void Memberlist::tick_relays() {
  for (auto it = relays_.begin(); it != relays_.end();) {
    Relay& r = it->second;
    if (r.nack && now_ms_ >= r.nack_ms) {
      r.nack = false;
      Message nack;
      nack.kind = MessageKind::kNack;
      nack.seq = r.requester_seq;
      ++stats_.nacks_sent;
      send_udp(r.requester_addr, {nack});
    }
    if (now_ms_ >= r.expires_ms) {
      it = relays_.erase(it);
    } else {
      ++it;
    }
  }
}

void Memberlist::gossip() {
  std::vector<std::string> targets =
      random_members(static_cast<std::size_t>(config_.gossip_nodes), kFilterGossip, "");
  for (const std::string& name : targets) {
    std::vector<Message> msgs =
        broadcasts_.take(config_.udp_packet_size - kPacketOverheadBound, retransmit_limit_now());
    if (msgs.empty()) return;
    if (msgs.size() > kMessagesPerPacketMax) msgs.resize(kMessagesPerPacketMax);
    // Already full of broadcasts: taking more would put the same ones in twice.
    send_udp(members_.at(name).info.addr, std::move(msgs), /*piggyback=*/false);
  }
}

std::vector<MemberSnapshot> Memberlist::local_state() const {
  std::vector<MemberSnapshot> out;
  out.reserve(members_.size());
  for (const std::string& name : probe_order_) {
    const MemberInfo& m = members_.at(name).info;
    out.push_back(MemberSnapshot{m.name, m.addr, m.meta, m.incarnation, m.state});
  }
  return out;
}

void Memberlist::merge_state(const std::vector<MemberSnapshot>& states) {
  for (const MemberSnapshot& s : states) {
    switch (s.state) {
      case MemberState::kAlive: {
        Message a;
        a.kind = MessageKind::kAlive;
        a.node = s.name;
        a.addr = s.addr;
        a.meta = s.meta;
        a.incarnation = s.incarnation;
        on_alive(a, false);
        break;
      }
      case MemberState::kLeft: on_dead(s.incarnation, s.name, s.name); break;
      case MemberState::kDead:
      case MemberState::kSuspect:
        // A remote verdict of death is only a suspicion here: our own timer decides, and
        // the member gets its chance to refute.
        on_suspect(s.incarnation, s.name, config_.name);
        break;
    }
  }
}

void Memberlist::push_pull_random() {
  std::vector<std::string> peer = random_members(1, kFilterAlive, "");
  if (peer.empty()) return;
  Message pp;
  pp.kind = MessageKind::kPushPull;
  pp.states = local_state();
  stamp_serf_state(pp);
  ++stats_.push_pulls;
  send_tcp(members_.at(peer[0]).info.addr, {std::move(pp)});
}

void Memberlist::reconnect() {
  std::size_t failed = 0;
  for (const auto& [name, m] : members_) failed += m.info.state == MemberState::kDead ? 1 : 0;
  if (failed == 0) return;
  // serf: with probability failed/alive, so a few failures do not make everyone dial.
  std::uint64_t alive = std::max<std::size_t>(live_, 1);
  if (rng_.below(alive * 1000) >= failed * 1000) return;
  std::vector<std::string> peer = random_members(1, kFilterDeadNotLeft, "");
  if (peer.empty()) return;
  ++stats_.reconnects;
  join({members_.at(peer[0]).info.addr}, now_ms_);
  // Not the owner's join: events from before the reconnect still count (serf ignores old
  // events only on the Join its owner asks for).
  --join_replies_pending_;
}

void Memberlist::join(const std::vector<std::string>& addrs, std::uint64_t now_ms) {
  advance_clock(now_ms);
  join_replies_pending_ += addrs.size();
  for (const std::string& addr : addrs) {
    Message pp;
    pp.kind = MessageKind::kPushPull;
    pp.join = true;
    pp.states = local_state();
    stamp_serf_state(pp);
    ++stats_.push_pulls;
    send_tcp(addr, {std::move(pp)});
  }
}

void Memberlist::tick(std::uint64_t now_ms) {
  advance_clock(now_ms);
  tick_probe();
  tick_suspicions();
  tick_relays();
  tick_queries();
  if (now_ms_ >= next_gossip_ms_) {
    while (next_gossip_ms_ <= now_ms_) next_gossip_ms_ += config_.gossip_interval_ms;
    gossip();
  }
  if (now_ms_ >= next_push_pull_ms_) {
    next_push_pull_ms_ =
        now_ms_ + push_pull_interval_scaled_ms(config_.push_pull_interval_ms, live_);
    if (!left_) push_pull_random();
  }
  if (now_ms_ >= next_reconnect_ms_) {
    next_reconnect_ms_ = now_ms_ + config_.reconnect_interval_ms;
    if (!left_) reconnect();
  }
}

// ---- receiving ----

core::Status Memberlist::receive(const std::string& from_addr, Channel channel,
                                 const std::vector<Message>& messages, std::uint64_t now_ms) {
  advance_clock(now_ms);
  if (messages.size() > kMessagesPerPacketMax) {
    ++stats_.rejected_messages;
    return core::make_error(core::Code::kInvalidArgument, "gossip packet: too many messages");
  }
  for (const Message& m : messages) {
    std::string why = validate_message(m, channel);
    if (!why.empty()) {
      ++stats_.rejected_messages;
      return core::make_error(core::Code::kInvalidArgument,
                              "gossip " + std::string(message_kind_name(m.kind)) + ": " + why);
    }
  }
  for (const Message& m : messages) on_message(from_addr, channel, m);
  return core::ok();
}

void Memberlist::on_ping(const std::string& from_addr, Channel channel, const Message& m) {
  if (!m.node.empty() && m.node != config_.name) {
    // Meant for a member that used to have our address.
    ++stats_.rejected_messages;
    return;
  }
  Message ack;
  ack.kind = MessageKind::kAck;
  ack.seq = m.seq;
  // Only a datagram ack can be an RTT sample (the prober sends its TCP ping after the direct
  // window); memberlist's TCP acks carry no payload either.
  if (channel == Channel::kUdp) ack.coordinate = coordinate_;
  if (channel == Channel::kTcp) {
    send_tcp(from_addr, {ack});
  } else {
    send_udp(from_addr, {ack});
  }
}

void Memberlist::on_indirect_ping(const std::string& from_addr, const Message& m) {
  if (relays_.size() >= kRelaysMax) {
    ++stats_.relays_refused;
    return;
  }
  SeqNo seq = next_seq_++;
  // The nack must reach the prober before its deadline: it sent this request one probe
  // timeout into its probe and waits one probe interval in all (both scaled by its health),
  // so it has interval - timeout (500 ms by default) left for our answer. memberlist nacks
  // after a full probe timeout, which lands at that deadline and races it; we nack at 80 %
  // of it and still forward a late ack until the full timeout.
  relays_[seq] = Relay{from_addr, m.seq, m.nack, now_ms_ + config_.probe_timeout_ms * 4 / 5,
                       now_ms_ + config_.probe_timeout_ms};
  Message ping;
  ping.kind = MessageKind::kPing;
  ping.seq = seq;
  ping.node = m.node;
  ping.from = config_.name;
  send_udp(m.addr, {ping});
}

void Memberlist::on_ack(const Message& m) {
  if (probe_ && probe_->seq == m.seq) {
    // Only an ack within the direct window is an RTT sample, as in memberlist: later ones
    // may be the TCP fallback's or have waited behind a slow path.
    if (m.coordinate && !probe_->indirect_sent) {
      ready_.ack_samples.push_back(AckSample{probe_->target, m.seq, *m.coordinate});
    }
    finish_probe(true);
    return;
  }
  auto it = relays_.find(m.seq);
  if (it == relays_.end()) return;  // late or unknown: harmless
  Message ack;
  ack.kind = MessageKind::kAck;
  ack.seq = it->second.requester_seq;
  std::string to = it->second.requester_addr;
  relays_.erase(it);
  send_udp(to, {ack});
}

void Memberlist::on_message(const std::string& from_addr, Channel channel, const Message& m) {
  switch (m.kind) {
    case MessageKind::kPing: on_ping(from_addr, channel, m); return;
    case MessageKind::kIndirectPing: on_indirect_ping(from_addr, m); return;
    case MessageKind::kAck: on_ack(m); return;
    case MessageKind::kNack:
      if (probe_ && probe_->seq == m.seq) {
        ++probe_->nacks;
        ++stats_.nacks_received;
      }
      return;
    case MessageKind::kAlive: on_alive(m, false); return;
    case MessageKind::kSuspect: on_suspect(m.incarnation, m.node, m.from); return;
    case MessageKind::kDead: on_dead(m.incarnation, m.node, m.from); return;
    case MessageKind::kPushPull:
      if (!m.reply && !left_) {
        Message pp;
        pp.kind = MessageKind::kPushPull;
        pp.reply = true;
        pp.join = m.join;  // tells a joiner this reply answers its join
        pp.states = local_state();
        stamp_serf_state(pp);
        send_tcp(from_addr, {std::move(pp)});
      }
      on_push_pull_clocks(m);
      merge_state(m.states);
      merge_events(m);
      return;
    case MessageKind::kUserEvent: on_user_event(m); return;
    case MessageKind::kQuery: on_query(m); return;
    case MessageKind::kQueryResponse: on_query_response(m); return;
  }
}

// ---- owner calls ----

void Memberlist::leave(std::uint64_t now_ms) {
  advance_clock(now_ms);
  if (left_) return;
  left_ = true;
  probe_.reset();
  Member& me = self();
  on_dead(me.info.incarnation, config_.name, config_.name);
}

bool Memberlist::leave_broadcast_done() const {
  return left_ && !broadcasts_.contains(config_.name);
}

core::Result<MemberState> Memberlist::force_leave(const std::string& name, bool prune,
                                                  std::uint64_t now_ms) {
  advance_clock(now_ms);
  auto it = members_.find(name);
  if (it == members_.end()) {
    return core::make_error(core::Code::kNotFound, "no member named " + name);
  }
  if (name == config_.name) {
    return core::make_error(core::Code::kInvalidArgument, "cannot force-leave ourselves");
  }
  Member& m = it->second;
  if (m.info.state == MemberState::kDead) on_dead(m.info.incarnation, name, name);
  const MemberState state = m.info.state;
  if (prune && state == MemberState::kLeft) forget(name);
  return state;
}

// Drops a member that left from every table (serf's prune); its broadcast, if still queued,
// goes out as it is.
void Memberlist::forget(const std::string& name) {
  auto at = std::find(probe_order_.begin(), probe_order_.end(), name);
  if (at != probe_order_.end()) {
    const auto index = static_cast<std::size_t>(at - probe_order_.begin());
    probe_order_.erase(at);
    if (index < probe_index_) --probe_index_;
  }
  if (probe_ && probe_->target == name) probe_.reset();
  suspects_.erase(name);
  members_.erase(name);
  ready_.forgotten.push_back(name);
}

core::Status Memberlist::set_meta(std::string meta, std::uint64_t now_ms) {
  advance_clock(now_ms);
  if (meta.size() > kMetaSizeMax) {
    return core::make_error(core::Code::kTooLarge, "gossip meta over 512 bytes");
  }
  if (left_) return core::make_error(core::Code::kUnavailable, "left the cluster");
  Member& me = self();
  me.info.meta = std::move(meta);
  config_.meta = me.info.meta;
  set_state(me, MemberState::kAlive, me.info.incarnation + 1, false);
  broadcast(alive_message(me.info));
  emit_event(EventKind::kUpdate, me);
  return core::ok();
}

core::Status Memberlist::set_coordinate(std::optional<Coordinate> coordinate) {
  if (coordinate) {
    std::string why = coordinate_problem(*coordinate);
    if (!why.empty()) return core::make_error(core::Code::kInvalidArgument, "gossip " + why);
  }
  coordinate_ = std::move(coordinate);
  return core::ok();
}

}  // namespace pc::gossip
