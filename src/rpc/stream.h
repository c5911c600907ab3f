#pragma once
// The byte-stream seam under every RPC connection. The transport reads and writes a Stream,
// never a socket, so TLS (the security work) can wrap the plain TCP stream without touching
// the transport: set Options::wrap_stream on the server and the client to a function that
// returns a TLS Stream over the TCP one. No Asio here, so a wrapper need not be an Asio TU.
//
// Contract for implementations:
// - At most one read_some and one write are outstanding at a time (the transport has one
//   reader and one writer per connection); they may overlap each other.
// - Each operation completes exactly once, with the byte count or an error, on any thread
//   (the transport moves the completion onto its connection's strand). End of stream is an
//   error with Code::kUnavailable.
// - close() makes outstanding operations complete (with an error) promptly and later ones
//   fail; it is called once, from the transport's strand, never concurrently with itself.
// - The Stream object lives until both outstanding operations have completed.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/result.h"

namespace pc::rpc {

class Stream {
 public:
  using Done = std::function<void(core::Result<std::size_t>)>;

  virtual ~Stream() = default;
  // Reads at least one byte into `buffer` (which stays valid until `done` runs).
  virtual void read_some(std::span<std::uint8_t> buffer, Done done) = 0;
  // Writes all of `bytes` (valid until `done` runs); `done` gets bytes.size() or an error.
  virtual void write(std::span<const std::uint8_t> bytes, Done done) = 0;
  virtual void close() = 0;
};

// Wraps a freshly connected (client == true) or accepted (client == false) stream, e.g. in
// TLS; `peer` is the remote "ip:port", for certificate checks and log lines. The handshake,
// if any, happens inside the wrapper's first reads and writes. Returning the error refuses
// the connection.
using StreamWrapper = std::function<core::Result<std::unique_ptr<Stream>>(
    std::unique_ptr<Stream> stream, bool client, const std::string& peer)>;

}  // namespace pc::rpc
