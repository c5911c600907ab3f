#include "cli/commands/tls/tls_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>

#include "cli/commands/helpers.h"

namespace pc::cli {
namespace {

core::Error io_error(std::string_view op, const std::string& path, int err) {
  return core::make_error(core::Code::kIoError,
                          std::string(op) + " " + path + ": " + go_errno_text(err));
}

// A suffix that two concurrent runs will not share (Consul uses a UUID).
std::string random_suffix() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> hex_digit(0, 15);
  std::string out;
  for (int i = 0; i < 16; ++i) out += "0123456789abcdef"[hex_digit(device)];
  return out;
}

}  // namespace

bool file_does_not_exist(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) != 0 && errno == ENOENT;
}

core::Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("open", path, errno);
  std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return io_error("read", path, EIO);
  return data;
}

core::Status write_file_atomic(const std::string& path, const std::string& contents, mode_t mode) {
  const std::string temp = path + "-" + random_suffix() + ".tmp";
  int fd = ::open(temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) return io_error("open", temp, errno);
  std::size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(temp.c_str());
      return io_error("write", temp, err);
    }
    written += static_cast<std::size_t>(n);
  }
  int sync_err = ::fsync(fd) != 0 ? errno : 0;
  int close_err = ::close(fd) != 0 ? errno : 0;
  if (sync_err != 0 || close_err != 0) {
    ::unlink(temp.c_str());
    return io_error("sync", temp, sync_err != 0 ? sync_err : close_err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return io_error("rename", temp, err);
  }
  return core::ok();
}

}  // namespace pc::cli
