#include "daemon/lan_snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace pc::daemon {
namespace {

// A name or an address: non-empty, no spaces or control bytes.
bool token_ok(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

core::Error io_error(const std::string& what) {
  return core::make_error(core::Code::kIoError, what + ": " + std::strerror(errno));
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

LanSnapshotState decode_lan_snapshot(std::string_view text) {
  LanSnapshotState state;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    // A last line without its newline was cut by a crash: not trusted.
    bool complete = end != std::string_view::npos;
    text.remove_prefix(complete ? end + 1 : text.size());
    if (!complete || line.size() > lan_snapshot_line_size_max) {
      ++state.skipped;
      continue;
    }
    if (line == "leave") {
      state.left = true;
      ++state.lines;
      continue;
    }
    if (line.rfind("alive: ", 0) == 0) {
      std::string_view rest = line.substr(7);
      std::size_t space = rest.find(' ');
      if (space != std::string_view::npos && token_ok(rest.substr(0, space)) &&
          token_ok(rest.substr(space + 1))) {
        state.alive[std::string(rest.substr(0, space))] = std::string(rest.substr(space + 1));
        state.left = false;  // events after a leave: the agent came back
        ++state.lines;
        continue;
      }
    } else if (line.rfind("not-alive: ", 0) == 0) {
      std::string_view name = line.substr(11);
      if (token_ok(name)) {
        state.alive.erase(std::string(name));
        ++state.lines;
        continue;
      }
    }
    ++state.skipped;
  }
  return state;
}

std::vector<std::string> lan_snapshot_rejoin_addresses(const LanSnapshotState& state,
                                                       std::string_view self_name) {
  std::vector<std::string> out;
  if (state.left) return out;
  for (const auto& [name, address] : state.alive) {
    if (name != self_name) out.push_back(address);
  }
  return out;
}

core::Result<std::unique_ptr<LanSnapshotFile>> LanSnapshotFile::open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) {
    return core::make_error(core::Code::kIoError,
                            "creating the directory of " + path + ": " + ec.message());
  }
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream buf;
      buf << in.rdbuf();
      text = buf.str();
    }
  }
  std::unique_ptr<LanSnapshotFile> file(new LanSnapshotFile(path, decode_lan_snapshot(text)));
  std::lock_guard lock(file->mu_);
  file->alive_ = file->previous_.alive;
  // Start from a compact file: the alive members as read, without the leave mark.
  file->compact_locked();
  if (file->fd_ < 0) return io_error("opening " + path);
  return file;
}

LanSnapshotFile::LanSnapshotFile(std::string path, LanSnapshotState previous)
    : path_(std::move(path)), previous_(std::move(previous)) {}

LanSnapshotFile::~LanSnapshotFile() {
  if (fd_ >= 0) ::close(fd_);
}

void LanSnapshotFile::alive(std::string_view name, std::string_view address) {
  if (!token_ok(name) || !token_ok(address)) return;
  std::lock_guard lock(mu_);
  auto it = alive_.find(std::string(name));
  if (it != alive_.end() && it->second == address) return;  // nothing new to say
  alive_[std::string(name)] = std::string(address);
  append_locked("alive: " + std::string(name) + " " + std::string(address) + "\n");
}

void LanSnapshotFile::not_alive(std::string_view name) {
  if (!token_ok(name)) return;
  std::lock_guard lock(mu_);
  if (alive_.erase(std::string(name)) == 0) return;
  append_locked("not-alive: " + std::string(name) + "\n");
}

void LanSnapshotFile::leave() {
  std::lock_guard lock(mu_);
  append_locked("leave\n");
}

void LanSnapshotFile::append_locked(const std::string& line) {
  if (fd_ < 0) return;
  (void)write_all(fd_, line);
  ++lines_;
  if (lines_ >= lan_snapshot_compact_lines_min && lines_ >= 4 * alive_.size()) compact_locked();
}

// Writes the alive members to a new file and renames it over the old one, so a crash
// mid-compaction leaves one whole file or the other.
void LanSnapshotFile::compact_locked() {
  std::string text;
  for (const auto& [name, address] : alive_) text += "alive: " + name + " " + address + "\n";
  const std::string tmp = path_ + ".compact";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  if (!write_all(fd, text) || ::fsync(fd) != 0 || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return;
  }
  ::close(fd);
  int append = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (append < 0) return;
  if (fd_ >= 0) ::close(fd_);
  fd_ = append;
  lines_ = alive_.size();
}

}  // namespace pc::daemon
