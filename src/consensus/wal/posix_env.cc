// Posix implementation of the WAL's Env: plain file descriptors, write(2) loops, fdatasync.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "consensus/wal/env.h"
#include "core/assert.h"

namespace pc::consensus::wal {
namespace {

using core::Code;
using core::Result;
using core::Status;

core::Error io_error(std::string_view op, const std::string& path, int err) {
  return core::make_error(Code::kIoError, fmt::format("{} {}: {}", op, path, std::strerror(err)));
}

// Makes `fd` at least `size` bytes long with allocated blocks (mode 0 of fallocate(2) extends
// the size, as etcd's WAL does). A file system without fallocate keeps the file as it is:
// preallocation is only an optimisation.
Status preallocate(int fd, const std::string& path, std::uint64_t size) {
  if (size == 0) return core::ok();
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("fstat", path, errno);
  if (static_cast<std::uint64_t>(st.st_size) >= size) return core::ok();
  if (::fallocate(fd, 0, 0, static_cast<off_t>(size)) != 0) {
    if (errno == EOPNOTSUPP || errno == ENOSYS) return core::ok();
    return io_error("fallocate", path, errno);
  }
  return core::ok();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, std::uint64_t position)
      : path_(std::move(path)), fd_(fd), position_(position) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(std::string_view data) override {
    if (fd_ < 0) return io_error("write", path_, EBADF);
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(position_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error("write", path_, errno);
      }
      data.remove_prefix(static_cast<std::size_t>(n));
      position_ += static_cast<std::uint64_t>(n);
    }
    return core::ok();
  }

  Status sync() override {
    if (fd_ < 0) return io_error("fdatasync", path_, EBADF);
    if (::fdatasync(fd_) != 0) return io_error("fdatasync", path_, errno);
    return core::ok();
  }

  Status close() override {
    if (fd_ < 0) return core::ok();
    int rc = ::close(fd_);
    fd_ = -1;
    // close(2) must not be retried on EINTR on Linux: the descriptor is gone either way.
    if (rc != 0 && errno != EINTR) return io_error("close", path_, errno);
    return core::ok();
  }

 private:
  std::string path_;
  int fd_;
  std::uint64_t position_;
};

class PosixEnv final : public Env {
 public:
  Status create_dirs(const std::string& dir) override {
    // mkdir one level at a time, fsyncing the parent of each directory created: otherwise a
    // crash could lose the new directory, and every segment synced inside it with it.
    std::filesystem::path path;
    for (const auto& part : std::filesystem::path(dir)) {
      path /= part;
      if (::mkdir(path.c_str(), 0755) == 0) {
        std::filesystem::path parent = path.parent_path();
        if (auto s = sync_dir(parent.empty() ? "." : parent.string()); !s) return s;
      } else if (errno != EEXIST) {
        return io_error("mkdir", path.string(), errno);
      }
    }
    return core::ok();
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      names.push_back(entry.path().filename().string());
    }
    if (ec) return io_error("list", dir, ec.value());
    return names;
  }

  Result<std::string> read_file(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("open", path, errno);
    std::string out;
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return io_error("read", path, err);
      }
      if (n == 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Result<std::unique_ptr<WritableFile>> create_file(const std::string& path,
                                                    std::uint64_t preallocate_bytes) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("create", path, errno);
    auto file = std::make_unique<PosixWritableFile>(path, fd, 0);
    if (auto s = preallocate(fd, path, preallocate_bytes); !s) return s.error();
    return std::unique_ptr<WritableFile>(std::move(file));
  }

  Result<std::unique_ptr<WritableFile>> open_at(const std::string& path, std::uint64_t position,
                                                std::uint64_t preallocate_bytes) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return io_error("open", path, errno);
    auto file = std::make_unique<PosixWritableFile>(path, fd, position);
    if (auto s = preallocate(fd, path, preallocate_bytes); !s) return s.error();
    return std::unique_ptr<WritableFile>(std::move(file));
  }

  Status truncate_file(const std::string& path, std::uint64_t size) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return io_error("open", path, errno);
    Status result = core::ok();
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      result = io_error("truncate", path, errno);
    } else if (::fsync(fd) != 0) {
      result = io_error("fsync", path, errno);
    }
    ::close(fd);
    return result;
  }

  Status remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return io_error("unlink", path, errno);
    return core::ok();
  }

  Status sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("open", dir, errno);
    Status result = core::ok();
    if (::fsync(fd) != 0) result = io_error("fsync", dir, errno);
    ::close(fd);
    return result;
  }
};

}  // namespace

Env& posix_env() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: usable during static teardown
  return *env;
}

}  // namespace pc::consensus::wal
