#pragma once
// The file handling of `tls ca create` and `tls cert create`, as Consul's command/tls and
// lib/file do it: an existence test that only "no such file" passes, whole-file reads with
// Go's error text, and atomic writes (a temporary file renamed over the target) so a crash
// never leaves half a key behind. Paths are relative to the working directory, as Consul's.
#include <sys/types.h>
#include <string>

#include "core/result.h"

namespace pc::cli {

// Consul's tls.FileDoesNotExist: true only when stat fails with ENOENT, so an unreadable
// path counts as existing and is never overwritten.
bool file_does_not_exist(const std::string& path);

// The file's bytes; the error reads like Go's: "open x.pem: no such file or directory".
core::Result<std::string> read_whole_file(const std::string& path);

// Writes `contents` to "<path>-<random>.tmp" created with `mode` (less the umask), syncs it
// and renames it to `path`, as Consul's file.WriteAtomicWithPerms.
core::Status write_file_atomic(const std::string& path, const std::string& contents, mode_t mode);

}  // namespace pc::cli
