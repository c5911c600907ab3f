// Fuzz target for the accepting side of server-RPC TLS (rpc/tls_stream.h), which reads bytes
// from any peer that can reach port 8300 before anything is authenticated: the first-byte
// sniff (rpc/tls_sniff.h), then OpenSSL's handshake over the memory BIOs, or plaintext
// passed through. The first input byte picks the chunk size (bits 0-5, plus 1) and whether
// verify_incoming is on (bit 6); the rest is what the peer sends.
//
// Checks: nothing crashes or hangs; every read completes exactly once; plaintext is passed
// through unchanged (and only without verify_incoming); with verify_incoming no byte reaches
// the reader unless a handshake completed, which random bytes cannot do.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "core/assert.h"
#include "rpc/tests/test_certs.h"
#include "rpc/tls_sniff.h"
#include "rpc/tls_stream.h"

namespace {

using pc::rpc::Stream;

// Serves `input` in chunks to reads, at once (inline completions); swallows writes.
class MemoryStream final : public Stream {
 public:
  MemoryStream(std::string input, std::size_t chunk) : input_(std::move(input)), chunk_(chunk) {}
  void read_some(std::span<std::uint8_t> buffer, Done done) override {
    if (closed_ || offset_ >= input_.size()) {
      return done(pc::core::make_error(pc::core::Code::kUnavailable, "end of stream"));
    }
    const std::size_t n = std::min({chunk_, buffer.size(), input_.size() - offset_});
    std::copy_n(input_.data() + offset_, n, buffer.data());
    offset_ += n;
    done(n);
  }
  void write(std::span<const std::uint8_t> bytes, Done done) override { done(bytes.size()); }
  void close() override { closed_ = true; }

 private:
  std::string input_;
  std::size_t chunk_;
  std::size_t offset_ = 0;
  bool closed_ = false;
};

struct Contexts {
  std::shared_ptr<const pc::rpc::TlsContext> verify, lenient;
};

const Contexts& contexts() {
  static const Contexts made = [] {
    std::string dir =
        (std::filesystem::temp_directory_path() / ("pc-tls-fuzz-" + std::to_string(getpid())))
            .string();
    std::filesystem::create_directories(dir);
    pc::rpc::testing::TestPki pki(dir);
    auto files = pki.leaf("server", {"server.dc1.consul"}, 1);
    pc::core::TlsListenerConfig c;
    c.ca_file = pki.ca_file();
    c.cert_file = files.cert;
    c.key_file = files.key;
    c.verify_incoming = true;
    Contexts out;
    out.verify = *pc::rpc::TlsContext::load(c, "");
    c.verify_incoming = false;
    out.lenient = *pc::rpc::TlsContext::load(c, "");
    std::filesystem::remove_all(dir);
    return out;
  }();
  return made;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = (data[0] & 0x3f) + 1;
  const bool verify = (data[0] & 0x40) != 0;
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  auto stream =
      pc::rpc::tls_server_stream(std::make_unique<MemoryStream>(input, chunk),
                                 verify ? contexts().verify : contexts().lenient, "fuzz:1");
  std::string delivered;
  std::uint8_t buffer[4096];
  for (int reads = 0;; ++reads) {
    PC_ASSERT(reads <= static_cast<int>(input.size()) + 2, "reads do not end");
    int completions = 0;
    bool failed = false;
    stream->read_some(std::span(buffer), [&](pc::core::Result<std::size_t> r) {
      ++completions;
      if (!r) {
        failed = true;
        return;
      }
      PC_ASSERT(*r > 0 && *r <= sizeof buffer, "a read of {} bytes", *r);
      delivered.append(reinterpret_cast<const char*>(buffer), *r);
    });
    // Every completion here is inline: the inner stream completes at once.
    PC_ASSERT(completions == 1, "a read completed {} times", completions);
    if (failed) break;
  }
  stream->close();
  const bool plaintext =
      !input.empty() && pc::rpc::classify_first_byte(static_cast<std::uint8_t>(input[0])) ==
                            pc::rpc::FirstByte::kPlaintext;
  if (plaintext && !verify) {
    PC_ASSERT(delivered == input, "plaintext changed on its way through");
  } else {
    PC_ASSERT(delivered.empty(), "bytes reached the reader without a handshake");
  }
  return 0;
}
