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
  const std::size_t size = slots_.size();
  if (clock_now > size && ltime < clock_now - size) return Seen::kTooOld;
  Slot& slot = slots_[ltime % size];
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

}  // namespace pc::gossip
