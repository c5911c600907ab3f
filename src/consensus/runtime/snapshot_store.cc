#include "consensus/runtime/snapshot_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/crc32c.h"
#include "core/log.h"
#include "core/strings.h"

namespace pc::consensus {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kMagic = "PCSNAP01";
constexpr std::string_view kSuffix = ".snap";
constexpr std::string_view kTempSuffix = ".snap.tmp";
// A membership list longer than this is damage, not a cluster.
constexpr std::uint32_t kMaxMembers = 4096;

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_ids(std::string& out, const std::vector<raft::NodeId>& ids) {
  put_u32(out, static_cast<std::uint32_t>(ids.size()));
  for (raft::NodeId id : ids) put_u64(out, id);
}

// Reads little-endian values from a byte range; any read past the end sets `bad`.
struct Reader {
  std::string_view in;
  bool bad = false;

  std::uint64_t take(int bytes) {
    if (in.size() < static_cast<std::size_t>(bytes)) {
      bad = true;
      in = {};
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    }
    in.remove_prefix(static_cast<std::size_t>(bytes));
    return v;
  }
  std::vector<raft::NodeId> ids() {
    const auto n = static_cast<std::uint32_t>(take(4));
    std::vector<raft::NodeId> out;
    if (n > kMaxMembers || n * 8ull > in.size()) {
      bad = true;
      return out;
    }
    for (std::uint32_t i = 0; i < n; ++i) out.push_back(take(8));
    return out;
  }
};

std::string file_name(const raft::SnapshotMeta& meta) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%016llx-%016llx", static_cast<unsigned long long>(meta.term),
                static_cast<unsigned long long>(meta.index));
  return std::string(buf) + std::string(kSuffix);
}

core::Error io_error(const std::string& what, const std::string& path) {
  return core::make_error(core::Code::kIoError, what + " " + path + ": " + std::strerror(errno));
}

core::Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return io_error("open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("fsync", dir);
  return core::ok();
}

core::Status write_durably(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("create", path);
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      core::Error e = io_error("write", path);
      ::close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    core::Error e = io_error("fdatasync", path);
    ::close(fd);
    return e;
  }
  ::close(fd);
  return core::ok();
}

}  // namespace

SnapshotStore::SnapshotStore(std::string dir, std::size_t retain)
    : dir_(std::move(dir)), retain_(std::max<std::size_t>(1, retain)) {}

std::string SnapshotStore::encode(const raft::Snapshot& snapshot) {
  std::string out(kMagic);
  put_u64(out, snapshot.meta.term);
  put_u64(out, snapshot.meta.index);
  put_ids(out, snapshot.meta.conf.voters);
  put_ids(out, snapshot.meta.conf.learners);
  put_ids(out, snapshot.meta.conf.voters_outgoing);
  put_u64(out, snapshot.data.size());
  out += snapshot.data;
  put_u32(out, core::crc32c(out));
  return out;
}

core::Result<raft::Snapshot> SnapshotStore::decode(std::string_view bytes) {
  auto corrupt = [](std::string why) {
    return core::make_error(core::Code::kCorruption, "raft snapshot: " + why);
  };
  if (bytes.size() < kMagic.size() + 4 || bytes.substr(0, kMagic.size()) != kMagic) {
    return corrupt("not a snapshot file (bad magic)");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  Reader crc_reader{bytes.substr(bytes.size() - 4)};
  if (static_cast<std::uint32_t>(crc_reader.take(4)) != core::crc32c(body)) {
    return corrupt("checksum mismatch");
  }
  Reader r{body.substr(kMagic.size())};
  raft::Snapshot s;
  s.meta.term = r.take(8);
  s.meta.index = r.take(8);
  s.meta.conf.voters = r.ids();
  s.meta.conf.learners = r.ids();
  s.meta.conf.voters_outgoing = r.ids();
  const std::uint64_t size = r.take(8);
  if (r.bad || size != r.in.size()) return corrupt("truncated or malformed header");
  if (s.meta.index == 0) return corrupt("snapshot at index 0");
  s.data.assign(r.in);
  return s;
}

core::Status SnapshotStore::open() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return core::make_error(core::Code::kIoError, "create " + dir_ + ": " + ec.message());
  }
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(kTempSuffix)) fs::remove(entry.path(), ec);
  }
  return core::ok();
}

std::vector<std::string> SnapshotStore::list() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    // <16 hex>-<16 hex>.snap: the fixed width makes lexical order (term, index) order.
    if (name.size() == 33 + kSuffix.size() && name.ends_with(kSuffix)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

core::Status SnapshotStore::save(const raft::Snapshot& snapshot) {
  const std::string name = file_name(snapshot.meta);
  const std::string path = dir_ + "/" + name;
  const std::string temp = path + ".tmp";
  if (auto s = write_durably(temp, encode(snapshot)); !s) return s;
  if (::rename(temp.c_str(), path.c_str()) != 0) return io_error("rename", temp);
  if (auto s = fsync_dir(dir_); !s) return s;
  auto names = list();
  std::error_code ec;
  for (std::size_t i = 0; i + retain_ < names.size(); ++i) {
    fs::remove(dir_ + "/" + names[i], ec);
    if (ec) core::log::warn("raft", "removing old snapshot {}: {}", names[i], ec.message());
  }
  return core::ok();
}

core::Result<std::optional<raft::Snapshot>> SnapshotStore::load_newest() const {
  auto names = list();
  if (names.empty()) return std::optional<raft::Snapshot>{};
  const std::string path = dir_ + "/" + names.back();
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("open", path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  auto decoded = decode(bytes.str());
  if (!decoded) return decoded.error().with_context(path);
  return std::optional<raft::Snapshot>(std::move(*decoded));
}

}  // namespace pc::consensus
