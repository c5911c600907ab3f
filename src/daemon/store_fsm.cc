#include "daemon/store_fsm.h"

#include "core/log.h"
#include "proto/commands.pb.h"
#include "state/snapshot_io.h"

namespace pc::daemon {

std::any StoreFsm::apply(std::uint64_t index, std::string_view command) {
  auto decoded = state::decode_command(command);
  PC_ASSERT(decoded.has_value(), "committed log entry {} does not decode: {}", index,
            decoded.error().message);
  return store_.apply(index, *decoded);
}

core::Result<consensus::Fsm::SnapshotWriter> StoreFsm::snapshot() {
  state::Snapshot version = store_.snapshot();
  return SnapshotWriter([version]() -> core::Result<std::string> {
    std::string out;
    if (auto s = state::write_snapshot(version, out); !s) return s.error();
    return out;
  });
}

core::Status StoreFsm::restore(std::uint64_t index, std::string_view data) {
  if (auto s = state::restore_snapshot(store_, data); !s) return s;
  core::log::info("fsm", "state restored from a snapshot at index {}", index);
  return core::ok();
}

}  // namespace pc::daemon
