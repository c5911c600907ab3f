#include "consensus/core/tests/simulation.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <utility>

#include "lincheck/checker.h"
#include "lincheck/format.h"
#include "lincheck/history_writer.h"

namespace pc::consensus::raft::sim {

using core::Code;
using core::make_error;

constexpr std::uint64_t kAll = std::numeric_limits<std::uint64_t>::max();
// History times: a substep is a million "nanoseconds", so reports print it as 1 ms.
constexpr std::uint64_t kNanosPerSubstep = 1'000'000;

std::string encode_payloads(const std::vector<std::string>& payloads) {
  std::string out;
  for (const std::string& p : payloads) {
    auto n = static_cast<std::uint32_t>(p.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out.append(p);
  }
  return out;
}

std::vector<std::string> decode_payloads(const std::string& data) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at + 4 <= data.size()) {
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
      n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[at + i])) << (8 * i);
    at += 4;
    out.push_back(data.substr(at, n));
    at += n;
  }
  return out;
}

std::string encode_command(const KvCommand& c) {
  switch (c.kind) {
    case 'd': return fmt::format("op {} d {}", c.id, c.key);
    case 'c':
      return fmt::format("op {} c {} {} {}", c.id, c.key, c.expected.value_or("-"), *c.value);
    default: return fmt::format("op {} w {} {}", c.id, c.key, *c.value);
  }
}

std::optional<KvCommand> decode_command(const std::string& payload) {
  std::vector<std::string> words;
  std::size_t at = 0;
  while (at <= payload.size()) {
    std::size_t space = payload.find(' ', at);
    if (space == std::string::npos) space = payload.size();
    words.push_back(payload.substr(at, space - at));
    at = space + 1;
  }
  if (words.size() < 4 || words[0] != "op" || words[2].size() != 1) return std::nullopt;
  KvCommand c;
  c.id = std::strtoull(words[1].c_str(), nullptr, 10);
  c.kind = words[2][0];
  c.key = words[3];
  if (c.kind == 'w' && words.size() == 5) {
    c.value = words[4];
  } else if (c.kind == 'c' && words.size() == 6) {
    if (words[4] != "-") c.expected = words[4];
    c.value = words[5];
  } else if (c.kind != 'd' || words.size() != 4) {
    return std::nullopt;
  }
  return c;
}

bool apply_command(std::map<std::string, std::string>& kv, const KvCommand& c) {
  auto it = kv.find(c.key);
  if (c.kind == 'c') {
    lincheck::Value current = it == kv.end() ? lincheck::Value() : lincheck::Value(it->second);
    if (current != c.expected) return false;
  }
  if (c.value) {
    kv[c.key] = *c.value;
  } else if (it != kv.end()) {
    kv.erase(it);
  }
  return true;
}

namespace {

// The KV map the payloads produce, applying each command once (a duplicated proposal, which
// the simulated network can create, appends the same command twice).
std::map<std::string, std::string> replay_kv(const std::vector<std::string>& payloads,
                                             std::set<std::uint64_t>* applied_ids) {
  std::map<std::string, std::string> kv;
  std::set<std::uint64_t> ids;
  for (const std::string& p : payloads) {
    auto c = decode_command(p);
    if (c && ids.insert(c->id).second) (void)apply_command(kv, *c);
  }
  if (applied_ids != nullptr) *applied_ids = std::move(ids);
  return kv;
}

std::string encode_state(const std::vector<std::string>& sm,
                         const std::map<std::string, std::string>& kv) {
  std::vector<std::string> flat;
  for (const auto& [k, v] : kv) {
    flat.push_back(k);
    flat.push_back(v);
  }
  return encode_payloads({encode_payloads(sm), encode_payloads(flat)});
}

}  // namespace

void SimStats::add(const SimStats& o) {
  ticks += o.ticks;
  substeps += o.substeps;
  messages_sent += o.messages_sent;
  messages_delivered += o.messages_delivered;
  messages_dropped += o.messages_dropped;
  messages_duplicated += o.messages_duplicated;
  elections += o.elections;
  max_term = std::max(max_term, o.max_term);
  commits += o.commits;
  proposals += o.proposals;
  acknowledged += o.acknowledged;
  crashes += o.crashes;
  partitions += o.partitions;
  snapshots_sent += o.snapshots_sent;
  snapshots_applied += o.snapshots_applied;
  transfers += o.transfers;
  conf_changes += o.conf_changes;
  reads_issued += o.reads_issued;
  reads_served += o.reads_served;
  kv_ops_checked += o.kv_ops_checked;
  kv_ops_unknown += o.kv_ops_unknown;
  kv_check_steps += o.kv_check_steps;
  kv_check_timeouts += o.kv_check_timeouts;
  torn_tails += o.torn_tails;
  messages_before_persist += o.messages_before_persist;
}

struct Simulation::Node {
  NodeId id = kNoNode;
  bool up = false;
  MemoryStorage storage;  // the node's disk: survives crashes
  std::unique_ptr<RawNode> raft;
  // The state machine (lost on crash): the payloads of applied normal entries, the KV map
  // they make, and the ids of the commands applied (each takes effect once).
  std::vector<std::string> sm;
  std::map<std::string, std::string> kv;
  std::set<std::uint64_t> applied_ids;
  std::uint64_t applied = 0;
  ConfState conf;
  bool crash_in_next_write = false;  // a crash scheduled to interrupt the next Ready
};

Simulation::Simulation(SimOptions options) : options_(options), rng_(options.seed) {
  ConfState conf;
  for (int i = 1; i <= options_.nodes; ++i) conf.voters.push_back(static_cast<NodeId>(i));
  // Spare nodes start with the configuration they would join (as the runtime does): the
  // conf changes in the log then replay idempotently on top of it.
  for (int i = 1; i <= options_.nodes + options_.spare_nodes; ++i) {
    auto node = std::make_unique<Node>();
    node->id = static_cast<NodeId>(i);
    node->storage.set_conf_state(conf);
    nodes_.push_back(std::move(node));
  }
  for (auto& node : nodes_) start_node(*node);
}

Simulation::~Simulation() = default;

std::uint64_t Simulation::rand_below(std::uint64_t n) {
  return rng_.below(n);
}

core::Error Simulation::fail(const std::string& what) const {
  return make_error(Code::kInternal, fmt::format("seed={} tick={} substep={}: {}", options_.seed,
                                                 stats_.ticks, now_, what));
}

std::string Simulation::dump() const {
  std::string out;
  for (const auto& node : nodes_) {
    if (!node->up) {
      out += fmt::format("\n  node {}: down", node->id);
      continue;
    }
    const Raft& r = node->raft->raft();
    const ConfState& c = r.tracker().conf();
    out += fmt::format(
        "\n  node {}: {} term {} lead {} vote {} applied {} commit {} last {} voters [{}] "
        "learners [{}]",
        node->id, role_name(r.role()), r.term(), r.lead(), r.vote(), node->applied,
        r.log().committed(), r.log().last_index(), fmt::join(c.voters, ","),
        fmt::join(c.learners, ","));
    if (r.role() == Role::kLeader) {
      for (const auto& [id, pr] : r.tracker().all()) {
        out += fmt::format("\n    -> {}: {} match {} next {} active {} inflight {}", id,
                           progress_state_name(pr.state), pr.match, pr.next, pr.recent_active,
                           pr.inflights.count());
      }
    }
  }
  return out;
}

void Simulation::start_node(Node& node) {
  Config c;
  c.id = node.id;
  c.storage = &node.storage;
  c.seed = rng_.next();
  c.pre_vote = options_.pre_vote;
  c.check_quorum = options_.check_quorum;
  c.max_size_per_msg = options_.max_size_per_msg;
  c.max_inflight_msgs = options_.max_inflight_msgs;
  c.read_only = options_.read_only;
  // Rebuild the state machine from the last snapshot on disk; the core re-delivers the
  // committed entries after it.
  Snapshot snap = *node.storage.snapshot();
  std::vector<std::string> parts =
      snap.empty() ? std::vector<std::string>{"", ""} : decode_payloads(snap.data);
  parts.resize(2);
  node.sm = decode_payloads(parts[0]);
  node.kv.clear();
  std::vector<std::string> flat = decode_payloads(parts[1]);
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) node.kv[flat[i]] = flat[i + 1];
  (void)replay_kv(node.sm, &node.applied_ids);
  node.applied = snap.meta.index;
  node.conf = node.storage.initial_state().conf_state;
  c.applied = node.applied;
  node.raft = std::make_unique<RawNode>(c);
  node.up = true;
}

void Simulation::persist_prefix(Node& node, const Ready& rd, std::size_t records) {
  if (records > 0 && rd.snapshot) {
    (void)node.storage.apply_snapshot(*rd.snapshot);
    --records;
  }
  const std::size_t entries = std::min(records, rd.entries.size());
  if (entries > 0) {
    node.storage.append(std::vector<Entry>(rd.entries.begin(), rd.entries.begin() + entries));
    records -= entries;
  }
  if (records > 0 && rd.hard_state) node.storage.set_hard_state(*rd.hard_state);
}

void Simulation::crash(Node& node) {
  // A pending Ready is the batch being written when the crash hits: its messages have not
  // gone out and nothing of it was applied. Half the time its sync completed (the durable
  // state is ahead of what others saw); otherwise any prefix of its records survives, in
  // the order they are written: snapshot, entries, hard state. The hard state comes last,
  // so a surviving commit index never points past the surviving entries.
  if (node.raft->has_ready()) {
    Ready rd = node.raft->ready();
    // A leader's messages may leave before its write (Ready::messages_may_precede_persist):
    // they escape even when the write then tears.
    if (rd.messages_may_precede_persist) {
      for (const Message& m : rd.messages) send(m);
      stats_.messages_before_persist += rd.messages.size();
    }
    const std::size_t records = (rd.snapshot ? 1 : 0) + rd.entries.size() + (rd.hard_state ? 1 : 0);
    std::size_t kept = records;
    if (records > 0 && !chance(500)) {
      kept = rand_below(records);
      if (kept > 0) ++stats_.torn_tails;
    }
    persist_prefix(node, rd, kept);
  }
  // Its clients see the connection drop: what they wrote is now of unknown outcome, what
  // they read is lost.
  std::erase_if(pending_writes_, [&](const auto& p) { return p.second.node == node.id; });
  std::erase_if(pending_reads_, [&](const auto& p) { return p.second.node == node.id; });
  node.up = false;
  node.crash_in_next_write = false;
  node.raft.reset();
  node.sm.clear();
  node.kv.clear();
  node.applied_ids.clear();
  ++stats_.crashes;
}

std::uint64_t Simulation::stamp() {
  clock_ns_ = std::max(clock_ns_ + 1, now_ * kNanosPerSubstep);
  return clock_ns_;
}

bool Simulation::connected(NodeId a, NodeId b) const {
  if (partition_.empty()) return true;
  return partition_.at(a) == partition_.at(b);
}

Simulation::Node* Simulation::leader() {
  Node* found = nullptr;
  for (auto& node : nodes_) {
    if (!node->up || node->raft->raft().role() != Role::kLeader) continue;
    if (found == nullptr || node->raft->raft().term() > found->raft->raft().term()) {
      found = node.get();
    }
  }
  return found;
}

void Simulation::maybe_change_membership() {
  if (!chance(options_.conf_change_permille)) return;
  Node* l = leader();
  if (l == nullptr) return;
  ConfChange cc;
  cc.node_id = static_cast<NodeId>(1 + rand_below(nodes_.size()));
  switch (rand_below(3)) {
    case 0: cc.type = ConfChangeType::kAddVoter; break;
    case 1: cc.type = ConfChangeType::kAddLearner; break;
    default: cc.type = ConfChangeType::kRemoveNode; break;
  }
  // Never take a voter out of a configuration of two: with conf changes taking effect when
  // applied, the survivor may not learn that the change committed and still need the
  // removed node's vote, which its longer log can refuse for ever (documented in README).
  const ConfState& conf = l->raft->raft().tracker().conf();
  bool is_voter =
      std::find(conf.voters.begin(), conf.voters.end(), cc.node_id) != conf.voters.end();
  if (is_voter && cc.type != ConfChangeType::kAddVoter && conf.voters.size() < 3) return;
  if (l->raft->propose_conf_change(cc).has_value()) ++stats_.conf_changes;
}

void Simulation::tick_faults() {
  int n = static_cast<int>(nodes_.size());
  if (partition_.empty()) {
    if (chance(options_.partition_permille)) {
      ++stats_.partitions;
      for (int i = 1; i <= n; ++i) partition_[static_cast<NodeId>(i)] = 0;
      switch (rand_below(3)) {
        case 0: {  // isolate the leader (or anyone if there is none)
          NodeId victim = static_cast<NodeId>(1 + rand_below(static_cast<std::uint64_t>(n)));
          for (auto& node : nodes_) {
            if (node->up && node->raft->raft().role() == Role::kLeader) victim = node->id;
          }
          partition_[victim] = 1;
          break;
        }
        case 1: {  // a random minority
          int k = 1 + static_cast<int>(rand_below(static_cast<std::uint64_t>((n - 1) / 2)));
          for (int i = 0; i < k; ++i) {
            partition_[static_cast<NodeId>(1 + rand_below(static_cast<std::uint64_t>(n)))] = 1;
          }
          break;
        }
        default:  // any split, possibly leaving no majority anywhere
          for (int i = 1; i <= n; ++i)
            partition_[static_cast<NodeId>(i)] = static_cast<int>(rand_below(3));
          break;
      }
    }
  } else if (chance(options_.heal_permille)) {
    partition_.clear();
  }
  for (auto& node : nodes_) {
    if (node->up && chance(options_.crash_permille)) {
      // Half the crashes land in the middle of the node's next disk write.
      if (chance(500)) {
        node->crash_in_next_write = true;
      } else {
        crash(*node);
      }
    } else if (!node->up && chance(options_.restart_permille)) {
      start_node(*node);
    }
  }
  if (chance(options_.transfer_permille)) {
    for (auto& node : nodes_) {
      if (!node->up || node->raft->raft().role() != Role::kLeader) continue;
      NodeId to = static_cast<NodeId>(1 + rand_below(static_cast<std::uint64_t>(n)));
      (void)node->raft->transfer_leadership(to);
      ++stats_.transfers;
      break;
    }
  }
}

void Simulation::maybe_propose() {
  if (!chance(options_.propose_permille)) return;
  std::vector<Node*> up;
  for (auto& node : nodes_) {
    if (node->up) up.push_back(node.get());
  }
  if (up.empty()) return;
  Node* target = up[rand_below(up.size())];
  KvCommand c;
  c.id = next_proposal_++;
  c.key = fmt::format("k{}", rand_below(static_cast<std::uint64_t>(options_.kv_keys)));
  lincheck::Operation op;
  op.process = c.id;
  op.key = c.key;
  op.type = lincheck::OpType::kWrite;
  std::uint64_t dice = rand_below(100);
  if (dice < 15) {
    c.kind = 'd';
  } else {
    c.value = fmt::format("s{}-v{}", options_.seed, c.id);
    if (dice >= 55) {
      // A cas expecting what this node holds now (often current), or an older value.
      c.kind = 'c';
      op.type = lincheck::OpType::kCas;
      auto it = target->kv.find(c.key);
      if (it != target->kv.end() && chance(700)) {
        c.expected = it->second;
      } else if (c.id > 0 && chance(500)) {
        c.expected = fmt::format("s{}-v{}", options_.seed, rand_below(c.id));
      }
      op.expected = c.expected;
    }
  }
  op.value = c.value;
  op.outcome = lincheck::Outcome::kUnknown;
  op.call_ns = stamp();
  const Raft& r = target->raft->raft();
  const bool via_leader = r.role() == Role::kLeader;
  const std::uint64_t term = r.term();
  if (!target->raft->propose(encode_command(c)).has_value()) return;  // refused: no effect
  ++stats_.proposals;
  pending_writes_[c.id] = PendingWrite{history_.size(), target->id, via_leader, term};
  history_.push_back(std::move(op));
}

void Simulation::maybe_read() {
  if (!chance(options_.read_permille)) return;
  std::vector<Node*> up;
  for (auto& node : nodes_) {
    if (node->up) up.push_back(node.get());
  }
  if (up.empty()) return;
  Node* target = up[rand_below(up.size())];
  std::string ctx = fmt::format("r{}", next_read_++);
  std::uint64_t known = committed_.empty() ? 0 : committed_.rbegin()->first;
  std::string key = fmt::format("k{}", rand_below(static_cast<std::uint64_t>(options_.kv_keys)));
  const std::uint64_t call_ns = stamp();
  if (target->raft->read_index(ctx).has_value()) {
    reads_[ctx] = known;
    pending_reads_[ctx] = PendingRead{target->id, std::move(key), call_ns, 0, false};
    ++stats_.reads_issued;
  }
}

void Simulation::serve_reads(Node& node) {
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    const PendingRead& r = it->second;
    const bool ready = r.node == node.id && r.confirmed &&
                       (node.applied >= r.index || options_.kv_read_before_apply_for_test);
    if (!ready) {
      ++it;
      continue;
    }
    lincheck::Operation op;
    op.process = 1'000'000 + next_read_;  // apart from the writers' ids
    op.type = lincheck::OpType::kRead;
    op.key = r.key;
    auto v = node.kv.find(r.key);
    if (v != node.kv.end()) op.value = v->second;
    op.mode = lincheck::ReadMode::kConsistent;
    op.index = r.index;
    op.call_ns = r.call_ns;
    op.return_ns = stamp();
    history_.push_back(std::move(op));
    it = pending_reads_.erase(it);
  }
}

void Simulation::apply_kv(Node& node, const std::string& payload) {
  auto c = decode_command(payload);
  if (!c || !node.applied_ids.insert(c->id).second) return;
  const bool ok = apply_command(node.kv, *c);
  auto it = pending_writes_.find(c->id);
  if (it == pending_writes_.end() || it->second.node != node.id) return;
  lincheck::Operation& op = history_[it->second.at];
  op.outcome = ok ? lincheck::Outcome::kOk : lincheck::Outcome::kFailed;
  op.return_ns = stamp();
  pending_writes_.erase(it);
}

void Simulation::abandon_deposed(const Node& node) {
  const Raft& r = node.raft->raft();
  std::erase_if(pending_writes_, [&](const auto& p) {
    const PendingWrite& w = p.second;
    return w.node == node.id && w.via_leader && (r.role() != Role::kLeader || r.term() != w.term);
  });
}

void Simulation::send(const Message& m) {
  ++stats_.messages_sent;
  if (m.type == MessageType::kSnap) ++stats_.snapshots_sent;
  if (faults_on_ && chance(options_.drop_permille)) {
    ++stats_.messages_dropped;
    if (m.type == MessageType::kSnap) pending_reports_.push_back({m.from, m.to, false});
    return;
  }
  int copies = faults_on_ && chance(options_.duplicate_permille) ? 2 : 1;
  if (copies == 2) ++stats_.messages_duplicated;
  for (int i = 0; i < copies; ++i) {
    auto span = static_cast<std::uint64_t>(options_.latency_max - options_.latency_min + 1);
    std::uint64_t latency = static_cast<std::uint64_t>(options_.latency_min) + rand_below(span);
    network_.push_back(InFlight{now_ + latency, rng_.next(), m});
  }
}

void Simulation::deliver_due() {
  std::vector<InFlight> due;
  std::vector<InFlight> later;
  for (InFlight& f : network_) (f.deliver_at <= now_ ? due : later).push_back(std::move(f));
  network_ = std::move(later);
  std::sort(due.begin(), due.end(), [](const InFlight& a, const InFlight& b) {
    return a.deliver_at != b.deliver_at ? a.deliver_at < b.deliver_at : a.order < b.order;
  });
  for (InFlight& f : due) {
    const Message& m = f.message;
    Node& to = *nodes_.at(m.to - 1);
    bool ok = to.up && connected(m.from, m.to);
    if (!ok) {
      ++stats_.messages_dropped;
      if (m.type == MessageType::kSnap) pending_reports_.push_back({m.from, m.to, false});
      continue;
    }
    ++stats_.messages_delivered;
    (void)to.raft->step(m);
    if (m.type == MessageType::kSnap) pending_reports_.push_back({m.from, m.to, true});
  }
}

core::Status Simulation::restore_snapshot(Node& node, const Snapshot& s) {
  std::vector<std::string> parts = decode_payloads(s.data);
  if (parts.size() != 2) return fail(fmt::format("node {}: snapshot does not decode", node.id));
  node.sm = decode_payloads(parts[0]);
  node.kv.clear();
  std::vector<std::string> flat = decode_payloads(parts[1]);
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) node.kv[flat[i]] = flat[i + 1];
  node.applied = s.meta.index;
  node.conf = s.meta.conf;
  ++stats_.snapshots_applied;
  // The snapshot must be exactly the committed log's state at its index.
  std::vector<std::string> want;
  for (std::uint64_t i = 1; i <= s.meta.index; ++i) {
    auto it = committed_.find(i);
    if (it == committed_.end()) {
      return fail(fmt::format("node {} restored snapshot {} but index {} was never applied",
                              node.id, s.meta.index, i));
    }
    if (it->second.type == EntryType::kNormal && !it->second.data.empty()) {
      want.push_back(it->second.data);
    }
  }
  if (want != node.sm) {
    return fail(fmt::format("node {}: snapshot at {} differs from the committed log", node.id,
                            s.meta.index));
  }
  if (replay_kv(want, &node.applied_ids) != node.kv) {
    return fail(fmt::format("node {}: snapshot at {} carries a KV map other than its log's",
                            node.id, s.meta.index));
  }
  return core::ok();
}

core::Status Simulation::apply_entry(Node& node, const Entry& e) {
  if (e.index != node.applied + 1) {
    return fail(fmt::format("node {} applied index {} after {}", node.id, e.index, node.applied));
  }
  auto [it, fresh] = committed_.emplace(e.index, e);
  if (!fresh && it->second != e) {
    return fail(fmt::format(
        "State Machine Safety: node {} applied (term {}, '{}') at {}, earlier (term {}, '{}')",
        node.id, e.term, e.data, e.index, it->second.term, it->second.data));
  }
  if (e.type == EntryType::kNormal && !e.data.empty()) {
    node.sm.push_back(e.data);
    if (acknowledged_.insert(e.data).second) ++stats_.acknowledged;
    apply_kv(node, e.data);
  } else if (e.type == EntryType::kConfChange) {
    auto cc = decode_conf_change(e.data);
    if (!cc) return fail("committed conf change does not decode");
    node.conf = node.raft->apply_conf_change(*cc);
  }
  node.applied = e.index;
  stats_.commits = std::max(stats_.commits, e.index);
  return core::ok();
}

void Simulation::maybe_compact(Node& node) {
  std::uint64_t snap_index = node.storage.snapshot()->meta.index;
  if (node.applied < snap_index + options_.compact_after) return;
  auto snap = node.storage.create_snapshot(node.applied, node.conf, encode_state(node.sm, node.kv));
  if (!snap) return;
  if (node.applied > options_.compact_keep)
    node.storage.compact(node.applied - options_.compact_keep);
}

core::Status Simulation::handle_ready(Node& node) {
  abandon_deposed(node);
  Ready rd = node.raft->ready();
  // A leader sends first and writes while its followers write (as the runtime does).
  if (rd.messages_may_precede_persist) {
    for (const Message& m : rd.messages) send(m);
    stats_.messages_before_persist += rd.messages.size();
    rd.messages.clear();
  }
  // 1. Persist.
  if (rd.hard_state && rd.hard_state->commit < node.storage.hard_state().commit) {
    return fail(fmt::format("node {} commit went back from {} to {}", node.id,
                            node.storage.hard_state().commit, rd.hard_state->commit));
  }
  if (rd.snapshot) {
    auto st = node.storage.apply_snapshot(*rd.snapshot);
    if (!st) return fail("apply_snapshot: " + st.error().message);
  }
  node.storage.append(rd.entries);
  if (rd.hard_state) node.storage.set_hard_state(*rd.hard_state);
  // 2. Send.
  for (const Message& m : rd.messages) send(m);
  // 3. Apply.
  if (rd.snapshot) {
    if (auto st = restore_snapshot(node, *rd.snapshot); !st) return st;
  }
  for (const Entry& e : rd.committed_entries) {
    if (auto st = apply_entry(node, e); !st) return st;
  }
  // 4. Reads.
  for (const ReadState& rs : rd.read_states) {
    auto it = reads_.find(rs.context);
    if (it == reads_.end()) return fail(fmt::format("unknown read context '{}'", rs.context));
    if (rs.index < it->second) {
      return fail(
          fmt::format("stale read '{}' on node {}: index {} but {} was committed when "
                      "it was issued",
                      rs.context, node.id, rs.index, it->second));
    }
    ++stats_.reads_served;
    auto pending = pending_reads_.find(rs.context);
    if (pending != pending_reads_.end() && pending->second.node == node.id) {
      pending->second.index = rs.index;
      pending->second.confirmed = true;
    }
  }
  serve_reads(node);
  node.raft->advance(rd);
  maybe_compact(node);
  return core::ok();
}

core::Status Simulation::process_readies() {
  for (int round = 0; round < 16; ++round) {
    // Transport callbacks (snapshot sent or failed) arrive between Readies.
    for (const SnapReport& r : std::exchange(pending_reports_, {})) {
      Node& from = *nodes_.at(r.from - 1);
      if (from.up) from.raft->report_snapshot(r.to, r.ok);
    }
    bool any = false;
    for (auto& node : nodes_) {
      if (!node->up || !node->raft->has_ready()) continue;
      any = true;
      if (node->crash_in_next_write) {
        crash(*node);
        continue;
      }
      if (auto st = handle_ready(*node); !st) return st;
    }
    if (auto st = check_invariants(false); !st) return st;
    if (!any) return core::ok();
  }
  return core::ok();
}

core::Status Simulation::check_log_matching(const Node& a, const Node& b) const {
  const RaftLog& la = a.raft->raft().log();
  const RaftLog& lb = b.raft->raft().log();
  std::uint64_t lo = std::max(la.first_index(), lb.first_index());
  std::uint64_t hi = std::min(la.last_index(), lb.last_index());
  if (lo > hi) return core::ok();
  std::uint64_t match = 0;
  for (std::uint64_t i = hi; i >= lo; --i) {
    if (la.term_or_zero(i) == lb.term_or_zero(i)) {
      match = i;
      break;
    }
  }
  if (match == 0) return core::ok();
  auto ea = la.slice(lo, match + 1, kAll);
  auto eb = lb.slice(lo, match + 1, kAll);
  if (!ea || !eb) return fail("log slice failed");
  if (*ea != *eb) {
    return fail(
        fmt::format("Log Matching: nodes {} and {} agree on the term at {} but not on "
                    "every entry in [{}, {}]",
                    a.id, b.id, match, lo, match));
  }
  return core::ok();
}

core::Status Simulation::check_leader_completeness(const Node& leader) const {
  const RaftLog& log = leader.raft->raft().log();
  for (auto it = committed_.lower_bound(log.first_index()); it != committed_.end(); ++it) {
    if (it->first > log.last_index() || log.term_or_zero(it->first) != it->second.term) {
      return fail(
          fmt::format("Leader Completeness: leader {} (term {}) lacks committed entry {} "
                      "(term {})",
                      leader.id, leader.raft->raft().term(), it->first, it->second.term));
    }
  }
  return core::ok();
}

core::Status Simulation::check_invariants(bool full) {
  std::uint64_t max_term = 0;
  for (auto& node : nodes_) {
    max_term = std::max(max_term, node->storage.hard_state().term);
    if (!node->up) continue;
    const Raft& r = node->raft->raft();
    max_term = std::max(max_term, r.term());
    if (r.role() != Role::kLeader) continue;
    auto [it, fresh] = leader_of_term_.emplace(r.term(), node->id);
    if (fresh) ++stats_.elections;
    if (it->second != node->id) {
      return fail(fmt::format("Election Safety: nodes {} and {} both lead term {}", it->second,
                              node->id, r.term()));
    }
  }
  stats_.max_term = std::max(stats_.max_term, max_term);
  if (!full) return core::ok();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i]->up) continue;
    for (std::size_t j = i + 1; j < nodes_.size(); ++j) {
      if (!nodes_[j]->up) continue;
      if (auto st = check_log_matching(*nodes_[i], *nodes_[j]); !st) return st;
    }
    const Raft& r = nodes_[i]->raft->raft();
    // Only the leader of the newest term: a deposed leader that has not noticed yet may
    // legitimately lack what its successors committed.
    if (r.role() == Role::kLeader && r.term() >= max_term) {
      if (auto st = check_leader_completeness(*nodes_[i]); !st) return st;
    }
  }
  return core::ok();
}

core::Status Simulation::check_final() {
  auto st = check_final_state();
  if (!st) return core::Error{st.error().code, st.error().message + dump()};
  return st;
}

core::Status Simulation::check_final_state() {
  const Node* leader = nullptr;
  for (auto& node : nodes_) {
    if (node->up && node->raft->raft().role() == Role::kLeader) {
      if (leader == nullptr || node->raft->raft().term() > leader->raft->raft().term()) {
        leader = node.get();
      }
    }
  }
  if (leader == nullptr) return fail("liveness: no leader after healing");
  if (!acknowledged_.count(barrier_)) return fail("liveness: the barrier proposal never applied");
  std::uint64_t commit = leader->raft->raft().log().committed();
  const ProgressTracker& members = leader->raft->raft().tracker();
  for (auto& node : nodes_) {
    if (!node->up) return fail(fmt::format("node {} still down after healing", node->id));
    // A node outside the configuration is no longer replicated to.
    if (!members.is_member(node->id)) continue;
    if (node->applied != commit) {
      return fail(fmt::format("liveness: node {} applied {} of leader {}'s commit {}", node->id,
                              node->applied, leader->id, commit));
    }
    if (node->sm != leader->sm || node->kv != leader->kv) {
      return fail(
          fmt::format("node {} state machine differs from leader {}", node->id, leader->id));
    }
    std::set<std::string> have(node->sm.begin(), node->sm.end());
    for (const std::string& p : acknowledged_) {
      if (!have.count(p))
        return fail(fmt::format("acknowledged '{}' lost on node {}", p, node->id));
    }
  }
  return core::ok();
}

core::Status Simulation::run() {
  int total = options_.fault_ticks + options_.liveness_ticks;
  for (int tick = 0; tick < total; ++tick) {
    if (tick == options_.fault_ticks) {
      // Liveness phase: heal everything; the cluster must converge on its own.
      faults_on_ = false;
      partition_.clear();
      for (auto& node : nodes_) {
        node->crash_in_next_write = false;
        if (!node->up) start_node(*node);
      }
    }
    if (faults_on_) {
      tick_faults();
      maybe_change_membership();
    }
    if (tick < total - options_.liveness_ticks / 2) {
      maybe_propose();
      maybe_read();
    }
    int barrier_tick = total - options_.liveness_ticks / 2;
    if (tick >= barrier_tick && (tick - barrier_tick) % 10 == 0 && !acknowledged_.count(barrier_)) {
      // A last write through the leader (retried until it applies): once it has applied
      // everywhere, everything before it has too.
      barrier_ = fmt::format("s{}-barrier", options_.seed);
      for (auto& node : nodes_) {
        if (node->up && node->raft->raft().role() == Role::kLeader &&
            node->raft->propose(barrier_).has_value()) {
          break;
        }
      }
    }
    for (auto& node : nodes_) {
      if (node->up) node->raft->tick();
    }
    ++stats_.ticks;
    for (int s = 0; s < options_.substeps_per_tick; ++s) {
      ++now_;
      ++stats_.substeps;
      deliver_due();
      if (auto st = process_readies(); !st) return st;
    }
    if (auto st = check_invariants(true); !st) return st;
  }
  if (auto st = check_final(); !st) return st;
  return check_kv_history();
}

core::Status Simulation::check_kv_history() {
  // RAFT_SIM_HISTORY=<file>: keep the history for proconsul-lincheck (replaying one seed).
  if (const char* path = std::getenv("RAFT_SIM_HISTORY"); path != nullptr) {
    std::ofstream(path, std::ios::binary) << lincheck::encode_history_jsonl(history_);
  }
  lincheck::CheckOptions o;
  o.step_budget = options_.kv_check_steps_max;
  o.minimize_time_budget = std::chrono::milliseconds(0);
  o.minimize_step_budget = options_.kv_check_steps_max;
  auto result = lincheck::check(history_, o);
  if (!result) return fail("KV history malformed: " + result.error().message);
  stats_.kv_ops_checked += history_.size();
  for (const lincheck::Operation& op : history_) {
    if (op.outcome == lincheck::Outcome::kUnknown) ++stats_.kv_ops_unknown;
  }
  for (const lincheck::KeyResult& k : result->keys) stats_.kv_check_steps += k.steps;
  switch (result->verdict) {
    case lincheck::Verdict::kLinearizable: return core::ok();
    case lincheck::Verdict::kTimedOut: ++stats_.kv_check_timeouts; return core::ok();
    case lincheck::Verdict::kViolation: break;
  }
  return fail("the KV history is not linearizable (times: 1 ms = 1 substep)\n" +
              lincheck::format_report(*result));
}

}  // namespace pc::consensus::raft::sim
