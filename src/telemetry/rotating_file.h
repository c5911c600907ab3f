#pragma once
// The audit log's file sink: appends lines to a file and rotates it the way Consul's file
// sink (hashicorp/eventlogger's FileSink) does.
//
// Naming: for path "/var/log/consul/audit.json" every file is
// "/var/log/consul/audit-<unix nanoseconds at creation>.json" (".log" when the name has no
// extension), so the newest file is the one with the largest number and names sort by age.
// A new file is opened at start, on rotate(), and before a write when
//   - rotate_duration has passed since the current file was created, or
//   - the line would take the current file past rotate_bytes (a file always takes at least
//     one line, so a single line larger than rotate_bytes gets a file of its own).
// After each rotation the oldest files beyond rotate_max_files (not counting the new current
// file) are deleted; 0 keeps them all. The directory is created when missing, at every
// rotation, so a directory removed while the agent runs comes back with the next file.
//
// Thread-safety: none; AuditLog calls it from its one writer thread only.
// Time: the injected Clock's monotonic time measures a file's age; its wall time names files.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pc::telemetry {

struct FileSinkOptions {
  std::string path;
  unsigned mode = 0600;               // permissions of new files (Consul's default)
  std::uint64_t rotate_bytes = 0;     // 0: no size limit
  core::Duration rotate_duration{0};  // 0: no age limit
  int rotate_max_files = 0;           // old files kept; 0 keeps all
};

class RotatingFile {
 public:
  RotatingFile(FileSinkOptions options, const core::Clock& clock);
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Creates the directory if needed and opens the first file. IoError naming the path.
  core::Status open();
  // Appends `line` (rotating first when due). IoError when the file cannot be written; the
  // next write tries a fresh file.
  core::Status write(std::string_view line);
  // Closes the current file, prunes old ones and opens a new one (SIGHUP uses it).
  core::Status rotate();

  // The file being written ("" before open() succeeded).
  const std::string& current_path() const { return current_path_; }
  // This sink's files, current one included, oldest first.
  std::vector<std::string> files() const;

 private:
  core::Status open_new();
  void close_current();
  void prune();
  bool due(std::size_t line_size) const;

  const FileSinkOptions options_;
  const core::Clock& clock_;
  std::string dir_;
  std::string stem_;  // file name before the extension, e.g. "audit"
  std::string ext_;   // e.g. ".json"
  int fd_ = -1;
  std::string current_path_;
  std::uint64_t bytes_written_ = 0;
  core::MonoTime created_{};
  std::int64_t last_name_ns_ = 0;  // names stay unique when the wall clock stalls
};

}  // namespace pc::telemetry
