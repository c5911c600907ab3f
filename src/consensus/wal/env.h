#pragma once
// The file-system seam of the WAL (leveldb's Env, cut down to what the WAL does). The posix
// implementation is the production one; tests substitute an in-memory env that can lose
// unsynced data and tear writes on a simulated crash (tests/fault_env.h).
//
// Thread-safety: an Env may be shared; a WritableFile has one owner.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::consensus::wal {

// A file open for appending at a position of its own, which is not the file's size when the
// file was preallocated. Nothing is durable until sync() returns ok.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes `data` at the position and moves the position past it.
  virtual core::Status append(std::string_view data) = 0;
  // fdatasync: data and the size that reaches it are on stable storage. A failed sync leaves
  // the file's state unknown (the kernel may have dropped the dirty pages), so callers must
  // not retry it and carry on.
  virtual core::Status sync() = 0;
  virtual core::Status close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates `dir` and any missing parents; ok if it exists.
  virtual core::Status create_dirs(const std::string& dir) = 0;
  // Names (not paths) of the entries of `dir`.
  virtual core::Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  virtual core::Result<std::string> read_file(const std::string& path) = 0;
  // Creates a new file, positioned at 0; fails if `path` exists, so a WAL never overwrites a
  // file. The file is first made `preallocate` bytes long (allocated, reading as zeros) where
  // the file system can: an fdatasync after a write inside the allocated size need not also
  // journal a new file size, which is what makes it fast and its latency steady (etcd's WAL
  // preallocates its segments for the same reason).
  virtual core::Result<std::unique_ptr<WritableFile>> create_file(const std::string& path,
                                                                  std::uint64_t preallocate) = 0;
  // Opens an existing file positioned at byte `position` (its logical end), preallocating
  // it to `preallocate` bytes as create_file does if it is shorter.
  virtual core::Result<std::unique_ptr<WritableFile>> open_at(const std::string& path,
                                                              std::uint64_t position,
                                                              std::uint64_t preallocate) = 0;
  // Cuts `path` to `size` bytes and makes the new size durable.
  virtual core::Status truncate_file(const std::string& path, std::uint64_t size) = 0;
  virtual core::Status remove_file(const std::string& path) = 0;
  // fsync of the directory: makes creations and removals in it durable.
  virtual core::Status sync_dir(const std::string& dir) = 0;
};

// The process-wide posix Env (open/write/fdatasync). Never destroyed.
Env& posix_env();

}  // namespace pc::consensus::wal
