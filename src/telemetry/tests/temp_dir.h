#pragma once
// A directory under the system temp dir, removed with everything in it at the end of a test.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace pc::telemetry::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pc-audit-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace pc::telemetry::testing
