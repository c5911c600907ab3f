// The RPC wire format: see frame.h and docs/formats/rpc.md.
#include "rpc/frame.h"

#include <fmt/core.h>

#include <algorithm>

#include "core/assert.h"

namespace pc::rpc {
namespace {

// The decoder keeps consumed bytes at the front of its buffer until this many have piled up
// (and they are at least half the buffer), so a stream of small frames does not move the
// remainder on every frame.
constexpr std::size_t kCompactThreshold = 64 * 1024;

// The highest core::Code a peer may send; see core/error.h (append-only).
constexpr std::uint8_t kCodeLast = static_cast<std::uint8_t>(core::Code::kInternal);

void put_u16(std::uint16_t v, std::string* out) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}
void put_u32(std::uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}
void put_u64(std::uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}
std::uint64_t get_be(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// Up to 8 leading bytes as hex, for log lines about a peer that is not speaking our protocol.
std::string hex_prefix(std::span<const std::uint8_t> bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < 8; ++i) {
    if (i) out.push_back(' ');
    out += fmt::format("{:02x}", bytes[i]);
  }
  return out;
}

bool starts_with(std::span<const std::uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), bytes.begin(),
                    [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
}

}  // namespace

std::string_view kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::kRequest: return "request";
    case FrameKind::kResponse: return "response";
    case FrameKind::kError: return "error";
    case FrameKind::kMessage: return "message";
    case FrameKind::kPing: return "ping";
    case FrameKind::kPong: return "pong";
  }
  return "unknown";
}

void append_preamble(std::string* out) {
  out->append(kPreambleMagic);
  out->push_back(static_cast<char>(kProtocolVersion));
  out->append(3, '\0');
}

namespace {

// The peer's first bytes do not start with our magic: say what they look like. Only the
// bytes that arrived are shown and judged, since the decoder refuses a stray client as soon as
// one byte disagrees.
core::Error bad_magic(std::span<const std::uint8_t> bytes) {
  std::string looks_like;
  for (std::string_view verb :
       {"GET ", "POST", "PUT ", "HEAD", "DELE", "OPTI", "PATC", "CONN", "PRI "}) {
    if (starts_with(bytes, verb)) looks_like = " (looks like an HTTP client)";
  }
  if (bytes.size() >= 2 && bytes[0] == 0x16 && bytes[1] == 0x03) {
    looks_like = " (looks like a TLS ClientHello: is the peer configured for TLS?)";
  } else if (!bytes.empty() && bytes[0] <= 0x07) {
    looks_like = " (looks like a Consul agent's RPC, which this server does not speak)";
  }
  return core::make_error(core::Code::kInvalidArgument, "not a proconsul rpc peer: bad preamble " +
                                                            hex_prefix(bytes) + looks_like);
}

}  // namespace

core::Status check_preamble(std::span<const std::uint8_t> bytes) {
  PC_ASSERT(bytes.size() >= kPreambleSize, "check_preamble needs {} bytes, got {}", kPreambleSize,
            bytes.size());
  bytes = bytes.first(kPreambleSize);
  if (!starts_with(bytes, kPreambleMagic)) return bad_magic(bytes);
  if (bytes[4] != kProtocolVersion) {
    return core::make_error(core::Code::kInvalidArgument,
                            fmt::format("unsupported rpc protocol version {} (this side speaks {})",
                                        bytes[4], kProtocolVersion));
  }
  if (bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0) {
    return core::make_error(core::Code::kInvalidArgument,
                            "bad rpc preamble: reserved bytes are not zero: " + hex_prefix(bytes));
  }
  return core::ok();
}

core::Status validate(const Frame& frame, std::uint32_t payload_size_max) {
  const auto kind = static_cast<std::uint8_t>(frame.kind);
  if (kind == 0 || kind > kFrameKindLast) {
    return core::make_error(core::Code::kCorruption, fmt::format("unknown frame kind {}", kind));
  }
  if (frame.payload.size() > payload_size_max) {
    return core::make_error(core::Code::kTooLarge,
                            fmt::format("frame payload of {} bytes exceeds the limit of {}",
                                        frame.payload.size(), payload_size_max));
  }
  switch (frame.kind) {
    case FrameKind::kRequest:
      if (frame.method == 0) {
        return core::make_error(core::Code::kCorruption, "request frame with method 0");
      }
      [[fallthrough]];
    case FrameKind::kResponse:
    case FrameKind::kError:
      if (frame.stream_id == 0) {
        return core::make_error(core::Code::kCorruption,
                                fmt::format("{} frame with stream id 0", kind_name(frame.kind)));
      }
      break;
    case FrameKind::kMessage:
      if (frame.method == 0) {
        return core::make_error(core::Code::kCorruption, "message frame with method 0");
      }
      if (frame.stream_id != 0) {
        return core::make_error(core::Code::kCorruption,
                                fmt::format("message frame with stream id {}", frame.stream_id));
      }
      break;
    case FrameKind::kPing:
    case FrameKind::kPong:
      if (frame.method != 0 || !frame.payload.empty()) {
        return core::make_error(
            core::Code::kCorruption,
            fmt::format("{} frame with a method or payload", kind_name(frame.kind)));
      }
      break;
  }
  return core::ok();
}

void append_frame(const Frame& frame, std::string* out) {
  auto valid = validate(frame);
  PC_ASSERT(valid.has_value(), "encoding an invalid rpc frame: {}", valid.error().message);
  out->reserve(out->size() + kFrameHeaderSize + frame.payload.size());
  put_u32(static_cast<std::uint32_t>(frame.payload.size()), out);
  out->push_back(static_cast<char>(frame.kind));
  out->push_back('\0');  // flags: none defined in version 1
  put_u16(frame.method, out);
  put_u64(frame.stream_id, out);
  out->append(frame.payload);
}

std::string encode_frame(const Frame& frame) {
  std::string out;
  append_frame(frame, &out);
  return out;
}

std::string encode_error_payload(const core::Error& error) {
  std::string out;
  out.push_back(static_cast<char>(error.code));
  out.append(error.message);
  return out;
}

core::Error decode_error_payload(std::string_view payload) {
  if (payload.empty()) return core::make_error(core::Code::kInternal, "empty error from peer");
  const auto code = static_cast<std::uint8_t>(payload[0]);
  std::string message(payload.substr(1));
  if (code == 0 || code > kCodeLast) {
    return core::make_error(core::Code::kInternal,
                            fmt::format("{} (unknown error code {})", message, code));
  }
  return core::make_error(static_cast<core::Code>(code), std::move(message));
}

FrameDecoder::FrameDecoder(std::uint32_t payload_size_max, bool expect_preamble)
    : payload_size_max_(payload_size_max), expect_preamble_(expect_preamble) {}

void FrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  if (failure_) return;  // nothing more will be decoded; do not grow the buffer
  compact();
  buffer_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void FrameDecoder::feed(std::string_view bytes) {
  feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                     bytes.size()));
}

void FrameDecoder::compact() {
  if (read_pos_ == buffer_.size()) {
    buffer_.clear();
    read_pos_ = 0;
  } else if (read_pos_ >= kCompactThreshold && read_pos_ * 2 >= buffer_.size()) {
    buffer_.erase(0, read_pos_);
    read_pos_ = 0;
  }
}

core::Error FrameDecoder::fail(core::Error error) {
  failure_ = error;
  buffer_.clear();
  buffer_.shrink_to_fit();
  read_pos_ = 0;
  return error;
}

core::Result<std::optional<Frame>> FrameDecoder::next() {
  if (failure_) return *failure_;
  const auto* data = reinterpret_cast<const std::uint8_t*>(buffer_.data()) + read_pos_;
  const std::size_t available = buffer_.size() - read_pos_;
  if (expect_preamble_) {
    // A peer that is not ours often sends fewer than 8 bytes and then waits for an answer
    // (a 5-byte TLS record header comes with its body, but "GET " may come alone), so judge
    // the magic as soon as the bytes that are here disagree with it.
    const std::size_t have = std::min(available, kPreambleSize);
    const std::size_t magic_have = std::min(have, kPreambleMagic.size());
    if (!starts_with(std::span(data, magic_have), kPreambleMagic.substr(0, magic_have))) {
      return fail(bad_magic(std::span(data, have)));
    }
    if (available < kPreambleSize) return std::optional<Frame>();
    if (auto checked = check_preamble(std::span(data, kPreambleSize)); !checked) {
      return fail(checked.error());
    }
    expect_preamble_ = false;
    read_pos_ += kPreambleSize;
    return next();
  }
  if (available < kFrameHeaderSize) return std::optional<Frame>();
  const auto length = static_cast<std::uint32_t>(get_be(data, 4));
  if (length > payload_size_max_) {
    return fail(core::make_error(
        core::Code::kTooLarge,
        fmt::format("frame length {} exceeds the limit of {} bytes", length, payload_size_max_)));
  }
  const std::uint8_t kind = data[4];
  if (kind == 0 || kind > kFrameKindLast) {
    return fail(
        core::make_error(core::Code::kCorruption, fmt::format("unknown frame kind {}", kind)));
  }
  if (data[5] != 0) {
    return fail(core::make_error(core::Code::kCorruption,
                                 fmt::format("frame flags {:#04x} are not defined", data[5])));
  }
  Frame frame;
  frame.kind = static_cast<FrameKind>(kind);
  frame.method = static_cast<Method>(get_be(data + 6, 2));
  frame.stream_id = get_be(data + 8, 8);
  // Check the header before the payload has arrived: a bad header fails at once instead of
  // after up to 64 MiB more have been read.
  if (auto valid = validate(frame, payload_size_max_); !valid) return fail(valid.error());
  if (length > 0 && (frame.kind == FrameKind::kPing || frame.kind == FrameKind::kPong)) {
    return fail(core::make_error(core::Code::kCorruption,
                                 fmt::format("{} frame with a payload", kind_name(frame.kind))));
  }
  if (available - kFrameHeaderSize < length) return std::optional<Frame>();
  frame.payload.assign(reinterpret_cast<const char*>(data) + kFrameHeaderSize, length);
  read_pos_ += kFrameHeaderSize + length;
  return std::optional<Frame>(std::move(frame));
}

}  // namespace pc::rpc
