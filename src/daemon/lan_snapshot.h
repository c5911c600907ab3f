#pragma once
// The LAN pool's member list on disk (serf's snapshot, `<data_dir>/serf/local.snapshot`),
// so an agent restarted without retry_join finds its cluster again: every member seen alive
// is written down, and at start the agent joins the ones the file still lists as alive.
//
// Format (docs/formats/serf-snapshot.md), one record per line, appended as events happen:
//   alive: <name> <ip:port>   a member joined or came back
//   not-alive: <name>         a member failed or left
//   leave                     this agent left gracefully: it does not rejoin (Consul's
//                             rejoin_after_leave, false by default)
// Lines that do not parse are skipped (a torn last line after a crash is expected). The file
// is rewritten with only the alive members once it has grown past
// lan_snapshot_compact_lines_min and four times the alive count, so it stays proportional
// to the cluster.
//
// decode_lan_snapshot is pure (fuzzed: lan_snapshot_fuzz). LanSnapshotFile is the journal:
// thread-safe (one mutex), writes with plain write(2) and no fsync (losing the last lines
// in a power cut only means joining a member fewer at restart).
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::daemon {

// Lines appended before a compaction is considered.
inline constexpr std::size_t lan_snapshot_compact_lines_min = 1024;
// Longest line read back; a longer one is skipped as corrupt.
inline constexpr std::size_t lan_snapshot_line_size_max = 1024;

struct LanSnapshotState {
  std::map<std::string, std::string> alive;  // name → gossip address, at the end of the file
  bool left = false;                         // the last word was a graceful leave
  std::size_t lines = 0;                     // records read
  std::size_t skipped = 0;                   // lines that did not parse
};

LanSnapshotState decode_lan_snapshot(std::string_view text);

// The previous members to join at start: the alive ones, unless the agent left gracefully.
std::vector<std::string> lan_snapshot_rejoin_addresses(const LanSnapshotState& state,
                                                       std::string_view self_name);

class LanSnapshotFile {
 public:
  // Reads `path` (absent is empty) and opens it for appending, creating its directory.
  // The state read is previous(); the journal continues from it, without the leave mark.
  static core::Result<std::unique_ptr<LanSnapshotFile>> open(const std::string& path);
  ~LanSnapshotFile();
  LanSnapshotFile(const LanSnapshotFile&) = delete;
  LanSnapshotFile& operator=(const LanSnapshotFile&) = delete;

  const LanSnapshotState& previous() const { return previous_; }

  void alive(std::string_view name, std::string_view address);
  void not_alive(std::string_view name);
  void leave();

 private:
  LanSnapshotFile(std::string path, LanSnapshotState previous);
  void append_locked(const std::string& line);
  void compact_locked();

  const std::string path_;
  const LanSnapshotState previous_;
  std::mutex mu_;
  int fd_ = -1;
  std::map<std::string, std::string> alive_;
  std::size_t lines_ = 0;
};

}  // namespace pc::daemon
