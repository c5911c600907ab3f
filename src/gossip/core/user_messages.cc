#include "gossip/core/user_messages.h"

#include <algorithm>

#include "core/assert.h"
#include "gossip/core/config.h"

namespace pc::gossip {

RecentBuffer::RecentBuffer(std::size_t size) : slots_(size) {
  PC_ASSERT(size > 0, "a recent buffer needs at least one slot");
}

RecentBuffer::Seen RecentBuffer::record(LamportTime ltime, const std::string& id,
                                        LamportTime clock_now) {
  if (too_old(ltime, clock_now)) return Seen::kTooOld;
  Slot& slot = slots_[ltime % slots_.size()];
  if (slot.used && slot.ltime == ltime) {
    if (std::find(slot.ids.begin(), slot.ids.end(), id) != slot.ids.end()) return Seen::kDuplicate;
    // A full slot means a flood at one Lamport time (serf keeps them all); dropping is what
    // keeps one hostile member from growing it without bound.
    if (slot.ids.size() >= kUserMessagesPerLtimeMax) return Seen::kDuplicate;
    slot.ids.push_back(id);
    return Seen::kNew;
  }
  slot.used = true;
  slot.ltime = ltime;
  slot.ids.assign(1, id);
  return Seen::kNew;
}

std::vector<RecentBuffer::Entry> RecentBuffer::recent(LamportTime clock_now) const {
  std::vector<Entry> out;
  for (const Slot& slot : slots_) {
    if (!slot.used || too_old(slot.ltime, clock_now)) continue;
    for (const std::string& id : slot.ids) out.push_back(Entry{slot.ltime, &id});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Entry& a, const Entry& b) { return a.ltime < b.ltime; });
  return out;
}

}  // namespace pc::gossip
