#pragma once
// Broadcasts waiting to be piggybacked on outgoing packets (memberlist's
// TransmitLimitedQueue). Each is about one member (alive, suspect or dead); a newer one about
// the same member replaces the queued one, so the queue holds at most one per member. The
// least-transmitted go first (newest first among equals), each at most `limit` times.
//
// Thread-safety: none (owned by the core).
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gossip/core/message.h"

namespace pc::gossip {

class BroadcastQueue {
 public:
  // Queues `m` about member `m.node`, replacing a queued broadcast about the same member.
  // A non-empty `key` is used instead of the member's name (user events and queries, which
  // replace nothing, each get their own).
  void push(Message m, std::string key = {});
  // Takes broadcasts whose encoded size bounds fit `budget_bytes`, counting one transmit
  // each; a broadcast sent `limit` times leaves the queue.
  std::vector<Message> take(std::size_t budget_bytes, int limit);
  bool contains(const std::string& node) const { return by_node_.count(node) != 0; }
  std::size_t size() const { return items_.size(); }
  // How many queued broadcasts are of this kind (serf's separate intent, event and query
  // queue depths, for the agent's stats).
  std::size_t count(MessageKind kind) const;
  void clear();

 private:
  struct Item {
    Message message;
    std::string key;
    int transmits = 0;
    std::size_t size = 0;
  };
  // Order: fewer transmits first, then newer (higher id) first. The size rides along so a
  // scan for what fits needs no lookup.
  struct Key {
    int transmits = 0;
    std::uint64_t id = 0;
    std::size_t size = 0;
  };
  struct KeyLess {
    bool operator()(const Key& a, const Key& b) const {
      if (a.transmits != b.transmits) return a.transmits < b.transmits;
      return a.id > b.id;
    }
  };
  void erase(std::uint64_t id);
  std::size_t& kind_count(MessageKind kind);

  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, Item> items_;
  std::map<std::string, std::uint64_t> by_node_;
  std::set<Key, KeyLess> order_;
  // Queued broadcasts per MessageKind (indexed by its value); sums to items_.size().
  std::array<std::size_t, 256> by_kind_{};
};

}  // namespace pc::gossip
