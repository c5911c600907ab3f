#include "gossip/core/tests/simulation.h"

#include <fmt/core.h>

#include <algorithm>
#include <utility>

namespace pc::gossip::sim {

struct Simulation::Node {
  std::unique_ptr<Memberlist> core;
  bool running = false;
  bool left = false;
};

std::string check_transition(const std::string& observer, const Transition& t, bool left) {
  if (t.is_new) return {};
  if (t.to_incarnation < t.from_incarnation) {
    return fmt::format("{} saw the incarnation of {} go back from {} to {}", observer, t.name,
                       t.from_incarnation, t.to_incarnation);
  }
  if (dead_or_left(t.from_state) && t.to_state == MemberState::kAlive &&
      t.to_incarnation <= t.from_incarnation) {
    return fmt::format("{} brought {} back from {} to alive at the same incarnation {}", observer,
                       t.name, member_state_name(t.from_state), t.to_incarnation);
  }
  if (t.name == observer && t.to_state != MemberState::kAlive && !left) {
    return fmt::format("{} marked itself {}", observer, member_state_name(t.to_state));
  }
  return {};
}

std::string Simulation::name_of(int i) {
  return fmt::format("node-{:04d}.dc1.internal", i);
}

std::string Simulation::addr_of(int i) {
  return fmt::format("10.{}.{}.{}:8301", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

Simulation::Simulation(SimOptions options) : options_(std::move(options)), rng_(options_.seed) {
  for (int i = 0; i < options_.members; ++i) {
    nodes_.push_back(std::make_unique<Node>());
    index_of_addr_[addr_of(i)] = i;
    index_of_name_[name_of(i)] = i;
    names_.push_back(name_of(i));
    addrs_.push_back(addr_of(i));
  }
}

Simulation::~Simulation() = default;

Memberlist& Simulation::member(int i) {
  return *nodes_.at(static_cast<std::size_t>(i))->core;
}

bool Simulation::running(int i) const {
  return nodes_.at(static_cast<std::size_t>(i))->running;
}

void Simulation::mix(std::uint64_t v) {
  // FNV-1a over the bytes of v.
  for (int i = 0; i < 8; ++i) {
    digest_ ^= (v >> (8 * i)) & 0xff;
    digest_ *= 1099511628211ULL;
  }
}

void Simulation::mix(const std::string& s) {
  for (char c : s) {
    digest_ ^= static_cast<std::uint8_t>(c);
    digest_ *= 1099511628211ULL;
  }
  mix(s.size());
}

void Simulation::fail(const std::string& what) {
  if (violation_.empty()) violation_ = fmt::format("at {} ms: {}", now_ms_, what);
}

core::Status Simulation::check() const {
  if (violation_.empty()) return core::ok();
  return core::make_error(core::Code::kInternal,
                          fmt::format("seed={}: {}", options_.seed, violation_));
}

bool Simulation::connected(int a, int b) const {
  if (group_.empty()) return true;
  return group_[static_cast<std::size_t>(a)] == group_[static_cast<std::size_t>(b)];
}

void Simulation::route(int from, Packet packet) {
  std::size_t bytes = encoded_size_bound(packet.messages);
  stats_.bytes_sent += bytes;
  if (packet.channel == Channel::kTcp) stats_.tcp_bytes_sent += bytes;
  auto it = index_of_addr_.find(packet.to);
  bool udp = packet.channel == Channel::kUdp;
  (udp ? stats_.udp_sent : stats_.tcp_sent)++;
  bool lost = it == index_of_addr_.end() || !connected(from, it->second) ||
              (filter_ && filter_(from, it->second, packet.channel)) ||
              (udp && rng_.below(1000) < static_cast<std::uint64_t>(options_.udp_loss_permille));
  if (lost) {
    (udp ? stats_.udp_dropped : stats_.tcp_dropped)++;
    return;
  }
  std::uint64_t latency =
      options_.latency_min_ms + rng_.below(options_.latency_max_ms - options_.latency_min_ms + 1);
  if (!udp) latency *= 2;
  InFlight f;
  f.deliver_at = now_ms_ + std::max<std::uint64_t>(latency, 1);
  f.order = order_++;
  f.from = from;
  f.to = it->second;
  f.channel = packet.channel;
  f.messages = std::move(packet.messages);
  network_.push_back(std::move(f));
  std::push_heap(network_.begin(), network_.end(), Later{});
}

void Simulation::drain(int i) {
  Node& node = *nodes_[static_cast<std::size_t>(i)];
  if (!node.core->has_ready()) return;
  Ready rd = node.core->take_ready();
  const std::string& me = node.core->name();
  for (const UserEvent& e : rd.user_events) mix(e.ltime);
  for (const QueryResponse& r : rd.query_responses) mix(r.from);
  if (on_ready_) on_ready_(i, rd);
  for (const Transition& t : rd.transitions) {
    mix(t.name);
    mix((static_cast<std::uint64_t>(t.to_state) << 32) | t.to_incarnation);
    std::string why = check_transition(me, t, node.left);
    if (!why.empty()) fail(why);
    if (t.to_state == MemberState::kSuspect && !t.is_new) {
      auto it = index_of_name_.find(t.name);
      if (it != index_of_name_.end() && running(it->second) && connected(i, it->second)) {
        ++stats_.false_suspicions;
      }
    }
  }
  for (const Event& e : rd.events) {
    mix(static_cast<std::uint64_t>(e.kind));
    mix(e.member.name);
    if (e.kind == EventKind::kJoin) ++stats_.join_events;
    if (e.kind != EventKind::kFail) continue;
    ++stats_.fail_events;
    auto it = index_of_name_.find(e.member.name);
    if (it != index_of_name_.end() && running(it->second) && connected(i, it->second)) {
      ++stats_.false_failures;
    }
  }
  for (Packet& p : rd.packets) {
    mix(p.to);
    mix(p.messages.size());
    route(i, std::move(p));
  }
}

void Simulation::step() {
  now_ms_ += options_.step_ms;
  while (!network_.empty() && network_.front().deliver_at <= now_ms_) {
    std::pop_heap(network_.begin(), network_.end(), Later{});
    InFlight f = std::move(network_.back());
    network_.pop_back();
    Node& to = *nodes_[static_cast<std::size_t>(f.to)];
    // A partition or a crash that happened while the packet was in flight drops it too.
    if (!to.running || !connected(f.from, f.to)) continue;
    if (filter_ && filter_(f.from, f.to, f.channel)) continue;
    mix(f.order);
    core::Status st =
        to.core->receive(addrs_[static_cast<std::size_t>(f.from)], f.channel, f.messages, now_ms_);
    if (!st) fail("a core refused a well-formed packet: " + st.error().message);
    drain(f.to);
  }
  for (int i = 0; i < size(); ++i) {
    Node& node = *nodes_[static_cast<std::size_t>(i)];
    if (!node.running) continue;
    node.core->tick(now_ms_);
    drain(i);
  }
}

core::Result<std::uint64_t> Simulation::bootstrap(std::uint64_t limit_ms) {
  std::uint64_t start = now_ms_;
  constexpr std::uint64_t kStaggerMs = 5;
  int started = 0;
  // converged() is O(n^2): look every 100 ms of simulated time, not every step.
  std::uint64_t next_check = 0;
  while (true) {
    if (started == size() && now_ms_ >= next_check) {
      if (converged()) break;
      next_check = now_ms_ + 100;
    }
    if (now_ms_ - start > limit_ms) {
      return core::make_error(core::Code::kTimeout,
                              fmt::format("seed={}: no convergence after {} ms ({} started)",
                                          options_.seed, limit_ms, started));
    }
    while (started < size() &&
           now_ms_ >= start + kStaggerMs * static_cast<std::uint64_t>(started)) {
      Config c = options_.base;
      c.name = name(started);
      c.addr = addr(started);
      c.meta = std::string(options_.meta_bytes, static_cast<char>('a' + started % 26));
      c.seed = rng_.next();
      c.record_transitions = true;
      Node& node = *nodes_[static_cast<std::size_t>(started)];
      node.core = std::make_unique<Memberlist>(c, now_ms_);
      node.running = true;
      if (started > 0) node.core->join({addr(0)}, now_ms_);
      drain(started);
      ++started;
    }
    step();
  }
  return now_ms_ - start;
}

void Simulation::run_for(std::uint64_t ms) {
  std::uint64_t end = now_ms_ + ms;
  while (now_ms_ < end) step();
}

std::optional<std::uint64_t> Simulation::run_until(const std::function<bool()>& done,
                                                   std::uint64_t limit_ms,
                                                   std::uint64_t check_every_ms) {
  std::uint64_t start = now_ms_;
  std::uint64_t next_check = now_ms_;
  while (now_ms_ - start <= limit_ms) {
    if (now_ms_ >= next_check) {
      if (done()) return now_ms_ - start;
      next_check = now_ms_ + check_every_ms;
    }
    step();
  }
  return std::nullopt;
}

void Simulation::stop(int i) {
  nodes_.at(static_cast<std::size_t>(i))->running = false;
}

void Simulation::leave(int i) {
  nodes_.at(static_cast<std::size_t>(i))->left = true;
  member(i).leave(now_ms_);
  drain(i);
}

void Simulation::partition(const std::vector<int>& group_of_member) {
  group_ = group_of_member;
  group_.resize(nodes_.size(), 0);
}

void Simulation::heal() {
  group_.clear();
}

core::Status Simulation::inject(int to, const std::string& from_addr, Channel channel,
                                const std::vector<Message>& messages) {
  core::Status st = member(to).receive(from_addr, channel, messages, now_ms_);
  drain(to);
  return st;
}

bool Simulation::all_see(int subject, MemberState state) const {
  const std::string& name = names_[static_cast<std::size_t>(subject)];
  for (int i = 0; i < size(); ++i) {
    const Node& node = *nodes_[static_cast<std::size_t>(i)];
    if (!node.running || i == subject) continue;
    const MemberInfo* m = node.core->find_member(name);
    if (m == nullptr || m->state != state) return false;
  }
  return true;
}

bool Simulation::converged() const {
  for (int i = 0; i < size(); ++i) {
    const Node& node = *nodes_[static_cast<std::size_t>(i)];
    if (!node.running) continue;
    for (int j = 0; j < size(); ++j) {
      const Node& other = *nodes_[static_cast<std::size_t>(j)];
      if (other.core == nullptr) return false;  // not started yet
      const MemberInfo* m = node.core->find_member(names_[static_cast<std::size_t>(j)]);
      if (other.running) {
        if (m == nullptr || m->state != MemberState::kAlive) return false;
      } else if (m && !dead_or_left(m->state)) {
        return false;
      }
    }
  }
  return true;
}

int Simulation::degraded_members() const {
  int n = 0;
  for (const auto& node : nodes_) {
    if (node->running && node->core->health_score() > 0) ++n;
  }
  return n;
}

}  // namespace pc::gossip::sim
