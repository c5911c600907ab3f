#include "telemetry/rotating_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace pc::telemetry {
namespace {

core::Error io_error(const std::string& what, const std::string& path, int err) {
  return core::make_error(core::Code::kIoError, what + " " + path + ": " + std::strerror(err));
}

// The creation time in a sink file's name, or -1 when `name` is not "<stem>-<digits><ext>".
std::int64_t name_time(std::string_view name, std::string_view stem, std::string_view ext) {
  if (name.size() <= stem.size() + 1 + ext.size()) return -1;
  if (!name.starts_with(stem) || name[stem.size()] != '-' || !name.ends_with(ext)) return -1;
  std::string_view digits =
      name.substr(stem.size() + 1, name.size() - stem.size() - 1 - ext.size());
  if (digits.empty() || digits.size() > 19) return -1;
  std::int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

RotatingFile::RotatingFile(FileSinkOptions options, const core::Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  const std::filesystem::path p(options_.path);
  dir_ = p.parent_path().empty() ? "." : p.parent_path().string();
  ext_ = p.extension().string();
  stem_ = p.stem().string();
  if (ext_.empty()) ext_ = ".log";  // eventlogger's default extension
}

RotatingFile::~RotatingFile() {
  close_current();
}

core::Status RotatingFile::open() {
  return rotate();
}

core::Status RotatingFile::open_new() {
  close_current();
  std::int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.wall_now().time_since_epoch())
          .count();
  // A stalled or stepped-back wall clock must not reuse a name: O_EXCL would refuse it.
  ns = std::max(ns, last_name_ns_ + 1);
  for (int attempt = 0; attempt < 16; ++attempt, ++ns) {
    std::string path = dir_ + "/" + stem_ + "-" + std::to_string(ns) + ext_;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                    static_cast<mode_t>(options_.mode));
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) return io_error("cannot open audit log file", path, errno);
    fd_ = fd;
    current_path_ = std::move(path);
    bytes_written_ = 0;
    created_ = clock_.now();
    last_name_ns_ = ns;
    return core::ok();
  }
  return core::make_error(core::Code::kIoError,
                          "cannot open audit log file in " + dir_ + ": names in use");
}

void RotatingFile::close_current() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RotatingFile::due(std::size_t line_size) const {
  if (options_.rotate_duration.count() > 0 && clock_.now() - created_ >= options_.rotate_duration) {
    return true;
  }
  return options_.rotate_bytes > 0 && bytes_written_ > 0 &&
         bytes_written_ + line_size > options_.rotate_bytes;
}

core::Status RotatingFile::rotate() {
  close_current();
  // Again at every rotation: a directory removed from under a running agent comes back.
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return io_error("cannot create audit log directory", dir_, ec.value());
  prune();
  return open_new();
}

core::Status RotatingFile::write(std::string_view line) {
  if (fd_ < 0 || due(line.size())) {
    core::Status s = rotate();
    if (!s) return s;
  }
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      const std::string path = current_path_;
      close_current();  // the next write starts a fresh file
      return io_error("cannot write audit log file", path, err);
    }
    done += static_cast<std::size_t>(n);
  }
  bytes_written_ += line.size();
  return core::ok();
}

std::vector<std::string> RotatingFile::files() const {
  std::vector<std::pair<std::int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    const std::int64_t t = name_time(name, stem_, ext_);
    if (t >= 0) found.emplace_back(t, entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  out.reserve(found.size());
  for (auto& [t, path] : found) out.push_back(std::move(path));
  return out;
}

// Called between closing the old file and opening the new one (also at start, before the
// first), so every file found is an old one: keep the newest rotate_max_files of them.
void RotatingFile::prune() {
  if (options_.rotate_max_files <= 0) return;
  std::vector<std::string> old = files();
  const auto keep = static_cast<std::size_t>(options_.rotate_max_files);
  if (old.size() <= keep) return;
  for (std::size_t i = 0; i + keep < old.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(old[i], ec);
  }
}

}  // namespace pc::telemetry
