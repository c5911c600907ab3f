#pragma once
// A lockstep in-memory cluster for unit tests: every node carries out its Ready exactly as
// the runtime must (persist, send, apply, advance), and messages are delivered in order
// unless a test drops them. For randomized faults see simulation.h.
#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "consensus/core/raw_node.h"

namespace pc::consensus::raft::test_support {

struct Peer {
  NodeId id = kNoNode;
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> node;
  std::vector<Entry> applied;        // every committed entry applied, in order
  std::uint64_t snapshot_index = 0;  // last snapshot restored from a Ready
  std::vector<ReadState> read_states;
  ConfState conf;
};

class Cluster {
 public:
  using Tweak = std::function<void(Config&)>;

  explicit Cluster(std::vector<NodeId> voters, Tweak tweak = {}, std::vector<NodeId> learners = {})
      : tweak_(std::move(tweak)) {
    ConfState conf{voters, learners, {}};
    for (NodeId id : voters) add_peer(id, conf);
    for (NodeId id : learners) add_peer(id, conf);
  }

  // A node with the given initial membership (an empty ConfState for one that joins later
  // and learns its configuration from the log).
  Peer& add_peer(NodeId id, const ConfState& conf) {
    auto peer = std::make_unique<Peer>();
    peer->id = id;
    peer->storage = std::make_unique<MemoryStorage>();
    peer->storage->set_conf_state(conf);
    peer->conf = conf;
    start(*peer);
    Peer& ref = *peer;
    peers_[id] = std::move(peer);
    return ref;
  }

  // Restarts a node from what its storage holds (a crash after the last advance()).
  void restart(NodeId id) {
    Peer& p = peer(id);
    p.applied.clear();
    start(p, p.storage->first_index() - 1);
  }

  Peer& peer(NodeId id) { return *peers_.at(id); }
  RawNode& node(NodeId id) { return *peers_.at(id)->node; }
  Raft& raft(NodeId id) { return peers_.at(id)->node->raft_for_test(); }
  MemoryStorage& storage(NodeId id) { return *peers_.at(id)->storage; }

  // Messages sent between nodes, in delivery order (tests inspect and clear it).
  std::vector<Message> delivered;
  std::vector<Message> dropped;
  // When set, delivered messages and each Ready's effects are described here, one line each
  // (the data-driven trace tests compare them with testdata/*.txt).
  std::vector<std::string>* trace = nullptr;

  static std::string describe(const Entry& e) {
    std::string out = std::to_string(e.term) + "/" + std::to_string(e.index);
    if (e.type == EntryType::kConfChange) {
      auto cc = decode_conf_change(e.data);
      if (!cc) return out + " conf-change(undecodable)";
      static const char* names[] = {"add-voter", "add-learner", "remove"};
      return out + " " + names[static_cast<int>(cc->type)] + " " + std::to_string(cc->node_id);
    }
    return out + (e.data.empty() ? " (empty)" : " \"" + e.data + "\"");
  }

  static std::string describe(const Message& m) {
    std::string out = std::to_string(m.from) + "->" + std::to_string(m.to) + " " +
                      std::string(message_type_name(m.type)) + " term=" + std::to_string(m.term);
    switch (m.type) {
      case MessageType::kApp:
        out += " prev=" + std::to_string(m.log_term) + "/" + std::to_string(m.index) +
               " commit=" + std::to_string(m.commit);
        if (!m.entries.empty()) {
          out += " [";
          for (std::size_t i = 0; i < m.entries.size(); ++i) {
            out += (i ? ", " : "") + describe(m.entries[i]);
          }
          out += "]";
        }
        break;
      case MessageType::kAppResp:
        out += " index=" + std::to_string(m.index);
        if (m.reject)
          out += " reject hint=" + std::to_string(m.log_term) + "/" + std::to_string(m.reject_hint);
        break;
      case MessageType::kVote:
      case MessageType::kPreVote:
        out += " last=" + std::to_string(m.log_term) + "/" + std::to_string(m.index);
        if (!m.context.empty()) out += " (transfer)";
        break;
      case MessageType::kVoteResp:
      case MessageType::kPreVoteResp: out += m.reject ? " rejected" : " granted"; break;
      case MessageType::kHeartbeat:
        out += " commit=" + std::to_string(m.commit);
        if (!m.context.empty()) out += " ctx=" + m.context;
        break;
      case MessageType::kHeartbeatResp:
        if (!m.context.empty()) out += " ctx=" + m.context;
        break;
      case MessageType::kSnap:
        out += " snapshot=" + std::to_string(m.snapshot.meta.term) + "/" +
               std::to_string(m.snapshot.meta.index);
        break;
      case MessageType::kReadIndex:
      case MessageType::kReadIndexResp:
        out += " index=" + std::to_string(m.index) + " ctx=" + m.context;
        break;
      case MessageType::kProp:
        for (const Entry& e : m.entries) out += " " + describe(e);
        break;
      default: break;
    }
    return out;
  }

  void isolate(NodeId id) { isolated_.insert(id); }
  void heal() {
    isolated_.clear();
    drop_ = nullptr;
  }
  void drop_if(std::function<bool(const Message&)> pred) { drop_ = std::move(pred); }
  // Holds messages instead of delivering them (for tests that look at what was sent).
  void set_hold(bool hold) { hold_ = hold; }
  std::deque<Message>& held() { return pending_; }

  bool process_ready(Peer& p) {
    if (!p.node->has_ready()) return false;
    Ready rd = p.node->ready();
    if (trace) trace_ready(p, rd);
    if (rd.snapshot) {
      auto st = p.storage->apply_snapshot(*rd.snapshot);
      EXPECT_TRUE(st.has_value());
      p.snapshot_index = rd.snapshot->meta.index;
      p.applied.clear();  // the state machine is replaced by the snapshot
      p.conf = rd.snapshot->meta.conf;
    }
    p.storage->append(rd.entries);
    if (rd.hard_state) p.storage->set_hard_state(*rd.hard_state);
    for (Message& m : rd.messages) pending_.push_back(std::move(m));
    for (const Entry& e : rd.committed_entries) {
      if (e.type == EntryType::kConfChange) {
        auto cc = decode_conf_change(e.data);
        EXPECT_TRUE(cc.has_value());
        if (cc) p.conf = p.node->apply_conf_change(*cc);
      }
      p.applied.push_back(e);
    }
    for (const ReadState& rs : rd.read_states) p.read_states.push_back(rs);
    p.node->advance(rd);
    return true;
  }

  // Carries out every Ready and delivers every message until nothing moves.
  void stabilize() {
    for (int round = 0; round < 10000; ++round) {
      bool moved = false;
      for (auto& [id, p] : peers_) {
        while (process_ready(*p)) moved = true;
      }
      if (hold_) return;
      if (!pending_.empty()) moved = true;
      deliver_all();
      if (!moved) return;
    }
    ADD_FAILURE() << "cluster did not stabilize";
  }

  void deliver_all() {
    std::deque<Message> batch;
    batch.swap(pending_);
    for (Message& m : batch) deliver(m);
  }

  void deliver(const Message& m) {
    if (isolated_.count(m.from) || isolated_.count(m.to) || (drop_ && drop_(m)) ||
        !peers_.count(m.to)) {
      if (trace) trace->push_back("  dropped " + describe(m));
      dropped.push_back(m);
      return;
    }
    if (trace) trace->push_back("  " + describe(m));
    delivered.push_back(m);
    (void)peers_.at(m.to)->node->step(m);
  }

  void tick(NodeId id, int n = 1) {
    for (int i = 0; i < n; ++i) node(id).tick();
  }
  // Ticks every node once per round and stabilizes after each.
  void tick_all(int rounds = 1) {
    for (int i = 0; i < rounds; ++i) {
      for (auto& [id, p] : peers_) p->node->tick();
      stabilize();
    }
  }

  // Elects `id` (PreVote and vote rounds delivered in lockstep).
  void elect(NodeId id) {
    node(id).campaign();
    stabilize();
  }

  std::vector<NodeId> ids() const {
    std::vector<NodeId> out;
    for (auto& [id, p] : peers_) out.push_back(id);
    return out;
  }

  std::vector<std::string> applied_data(NodeId id) {
    std::vector<std::string> out;
    for (const Entry& e : peer(id).applied) {
      if (e.type == EntryType::kNormal && !e.data.empty()) out.push_back(e.data);
    }
    return out;
  }

  std::size_t count(MessageType type, NodeId to = kNoNode) const {
    return std::count_if(delivered.begin(), delivered.end(), [&](const Message& m) {
      return m.type == type && (to == kNoNode || m.to == to);
    });
  }

 private:
  void start(Peer& p, std::uint64_t applied = 0) {
    Config c;
    c.id = p.id;
    c.storage = p.storage.get();
    c.seed = 1000 + p.id;
    c.applied = applied;
    if (tweak_) tweak_(c);
    p.node = std::make_unique<RawNode>(c);
  }

  void trace_ready(const Peer& p, const Ready& rd) {
    std::string who = std::to_string(p.id);
    if (rd.soft_state) {
      trace->push_back(who + " is " + std::string(role_name(rd.soft_state->role)) + " (lead " +
                       std::to_string(rd.soft_state->lead) + ", term " +
                       std::to_string(p.node->raft().term()) + ")");
    }
    if (rd.snapshot) {
      trace->push_back(who + " restores snapshot " + std::to_string(rd.snapshot->meta.term) + "/" +
                       std::to_string(rd.snapshot->meta.index));
    }
    for (const Entry& e : rd.committed_entries) trace->push_back(who + " applies " + describe(e));
    for (const ReadState& rs : rd.read_states) {
      trace->push_back(who + " read " + rs.context + " at " + std::to_string(rs.index));
    }
  }

  Tweak tweak_;
  std::map<NodeId, std::unique_ptr<Peer>> peers_;
  std::deque<Message> pending_;
  std::set<NodeId> isolated_;
  std::function<bool(const Message&)> drop_;
  bool hold_ = false;
};

}  // namespace pc::consensus::raft::test_support
