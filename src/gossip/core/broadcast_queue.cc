#include "gossip/core/broadcast_queue.h"

#include "core/assert.h"
#include "gossip/core/config.h"

namespace pc::gossip {

std::size_t& BroadcastQueue::kind_count(MessageKind kind) {
  return by_kind_[static_cast<std::uint8_t>(kind)];
}

std::size_t BroadcastQueue::count(MessageKind kind) const {
  return by_kind_[static_cast<std::uint8_t>(kind)];
}

void BroadcastQueue::erase(std::uint64_t id) {
  auto it = items_.find(id);
  PC_ASSERT(it != items_.end(), "broadcast {} not queued", id);
  --kind_count(it->second.message.kind);
  order_.erase(Key{it->second.transmits, id, it->second.size});
  by_node_.erase(it->second.key);
  items_.erase(it);
}

void BroadcastQueue::push(Message m, std::string key) {
  if (key.empty()) key = m.node;
  auto old = by_node_.find(key);
  if (old != by_node_.end()) erase(old->second);
  if (items_.size() >= kBroadcastQueueMax) {
    // The oldest of the most-transmitted goes: it has done the most of its work already.
    auto last = std::prev(order_.end());
    erase(last->id);
  }
  std::uint64_t id = next_id_++;
  Item item;
  item.size = encoded_size_bound(m);
  item.message = std::move(m);
  item.key = std::move(key);
  by_node_[item.key] = id;
  ++kind_count(item.message.kind);
  order_.insert(Key{0, id, item.size});
  items_.emplace(id, std::move(item));
}

std::vector<Message> BroadcastQueue::take(std::size_t budget_bytes, int limit) {
  std::vector<Message> out;
  std::vector<std::uint64_t> taken;
  // The smallest broadcast (a suspect with one-letter names) takes 10 bytes. Stop after
  // kMissesMax broadcasts in a row that do not fit: a deep queue (a thousand members
  // joining) must not cost a full scan for every packet.
  constexpr std::size_t kSmallest = 10;
  constexpr int kMissesMax = 16;
  int misses = 0;
  for (const Key& key : order_) {
    if (budget_bytes < kSmallest || misses >= kMissesMax) break;
    if (key.size > budget_bytes) {
      ++misses;
      continue;
    }
    misses = 0;
    budget_bytes -= key.size;
    out.push_back(items_.at(key.id).message);
    taken.push_back(key.id);
  }
  for (std::uint64_t id : taken) {
    Item& item = items_.at(id);
    order_.erase(Key{item.transmits, id, item.size});
    ++item.transmits;
    if (item.transmits >= limit) {
      --kind_count(item.message.kind);
      by_node_.erase(item.key);
      items_.erase(id);
    } else {
      order_.insert(Key{item.transmits, id, item.size});
    }
  }
  return out;
}

void BroadcastQueue::clear() {
  items_.clear();
  by_node_.clear();
  order_.clear();
  by_kind_.fill(0);
}

}  // namespace pc::gossip
