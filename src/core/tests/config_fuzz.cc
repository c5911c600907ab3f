// Fuzz target for the agent's JSON configuration files (bytes read from disk): whatever a file
// holds, loading either succeeds or returns an error naming the problem; it never crashes.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/config.h"

namespace {

// One scratch file per process, removed at exit.
const std::string& scratch_path() {
  static const std::string path = [] {
    char name[] = "/tmp/proconsul-config-fuzz-XXXXXX.json";
    int fd = mkstemps(name, 5);
    if (fd >= 0) close(fd);
    std::atexit([] { std::remove(scratch_path().c_str()); });
    return std::string(name);
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scratch_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto config = pc::core::load_agent_config({"-dev", "-config-file", path});
  if (config) {
    PC_ASSERT(!config->datacenter.empty(), "a loaded config has no datacenter");
  } else {
    PC_ASSERT(!config.error().message.empty(), "a config error without a message");
  }
  return 0;
}
