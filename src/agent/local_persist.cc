#include "agent/local_persist.h"

#include <openssl/sha.h>

#include <filesystem>

#include "core/file_io.h"
#include "core/log.h"

namespace pc::agent {
namespace {

constexpr std::string_view kModule = "agent";
constexpr std::string_view kServicesDir = "services";
constexpr std::string_view kChecksDir = "checks";
constexpr std::string_view kCheckStateDir = "checks/state";
constexpr unsigned kFileMode = 0600;

// Every readable regular file of `dir` but leftovers of interrupted writes, which are
// removed. A missing directory is an empty one.
std::vector<std::pair<std::string, std::string>> read_dir_files(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    if (ec != std::errc::no_such_file_or_directory) {
      core::log::error(kModule, "Failed reading directory {}: {}", dir, ec.message());
    }
    return out;
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    if (!it->is_regular_file(ec)) continue;
    if (path.ends_with(".tmp")) {
      core::log::warn(kModule, "Removing partially written file {}", path);
      (void)core::remove_file(path);
      continue;
    }
    auto data = core::read_small_file(path, kPersistedFileSizeMax);
    if (!data || !*data) {
      core::log::error(kModule, "Failed reading file {}: {}", path,
                       data ? "it is gone" : data.error().message);
      continue;
    }
    out.emplace_back(path, std::move(**data));
  }
  if (ec) core::log::error(kModule, "Failed listing directory {}: {}", dir, ec.message());
  return out;
}

// A file found under another name than its ID's (renamed by hand, or a different hash) is
// moved to that name, so a later deregistration removes it.
void rename_to(std::string& path, const std::string& want) {
  if (path == want) return;
  std::error_code ec;
  std::filesystem::rename(path, want, ec);
  if (ec) {
    core::log::error(kModule, "Failed renaming {} to {}: {}", path, want, ec.message());
    return;
  }
  path = want;
}

// Decodes every file of `dir`: what does not decode is logged and skipped; what does is
// moved to the name its ID gives (`path_of`).
template <typename T, typename Decode, typename PathOf>
std::vector<LoadedFile<T>> decode_dir_files(const std::string& dir, Decode decode, PathOf path_of) {
  std::vector<LoadedFile<T>> out;
  for (auto& [path, text] : read_dir_files(dir)) {
    core::Result<T> p = decode(text);
    if (!p) {
      core::log::error(kModule, "Failed decoding file {}: {}", path, p.error().message);
      continue;
    }
    std::string at = path;
    rename_to(at, path_of(*p));
    out.push_back({std::move(*p), std::move(at)});
  }
  return out;
}

}  // namespace

std::string persisted_file_name(std::string_view id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof digest);
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

LocalPersist::LocalPersist(std::string data_dir) : data_dir_(std::move(data_dir)) {}

std::string LocalPersist::service_path(std::string_view service_id) const {
  return data_dir_ + "/" + std::string(kServicesDir) + "/" + persisted_file_name(service_id);
}
std::string LocalPersist::check_path(std::string_view check_id) const {
  return data_dir_ + "/" + std::string(kChecksDir) + "/" + persisted_file_name(check_id);
}
std::string LocalPersist::check_state_path(std::string_view check_id) const {
  return data_dir_ + "/" + std::string(kCheckStateDir) + "/" + persisted_file_name(check_id);
}

core::Status LocalPersist::save_service(const state::Service& service, const std::string& token) {
  if (!enabled()) return core::ok();
  PersistedService p{service, token};
  p.service.node.clear();
  p.service.create_index = p.service.modify_index = 0;
  return core::write_file_atomic(service_path(service.id), encode_persisted_service(p), kFileMode,
                                 core::FileSync::kFull);
}

core::Status LocalPersist::purge_service(std::string_view service_id) {
  if (!enabled()) return core::ok();
  return core::remove_file(service_path(service_id));
}

core::Status LocalPersist::save_check(const state::HealthCheck& check, const CheckSpec& spec) {
  if (!enabled()) return core::ok();
  PersistedCheck p;
  p.check.check_id = check.check_id;
  p.check.name = check.name;
  p.check.notes = check.notes;
  p.check.service_id = check.service_id;
  if (spec.kind != CheckKind::kManual) p.spec = spec;
  return core::write_file_atomic(check_path(check.check_id), encode_persisted_check(p), kFileMode,
                                 core::FileSync::kFull);
}

core::Status LocalPersist::purge_check(std::string_view check_id) {
  if (!enabled()) return core::ok();
  if (auto st = core::remove_file(check_path(check_id)); !st) return st;
  return purge_check_state(check_id);
}

core::Status LocalPersist::save_check_state(const PersistedCheckState& state) {
  if (!enabled()) return core::ok();
  return core::write_file_atomic(check_state_path(state.check_id),
                                 encode_persisted_check_state(state), kFileMode,
                                 core::FileSync::kNone);
}

core::Status LocalPersist::purge_check_state(std::string_view check_id) {
  if (!enabled()) return core::ok();
  return core::remove_file(check_state_path(check_id));
}

std::vector<LoadedFile<PersistedService>> LocalPersist::load_services() const {
  if (!enabled()) return {};
  return decode_dir_files<PersistedService>(
      data_dir_ + "/" + std::string(kServicesDir), decode_persisted_service,
      [this](const PersistedService& p) { return service_path(p.service.id); });
}

std::vector<LoadedFile<PersistedCheck>> LocalPersist::load_checks() const {
  if (!enabled()) return {};
  return decode_dir_files<PersistedCheck>(
      data_dir_ + "/" + std::string(kChecksDir), decode_persisted_check,
      [this](const PersistedCheck& p) { return check_path(p.check.check_id); });
}

std::optional<PersistedCheckState> LocalPersist::load_check_state(std::string_view check_id) const {
  if (!enabled()) return std::nullopt;
  const std::string path = check_state_path(check_id);
  auto data = core::read_small_file(path, kPersistedFileSizeMax);
  if (data && !*data) return std::nullopt;
  core::Result<PersistedCheckState> state =
      data ? decode_persisted_check_state(**data) : core::Result<PersistedCheckState>(data.error());
  if (state && state->check_id == check_id) return std::move(*state);
  core::log::error(kModule, "Failed loading check state {}: {}", path,
                   state ? "it names check " + state->check_id : state.error().message);
  (void)core::remove_file(path);
  return std::nullopt;
}

}  // namespace pc::agent
