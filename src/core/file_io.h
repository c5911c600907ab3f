#pragma once
// Small whole-file reads and atomic replacements, for the state files an agent keeps in its
// data directory (one JSON document per file). Not for the WAL or snapshots, which have their
// own formats and sync rules.
//
// Stateless; safe from any thread as long as two callers never write the same path at once
// (both would use the same temporary file).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace pc::core {

enum class FileSync {
  kNone,  // rename only: a crash may leave the old file or, rarely, an empty new one
  kFull,  // fsync the data before the rename and the directory after it
};

// Writes `data` to `path` through `path + ".tmp"` (created with `mode`), then renames it over
// `path`, so a reader sees the old whole file or the new whole file. Creates missing parent
// directories with mode 0700. kIoError names the path and the call that failed.
Status write_file_atomic(const std::string& path, std::string_view data, unsigned mode,
                         FileSync sync);

// The file's bytes; nullopt when it does not exist. kTooLarge when it holds more than
// `max_bytes`, kIoError when it cannot be read.
Result<std::optional<std::string>> read_small_file(const std::string& path, std::size_t max_bytes);

// Removes `path`; a file that is already gone is fine. kIoError otherwise.
Status remove_file(const std::string& path);

}  // namespace pc::core
