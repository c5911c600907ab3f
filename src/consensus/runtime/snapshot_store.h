#pragma once
// State-machine snapshots on disk for the Raft runtime: <dir>/<term>-<index>.snap, each a
// header (magic, format version, metadata), the state machine's bytes and a CRC-32C of
// everything before it. A snapshot is written to a temporary name, fdatasynced, renamed and
// the directory fsynced, so a crash leaves either the whole file or none. The newest
// `retain` snapshots are kept. docs/formats/raft_snapshot.md describes the bytes.
//
// Thread-safety: none; the Raft runtime's thread owns it.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "consensus/core/message.h"
#include "core/result.h"

namespace pc::consensus {

class SnapshotStore {
 public:
  SnapshotStore(std::string dir, std::size_t retain);

  // Creates the directory if needed and removes leftovers of interrupted writes.
  core::Status open();
  // Writes `snapshot` durably, then deletes all but the newest `retain` snapshots.
  core::Status save(const raft::Snapshot& snapshot);
  // The newest snapshot that reads back whole, or nullopt when there is none. A damaged
  // newest file is an error (Corruption, naming the file): it is never skipped silently,
  // because the WAL may already have released the entries it covers.
  core::Result<std::optional<raft::Snapshot>> load_newest() const;

  // Serialization, exposed for tests and the fuzz target.
  static std::string encode(const raft::Snapshot& snapshot);
  static core::Result<raft::Snapshot> decode(std::string_view bytes);

 private:
  std::vector<std::string> list() const;  // snapshot file names, oldest first

  std::string dir_;
  std::size_t retain_;
};

}  // namespace pc::consensus
