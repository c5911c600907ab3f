#include "gossip/keyring_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pc::gossip {
namespace {

core::Error corrupt(const std::string& why) {
  return core::make_error(core::Code::kCorruption, "keyring file: " + why);
}

core::Error io_error(const std::string& what, const std::string& path) {
  return core::make_error(core::Code::kIoError,
                          "keyring file " + path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

core::Result<std::vector<std::string>> parse_keyring_file(std::string_view text) {
  if (text.size() > kKeyringFileSizeMax) return corrupt("too large");
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return corrupt("not JSON: " + ec.message());
  if (!v.is_array()) return corrupt("not a JSON array of keys");
  const boost::json::array& a = v.as_array();
  if (a.size() > kKeyringFileKeysMax) return corrupt("too many keys");
  std::vector<std::string> keys;
  for (const boost::json::value& k : a) {
    if (!k.is_string()) return corrupt("a key that is not a string");
    std::string key(k.as_string());
    if (auto ok = Keyring::decode_key(key); !ok) return corrupt(ok.error().message);
    keys.push_back(std::move(key));
  }
  return keys;
}

std::string encode_keyring_file(const std::vector<std::string>& keys) {
  boost::json::array a;
  for (const std::string& k : keys) a.emplace_back(k);
  return boost::json::serialize(a) + "\n";
}

core::Result<std::optional<std::vector<std::string>>> read_keyring_file(const std::string& path) {
  std::error_code fec;
  if (!std::filesystem::exists(path, fec)) {
    return std::optional<std::vector<std::string>>{};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("open", path);
  std::string text;
  text.resize(kKeyringFileSizeMax + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto keys = parse_keyring_file(text);
  if (!keys) {
    return core::make_error(keys.error().code, path + ": " + keys.error().message);
  }
  return std::optional<std::vector<std::string>>(std::move(*keys));
}

core::Status write_keyring_file(const std::string& path, const std::vector<std::string>& keys) {
  std::error_code fec;
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), fec);
  if (fec) {
    return core::make_error(core::Code::kIoError,
                            "keyring file " + path + ": mkdir: " + fec.message());
  }
  const std::string tmp = path + ".tmp";
  const std::string text = encode_keyring_file(keys);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("open", tmp);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const core::Error e = io_error("write", tmp);
      ::close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const core::Error e = io_error("fsync", tmp);
    ::close(fd);
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename", path);
  return core::ok();
}

core::Status load_keyring(Keyring& keyring, const std::string& path, const std::string& encrypt,
                          bool& ignored_encrypt) {
  ignored_encrypt = false;
  if (!path.empty()) {
    auto existing = read_keyring_file(path);
    if (!existing) return existing.error();
    if (*existing) {
      ignored_encrypt = !encrypt.empty();
      for (const std::string& k : **existing) {
        if (auto s = keyring.install(k); !s) return s;
      }
      // The file's first key is the primary.
      if (!(*existing)->empty()) {
        if (auto s = keyring.use((*existing)->front()); !s) return s;
      }
      return core::ok();
    }
  }
  if (encrypt.empty()) return core::ok();
  if (auto s = keyring.install(encrypt); !s) return s;
  if (!path.empty()) return write_keyring_file(path, keyring.list());
  return core::ok();
}

}  // namespace pc::gossip
