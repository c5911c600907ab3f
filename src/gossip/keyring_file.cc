#include "gossip/keyring_file.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/file_io.h"

namespace pc::gossip {
namespace {

core::Error corrupt(const std::string& why) {
  return core::make_error(core::Code::kCorruption, "keyring file: " + why);
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
  auto text = core::read_small_file(path, kKeyringFileSizeMax);
  if (!text) {
    // An oversized file is a damaged keyring, as parse_keyring_file says of oversized text.
    if (text.error().code == core::Code::kTooLarge) {
      return core::make_error(core::Code::kCorruption, path + ": keyring file: too large");
    }
    return core::make_error(text.error().code, "keyring file: " + text.error().message);
  }
  if (!*text) return std::optional<std::vector<std::string>>{};
  auto keys = parse_keyring_file(**text);
  if (!keys) {
    return core::make_error(keys.error().code, path + ": " + keys.error().message);
  }
  return std::optional<std::vector<std::string>>(std::move(*keys));
}

core::Status write_keyring_file(const std::string& path, const std::vector<std::string>& keys) {
  // Serf's keyring holds the gossip encryption keys: owner-only, and synced before the
  // rename, since a keyring change must survive a crash that follows it.
  core::Status st =
      core::write_file_atomic(path, encode_keyring_file(keys), 0600, core::FileSync::kFull);
  if (!st) return core::make_error(st.error().code, "keyring file: " + st.error().message);
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
