#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace pc::core {
namespace {

Error io_error(const char* what, const std::string& path, int err) {
  return make_error(Code::kIoError, std::string(what) + " " + path + ": " + std::strerror(err));
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write", path, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

Status fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("fsync", dir, err);
  return ok();
}

}  // namespace

Status write_file_atomic(const std::string& path, std::string_view data, unsigned mode,
                         FileSync sync) {
  const std::filesystem::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(Code::kIoError, "mkdir " + dir + ": " + ec.message());
  // The directories hold tokens too (the files' names say which IDs exist).
  ::chmod(dir.c_str(), 0700);
  const std::string tmp = path + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return io_error("open", tmp, errno);
  // open() applies the umask; the mode asked for is what the file must have.
  Status st = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 ? ok() : io_error("chmod", tmp, errno);
  if (st) st = write_all(fd, data, tmp);
  if (st && sync == FileSync::kFull && ::fsync(fd) != 0) st = io_error("fsync", tmp, errno);
  ::close(fd);
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) st = io_error("rename", tmp, errno);
  if (!st) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (sync == FileSync::kFull) return fsync_dir(dir);
  return ok();
}

Result<std::optional<std::string>> read_small_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return io_error("open", path, errno);
  }
  std::string data;
  char buf[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return io_error("read", path, err);
    }
    if (n == 0) break;
    if (data.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      return make_error(Code::kTooLarge,
                        path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(data));
}

Status remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("remove", path, errno);
  return ok();
}

}  // namespace pc::core
