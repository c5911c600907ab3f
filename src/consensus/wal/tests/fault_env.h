#pragma once
// An in-memory Env that remembers what is durable, for crash tests (leveldb's
// FaultInjectionTestEnv, in memory). Each file has its current bytes and its durable bytes
// (as of its last sync); each directory entry is durable once its directory is synced.
// crash() throws away what was not durable, optionally keeping a torn piece of each file's
// unsynced part, as a power cut can.
//
// Could move to testing/sim/ as the simulated disk once other modules need one.
// Thread-safety: one thread.
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "consensus/wal/env.h"

namespace pc::consensus::wal::testing {

class FaultEnv final : public Env {
 public:
  // What a crash keeps of each file's unsynced tail.
  enum class Tear {
    kNone,        // nothing: exactly the synced bytes survive
    kPrefix,      // a random-length prefix of the unsynced bytes
    kZeroFilled,  // a random-length prefix whose end is zeros (size updated, data not)
    kSectors,     // each 512-byte sector of it arrives or not, independently (writeback
                  // order is not write order); a new size arrives or not
  };

  explicit FaultEnv(std::uint64_t seed = 1) : rng_(seed) {}

  core::Status create_dirs(const std::string& dir) override;
  core::Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  core::Result<std::string> read_file(const std::string& path) override;
  // Preallocation extends the file with zeros, as fallocate does.
  core::Result<std::unique_ptr<WritableFile>> create_file(const std::string& path,
                                                          std::uint64_t preallocate) override;
  core::Result<std::unique_ptr<WritableFile>> open_at(const std::string& path,
                                                      std::uint64_t position,
                                                      std::uint64_t preallocate) override;
  core::Status truncate_file(const std::string& path, std::uint64_t size) override;
  core::Status remove_file(const std::string& path) override;
  core::Status sync_dir(const std::string& dir) override;

  // Simulates a power cut. Open WritableFiles must be destroyed first (the Wal too).
  void crash(Tear tear);

  // The next `count` file syncs fail with IoError (and, as on Linux, drop the dirty data).
  void fail_syncs(int count) { failing_syncs_ = count; }

  // Test access to the current bytes of a file ("" if missing).
  std::string contents(const std::string& path) const;
  void set_contents_for_test(const std::string& path, std::string bytes);
  bool exists(const std::string& path) const;

 private:
  friend class FaultFile;
  struct Node {
    std::string current;
    std::string durable;
    bool exists = false;          // visible now
    bool exists_durable = false;  // its directory entry survives a crash
  };
  core::Status sync_file(const std::string& path);
  std::string survivor(const Node& node, Tear tear);
  Node* live(const std::string& path);

  std::map<std::string, Node> nodes_;
  std::mt19937_64 rng_;
  int failing_syncs_ = 0;
};

}  // namespace pc::consensus::wal::testing
