// Fuzz target: snapshot bytes -> read_snapshot -> restore -> apply -> write -> read. Whatever
// the bytes, decoding must fail cleanly or give a state that a store can restore and go on
// applying commands to without tripping an assertion, and that writes back to bytes which
// decode to the same state (crash = bug).
//
// A mutated snapshot almost never gets past the checksum, so each input also runs with its
// trailer's body size and CRC-32C made consistent: mutations then reach the decompressor, the
// record decoder and the state validation. Limits are small so no input can take long.
//
// Under clang with -DPC_LIBFUZZER=ON this is a libFuzzer binary; otherwise the shared replay
// main runs the corpus (ctest snapshot_fuzz_replay). Seeds: src/state/tests/corpus/snapshot,
// written by snapshot_io_test (README.md, "Snapshots").
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/crc32c.h"
#include "proto/commands.pb.h"
#include "state/snapshot_io.h"
#include "state/store.h"

namespace {

using pc::state::kSnapshotHeaderSize;
using pc::state::kSnapshotTrailerSize;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "snapshot_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Commands that walk the restored rows' references: destroying sessions releases or deletes
// the keys they hold, deregistering a node removes its services, checks and sessions.
void apply_some(pc::state::Store& store, std::uint64_t applied) {
  const pc::state::Snapshot s = store.snapshot();
  std::uint64_t index = applied;
  int budget = 8;
  for (const auto& session : s.session_list()) {
    if (budget-- == 0) break;
    pc::proto::Command c;
    c.set_proposed_unix_ns(1'700'000'000'000'000'000);
    c.mutable_session_destroy()->set_id(session.id);
    (void)store.apply(++index, c);
  }
  budget = 4;
  for (const auto& node : s.node_list()) {
    if (budget-- == 0) break;
    pc::proto::Command c;
    c.mutable_catalog_deregister()->set_node(node.node);
    (void)store.apply(++index, c);
  }
  pc::proto::Command tree;
  tree.mutable_kv()->set_verb(pc::proto::KvOp::DELETE_TREE);
  tree.mutable_kv()->set_key("");
  (void)store.apply(++index, tree);
  pc::proto::Command reap;
  reap.mutable_tombstone_reap()->set_up_to_index(index);
  (void)store.apply(++index, reap);
  store.publish();
}

void check(std::string_view bytes) {
  pc::state::SnapshotLimits limits;
  limits.decompressed_size_max = 8 << 20;
  limits.record_size_max = 1 << 20;
  auto decoded = pc::state::read_snapshot(bytes, limits);
  if (!decoded) return;
  const pc::state::Snapshot snap = *decoded;
  std::string again;
  if (auto st = pc::state::write_snapshot(snap, again); !st) fail("rewrite", st.error().message);
  auto back = pc::state::read_snapshot(again, limits);
  if (!back) fail("rewritten snapshot does not decode", back.error().message);
  if (back->dump() != snap.dump()) fail("round trip", "rewritten snapshot differs");
  pc::state::Store store;
  store.restore(snap);
  // Apply needs indexes above the applied one; a forged snapshot may leave no room.
  if (snap.applied_index() < UINT64_MAX - 64) apply_some(store, snap.applied_index());
  (void)store.snapshot().dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(bytes);
  if (size < kSnapshotHeaderSize + kSnapshotTrailerSize) return 0;
  // The same bytes with a trailer that matches them.
  std::string fixed(bytes);
  const std::size_t trailer_at = size - kSnapshotTrailerSize;
  const std::uint64_t body_size = trailer_at - kSnapshotHeaderSize;
  for (int i = 0; i < 8; ++i) fixed[trailer_at + i] = static_cast<char>(body_size >> (8 * i));
  const std::uint32_t crc = pc::core::crc32c(std::string_view(fixed).substr(0, trailer_at + 8));
  for (int i = 0; i < 4; ++i) fixed[trailer_at + 8 + i] = static_cast<char>(crc >> (8 * i));
  fixed.replace(size - 4, 4, pc::state::kSnapshotEndMagic);
  check(fixed);
  return 0;
}
