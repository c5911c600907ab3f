#include "consensus/wal/tests/fault_env.h"

#include <fmt/core.h>

#include <algorithm>
#include <string_view>

namespace pc::consensus::wal::testing {
namespace {

using core::Code;

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

core::Error not_found(const std::string& path) {
  return core::make_error(Code::kIoError, fmt::format("{}: no such file", path));
}

}  // namespace

class FaultFile final : public WritableFile {
 public:
  FaultFile(FaultEnv* env, std::string path, std::size_t position)
      : env_(env), path_(std::move(path)), position_(position) {}
  core::Status append(std::string_view data) override {
    FaultEnv::Node* node = env_->live(path_);
    if (node == nullptr || closed_) return not_found(path_);
    if (node->current.size() < position_ + data.size()) {
      node->current.resize(position_ + data.size());
    }
    node->current.replace(position_, data.size(), data);
    position_ += data.size();
    return core::ok();
  }
  core::Status sync() override {
    if (closed_) return not_found(path_);
    return env_->sync_file(path_);
  }
  core::Status close() override {
    closed_ = true;
    return core::ok();
  }

 private:
  FaultEnv* env_;
  std::string path_;
  std::size_t position_;
  bool closed_ = false;
};

FaultEnv::Node* FaultEnv::live(const std::string& path) {
  auto it = nodes_.find(path);
  return it == nodes_.end() || !it->second.exists ? nullptr : &it->second;
}

core::Status FaultEnv::create_dirs(const std::string&) {
  return core::ok();  // directories are implicit in the paths
}

core::Result<std::vector<std::string>> FaultEnv::list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& [path, node] : nodes_) {
    if (node.exists && parent_of(path) == dir) names.push_back(path.substr(dir.size() + 1));
  }
  return names;
}

core::Result<std::string> FaultEnv::read_file(const std::string& path) {
  Node* node = live(path);
  if (node == nullptr) return not_found(path);
  return node->current;
}

core::Result<std::unique_ptr<WritableFile>> FaultEnv::create_file(const std::string& path,
                                                                  std::uint64_t preallocate) {
  if (live(path) != nullptr) {
    return core::make_error(Code::kIoError, fmt::format("{}: file exists", path));
  }
  Node& node = nodes_[path];
  node.current.assign(preallocate, '\0');
  node.exists = true;
  // A removed file recreated before its directory was synced: the model lets the new file
  // replace the old one for crash purposes too (the WAL reuses a name only after the
  // removal is durable).
  node.durable.clear();
  return std::unique_ptr<WritableFile>(new FaultFile(this, path, 0));
}

core::Result<std::unique_ptr<WritableFile>> FaultEnv::open_at(const std::string& path,
                                                              std::uint64_t position,
                                                              std::uint64_t preallocate) {
  Node* node = live(path);
  if (node == nullptr) return not_found(path);
  if (node->current.size() < preallocate) node->current.resize(preallocate);
  return std::unique_ptr<WritableFile>(new FaultFile(this, path, position));
}

core::Status FaultEnv::truncate_file(const std::string& path, std::uint64_t size) {
  Node* node = live(path);
  if (node == nullptr) return not_found(path);
  if (size < node->current.size()) node->current.resize(size);
  return sync_file(path);
}

core::Status FaultEnv::remove_file(const std::string& path) {
  Node* node = live(path);
  if (node == nullptr) return not_found(path);
  node->exists = false;
  node->current.clear();
  return core::ok();
}

core::Status FaultEnv::sync_dir(const std::string& dir) {
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (parent_of(it->first) == dir) {
      it->second.exists_durable = it->second.exists;
      if (!it->second.exists) {
        it = nodes_.erase(it);
        continue;
      }
    }
    ++it;
  }
  return core::ok();
}

core::Status FaultEnv::sync_file(const std::string& path) {
  Node* node = live(path);
  if (node == nullptr) return not_found(path);
  if (failing_syncs_ > 0) {
    --failing_syncs_;
    // Linux marks the dirty pages clean after a failed writeback: they may never arrive.
    node->current = node->durable;
    return core::make_error(Code::kIoError, fmt::format("fdatasync {}: injected failure", path));
  }
  node->durable = node->current;
  return core::ok();
}

// What of `node` a power cut leaves: its durable bytes, with some of the bytes written since
// its last sync on top. Everything before the first byte that differs is durable.
std::string FaultEnv::survivor(const Node& node, Tear tear) {
  const std::string& durable = node.durable;
  const std::string& current = node.current;
  if (tear == Tear::kNone || !node.exists) return durable;
  std::size_t common = std::min(durable.size(), current.size());
  std::size_t from = 0;
  while (from < common && durable[from] == current[from]) ++from;
  if (from == current.size()) return durable;  // nothing new was written
  std::string kept = durable;
  auto overlay = [&kept](std::size_t at, std::string_view bytes) {
    if (kept.size() < at + bytes.size()) kept.resize(at + bytes.size());
    kept.replace(at, bytes.size(), bytes);
  };
  auto pick = [this](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
  };
  if (tear == Tear::kSectors) {
    constexpr std::size_t kSector = 512;
    for (std::size_t sector = from / kSector * kSector; sector < current.size();
         sector += kSector) {
      if (pick(0, 1) == 0) continue;  // this sector never reached the disk
      std::size_t lo = std::max(sector, from);
      std::size_t hi = std::min(sector + kSector, current.size());
      overlay(lo, std::string_view(current).substr(lo, hi - lo));
    }
    // The new size, if it grew, arrives or not; bytes past the surviving size are gone and
    // a grown size with data that did not arrive reads as zeros.
    std::size_t size = pick(0, 1) == 0 ? durable.size() : current.size();
    kept.resize(std::max(size, durable.size()), '\0');
    return kept;
  }
  std::string piece = current.substr(from, pick(0, current.size() - from));
  if (tear == Tear::kZeroFilled && !piece.empty()) {
    std::size_t zeros_from = pick(0, piece.size());
    std::fill(piece.begin() + static_cast<std::ptrdiff_t>(zeros_from), piece.end(), '\0');
  }
  overlay(from, piece);
  return kept;
}

void FaultEnv::crash(Tear tear) {
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    Node& node = it->second;
    if (!node.exists_durable) {
      it = nodes_.erase(it);
      continue;
    }
    std::string kept = survivor(node, tear);
    node.current = kept;
    node.durable = std::move(kept);
    node.exists = true;
    ++it;
  }
}

std::string FaultEnv::contents(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() || !it->second.exists ? std::string() : it->second.current;
}

void FaultEnv::set_contents_for_test(const std::string& path, std::string bytes) {
  Node& node = nodes_[path];
  node.current = bytes;
  node.durable = std::move(bytes);
  node.exists = true;
  node.exists_durable = true;
}

bool FaultEnv::exists(const std::string& path) const {
  auto it = nodes_.find(path);
  return it != nodes_.end() && it->second.exists;
}

}  // namespace pc::consensus::wal::testing
