#pragma once
// CRC-32C (Castagnoli), the checksum of WAL records (consensus/wal) and state machine snapshots
// (state/snapshot_io); it lives in core so both layers can use it.
//
// Why CRC-32C and why in software: it detects all burst errors up to 32 bits and has better
// Hamming distance than zlib's CRC-32 at record sizes (the reason leveldb, RocksDB and etcd
// use it). Debian 12 has no packaged library for it in our setup script and zlib is not
// linked, so this is a byte-at-a-time table (1 KiB, built at compile time). At several
// hundred MB/s it is far below the cost of the fdatasync that follows every batch; an SSE4.2
// `crc32` instruction path can come later behind the same function if profiles ask for it.
#include <cstdint>
#include <string_view>

namespace pc::core {

// Extends `crc` (the value returned for the bytes before `data`; 0 to start) over `data`.
std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view data);

inline std::uint32_t crc32c(std::string_view data) {
  return crc32c_extend(0, data);
}

}  // namespace pc::core
