#include "consensus/wal/tests/fault_env.h"

#include <fmt/core.h>

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
  FaultFile(FaultEnv* env, std::string path) : env_(env), path_(std::move(path)) {}
  core::Status append(std::string_view data) override {
    FaultEnv::Node* node = env_->live(path_);
    if (node == nullptr || closed_) return not_found(path_);
    node->current.append(data);
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

core::Result<std::unique_ptr<WritableFile>> FaultEnv::create_file(const std::string& path) {
  if (live(path) != nullptr) {
    return core::make_error(Code::kIoError, fmt::format("{}: file exists", path));
  }
  Node& node = nodes_[path];
  node.current.clear();
  node.exists = true;
  // A removed file recreated before its directory was synced: the model lets the new file
  // replace the old one for crash purposes too (the WAL reuses a name only after the
  // removal is durable).
  node.durable.clear();
  return std::unique_ptr<WritableFile>(new FaultFile(this, path));
}

core::Result<std::unique_ptr<WritableFile>> FaultEnv::open_append(const std::string& path) {
  if (live(path) == nullptr) return not_found(path);
  return std::unique_ptr<WritableFile>(new FaultFile(this, path));
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

void FaultEnv::crash(Tear tear) {
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    Node& node = it->second;
    if (!node.exists_durable) {
      it = nodes_.erase(it);
      continue;
    }
    std::string kept = node.durable;
    // The unsynced tail exists only when the current bytes extend the durable ones.
    bool extends = node.exists && node.current.size() > kept.size() &&
                   node.current.compare(0, kept.size(), kept) == 0;
    if (tear != Tear::kNone && extends) {
      std::size_t unsynced = node.current.size() - kept.size();
      std::size_t keep = std::uniform_int_distribution<std::size_t>(0, unsynced)(rng_);
      std::string piece = node.current.substr(kept.size(), keep);
      if (tear == Tear::kZeroFilled && !piece.empty()) {
        std::size_t from = std::uniform_int_distribution<std::size_t>(0, piece.size())(rng_);
        std::fill(piece.begin() + static_cast<std::ptrdiff_t>(from), piece.end(), '\0');
      }
      kept += piece;
    }
    node.current = kept;
    node.durable = kept;
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
