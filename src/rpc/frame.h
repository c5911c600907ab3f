#pragma once
// The server-to-server RPC wire format (docs/formats/rpc.md is the prose version; keep them in
// step). Pure: encoders and an incremental decoder over bytes, no I/O, clock or threads.
//
// A connection opens with an 8-byte preamble in each direction (magic "PCRP", version, three
// zero bytes), then carries frames:
//
//   length u32 | kind u8 | flags u8 | method u16 | stream id u64 | payload (length bytes)
//
// big-endian (network order), 16 header bytes. The decoder never asserts on its input: any
// byte sequence yields frames, "need more bytes", or an error that says what is wrong, and an
// error is final for the connection (there is no way to find the next frame boundary in a
// stream that lied about one).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/result.h"

namespace pc::rpc {

// Methods are numbered by the layer above (consensus, federation); 0 is reserved for control
// frames (ping, pong) and is never a method.
using Method = std::uint16_t;

inline constexpr std::size_t kPreambleSize = 8;
// "PCRP": distinct from anything an HTTP client ("GET ", "POST"), a TLS ClientHello
// (0x16 0x03) or a Consul agent (first byte 0..7 selects its protocol) sends first.
inline constexpr std::string_view kPreambleMagic = "PCRP";
inline constexpr std::uint8_t kProtocolVersion = 1;

inline constexpr std::size_t kFrameHeaderSize = 16;
// Largest payload a frame may carry. A Raft message carries at most a batch of log entries or
// one snapshot chunk; 64 MiB is well above that (the WAL's record limit is 16 MiB) and bounds
// what a hostile or corrupt length field can make a reader buffer.
inline constexpr std::uint32_t kFramePayloadSizeMax = 64 * 1024 * 1024;

// Append-only: the values are on the wire. 0 is never a kind, so a zeroed header is refused.
enum class FrameKind : std::uint8_t {
  kRequest = 1,   // client -> server; expects exactly one kResponse or kError, same stream id
  kResponse = 2,  // server -> client; payload is the handler's answer
  kError = 3,     // server -> client; payload: core::Code u8, then a UTF-8 message
  kMessage = 4,   // client -> server; one-way, stream id 0, no answer
  kPing = 5,      // either direction; answered by kPong with the same stream id (a nonce)
  kPong = 6,
};
inline constexpr std::uint8_t kFrameKindLast = 6;

std::string_view kind_name(FrameKind kind);

struct Frame {
  FrameKind kind = FrameKind::kMessage;
  Method method = 0;
  std::uint64_t stream_id = 0;
  std::string payload;

  bool operator==(const Frame&) const = default;
};

// Appends this side's preamble.
void append_preamble(std::string* out);

// Checks a peer's preamble. The error says what the peer looks like ("an HTTP client", "a TLS
// ClientHello") when it is recognisably something else, so a misconfigured peer is easy to
// find in the log. `bytes` must hold kPreambleSize bytes.
core::Status check_preamble(std::span<const std::uint8_t> bytes);

// Whether the header fields of `frame` are valid (kind, stream id and method rules of
// docs/formats/rpc.md) and its payload within `payload_size_max`.
core::Status validate(const Frame& frame, std::uint32_t payload_size_max = kFramePayloadSizeMax);

// Appends one encoded frame. The frame must be valid (see validate); callers check sizes and
// ids before, so a bad frame here is a broken invariant.
void append_frame(const Frame& frame, std::string* out);
std::string encode_frame(const Frame& frame);

// kError payloads: the code as one byte, then the message.
std::string encode_error_payload(const core::Error& error);
// Never fails: an empty payload or an unknown code becomes kInternal, so a newer peer's code
// still reaches the caller as an error.
core::Error decode_error_payload(std::string_view payload);

// Incremental decoder for one direction of one connection. Feed it bytes as they arrive, in
// pieces of any size, and take frames out with next(). Not thread-safe (one per connection
// reader). Memory: holds at most one incomplete frame plus the last piece fed; a length above
// payload_size_max is refused from its header alone, before any payload is buffered.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::uint32_t payload_size_max = kFramePayloadSizeMax,
                        bool expect_preamble = true);

  void feed(std::span<const std::uint8_t> bytes);
  void feed(std::string_view bytes);

  // The next complete frame, nullopt when more bytes are needed, or an error. After an error
  // every later call returns the same error: the stream cannot be resynchronised.
  core::Result<std::optional<Frame>> next();

  bool preamble_done() const { return !expect_preamble_; }
  bool failed() const { return failure_.has_value(); }
  // Bytes fed but not yet returned in a frame.
  std::size_t buffered() const { return buffer_.size() - read_pos_; }

 private:
  core::Error fail(core::Error error);
  void compact();

  std::string buffer_;
  std::size_t read_pos_ = 0;
  std::uint32_t payload_size_max_;
  bool expect_preamble_;
  std::optional<core::Error> failure_;
};

}  // namespace pc::rpc
