// Corpus replay for fuzz targets built without libFuzzer (g++ builds, CI): runs every file
// of the corpus directory given as argv[1] through LLVMFuzzerTestOneInput once. Crashers that
// libFuzzer finds are added to the corpus, so every CI run replays them.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  std::error_code ec;
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1], ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string input = bytes.str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    ++count;
  }
  if (ec || count == 0) {
    // An empty or missing corpus would make this test pass while testing nothing.
    std::fprintf(stderr, "no corpus files in %s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  std::printf("replayed %zu corpus files\n", count);
  return 0;
}
