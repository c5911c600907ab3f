#pragma once
// Snapshots of the replicated state machine: every table, every table index and the applied
// index of one Version, as bytes (docs/formats/snapshot.md), and back. Raft log compaction
// keeps the newest snapshot and drops the log before it; a follower too far behind, or a
// server starting up, restores one and replays only the log after it.
//
// Writers are not blocked: a Snapshot pins an immutable Version, so write_snapshot() may run
// on any thread, for as long as the sink takes, while the apply thread goes on applying and
// publishing newer versions. It takes no lock the writer takes.
//
// Restoring gives a store whose every read (rows, table indexes, per-service indexes, the
// KV graveyard, lock delays) answers exactly as the original's did, and which answers later
// commands as the original would: the bytes of a snapshot of the restored state are the bytes
// it was restored from.
//
// Bytes from disk or from the network are never trusted: read_snapshot() returns Corruption
// (or TooLarge past its limits) for anything that is not a snapshot this code wrote,
// including states no sequence of commands could have produced, and never crashes.
//
// Thread-safety: the functions here are reentrant; they share nothing between calls.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "core/result.h"
#include "state/store.h"

namespace pc::state {

// File layout constants (docs/formats/snapshot.md). Exposed for tests and fuzzing, which
// forge frames around bodies of their own.
inline constexpr std::string_view kSnapshotMagic{"\x89PCSNAP\n", 8};
inline constexpr std::string_view kSnapshotEndMagic{"PCSE", 4};
// Version 2 added the ACL tables; version 1 snapshots (no ACL rows, six table indexes) are
// still read.
inline constexpr std::uint32_t kSnapshotFormatVersion = 3;
inline constexpr std::uint32_t kSnapshotFormatVersionMin = 1;
inline constexpr std::size_t kSnapshotHeaderSize = 24;   // magic, version, reserved, index
inline constexpr std::size_t kSnapshotTrailerSize = 16;  // body size, crc32c, end magic
// Largest zstd window the reader accepts (2^24 = 16 MiB). The writer's levels stay far below
// it (level 3 uses 2^21); the cap keeps a forged frame header from asking for a 2 GiB window.
inline constexpr int kSnapshotWindowLogMax = 24;

// Receives the bytes of a snapshot in order, in chunks of at most ~128 KiB. An error stops
// the write and is returned from write_snapshot() with context.
using SnapshotSink = std::function<core::Status(std::string_view bytes)>;

struct SnapshotWriteOptions {
  // zstd level, at most 19 (higher levels use windows readers refuse). 3, zstd's default,
  // compressed 100k service instances 10x at about 55 MB/s of state (README.md).
  int zstd_level = 3;
};

// Bounds on what read_snapshot() will decode, so a hostile or corrupt snapshot cannot make it
// allocate without end. Memory for the decoded state stays below a small multiple of
// `decompressed_size_max`; working buffers stay below `record_size_max` plus 256 KiB.
// Callers with less memory to spare pass smaller values.
struct SnapshotLimits {
  // The whole decompressed body. 4 GiB holds the largest state we plan for with room to
  // spare (100k service instances measured 10.6 MiB; the KV store is meant for megabytes).
  std::uint64_t decompressed_size_max = std::uint64_t{4} << 30;
  // One record: a row. The largest row apply can store comes from one request body.
  std::size_t record_size_max = 16 << 20;
};
static_assert(SnapshotLimits{}.record_size_max >
                  core::limits::http_body_size_max + core::limits::kv_key_size_max,
              "every row a request can create must fit in one snapshot record");
static_assert(SnapshotLimits{}.decompressed_size_max >= SnapshotLimits{}.record_size_max);

// What the framing says, without decoding the body.
struct SnapshotHeader {
  std::uint32_t format_version = 0;
  std::uint64_t applied_index = 0;
  std::uint64_t size_bytes = 0;  // the whole snapshot
};

// Writes `snap` to `sink` as one snapshot. The bytes depend only on the state and the options
// (the same version always gives the same bytes).
core::Status write_snapshot(const Snapshot& snap, const SnapshotSink& sink,
                            const SnapshotWriteOptions& options = {});
// The same, into `out` (replacing its contents).
core::Status write_snapshot(const Snapshot& snap, std::string& out,
                            const SnapshotWriteOptions& options = {});

// Checks the framing (magic, version, sizes, checksum) and returns the header; the body is
// not decompressed. For a snapshot store that verifies a file before it keeps it.
core::Result<SnapshotHeader> read_snapshot_header(std::string_view bytes);

// Decodes and validates a whole snapshot into a Snapshot that can be read like any other, and
// passed to Store::restore(). Corruption says what is wrong and where (byte offset or record
// number); TooLarge names the limit exceeded.
core::Result<Snapshot> read_snapshot(std::string_view bytes, const SnapshotLimits& limits = {});

// read_snapshot, then store.restore() only if it succeeded: on any error the store is left
// exactly as it was and no watch fires. Writer side, like Store::apply().
core::Status restore_snapshot(Store& store, std::string_view bytes,
                              const SnapshotLimits& limits = {});

}  // namespace pc::state
