#pragma once
// StoreFsm adapts the state store to the log's Fsm seam: it decodes each committed entry and
// applies it. A committed entry that does not decode is corruption of data every server
// agreed on; continuing would let this server diverge, so it stops the process (as Consul's
// FSM panics on an unknown command).
#include "consensus/log.h"
#include "state/store.h"

namespace pc::daemon {

class StoreFsm final : public consensus::Fsm {
 public:
  explicit StoreFsm(state::Store& store) : store_(store) {}
  std::any apply(std::uint64_t index, std::string_view command) override;
  void publish() override { store_.publish(); }
  // The published version (the log calls this right after publish()), serialized later by
  // state::write_snapshot on the log's snapshot thread; writes go on meanwhile.
  core::Result<SnapshotWriter> snapshot() override;
  // Replaces the whole store (every blocking query wakes and reads again).
  core::Status restore(std::uint64_t index, std::string_view data) override;

 private:
  state::Store& store_;
};

}  // namespace pc::daemon
