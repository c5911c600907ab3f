// Fuzz target for the RPC frame decoder, which reads bytes from any peer that can reach port
// 8300. The first input byte picks how the rest is fed (bits 0-6: chunk size - 1; bit 7: the
// decoder does not expect a preamble); the rest is the stream.
//
// Checks: decoding never crashes or asserts; feeding in chunks gives exactly what feeding at
// once gives (frames, then the same error or the same leftover); an error is final; and
// re-encoding the decoded frames (after our own preamble) reproduces the consumed bytes, so
// the decoder accepts nothing the encoder would not have written.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "rpc/frame.h"

namespace {

using pc::rpc::Frame;
using pc::rpc::FrameDecoder;

struct Outcome {
  std::vector<Frame> frames;
  // The error's code: its message may differ with the chunking (a bad preamble is reported
  // with the bytes that had arrived when it was refused).
  std::optional<pc::core::Code> error;
  std::string message;
  std::size_t buffered = 0;
};

void drain(FrameDecoder& decoder, Outcome& out) {
  while (!out.error) {
    auto next = decoder.next();
    if (!next) {
      out.error = next.error().code;
      out.message = next.error().message;
      PC_ASSERT(!out.message.empty(), "a decode error without a reason");
      return;
    }
    if (!*next) return;
    out.frames.push_back(std::move(**next));
  }
}

Outcome decode(std::string_view bytes, std::size_t chunk, bool preamble) {
  FrameDecoder decoder(pc::rpc::kFramePayloadSizeMax, preamble);
  Outcome out;
  for (std::size_t at = 0; at < bytes.size() && !out.error; at += chunk) {
    decoder.feed(bytes.substr(at, chunk));
    drain(decoder, out);
  }
  if (out.error) {
    // Final: more input changes nothing.
    decoder.feed(std::string_view("PCRP\x01\0\0\0", 8));
    auto again = decoder.next();
    PC_ASSERT(!again && again.error().message == out.message, "a decode error was not final");
  } else {
    out.buffered = decoder.buffered();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = (data[0] & 0x7f) + 1;
  const bool preamble = (data[0] & 0x80) == 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  const Outcome whole = decode(bytes, bytes.size() + 1, preamble);
  const Outcome pieces = decode(bytes, chunk, preamble);
  PC_ASSERT(whole.frames == pieces.frames, "chunked feeding decoded {} frames, whole {}",
            pieces.frames.size(), whole.frames.size());
  PC_ASSERT(whole.error == pieces.error, "chunked feeding ended differently: '{}' vs '{}'",
            pieces.message, whole.message);
  PC_ASSERT(whole.buffered == pieces.buffered, "chunked feeding left {} bytes, whole {}",
            pieces.buffered, whole.buffered);

  std::string encoded;
  if (preamble && (!whole.frames.empty() || (!whole.error && bytes.size() >= 8))) {
    pc::rpc::append_preamble(&encoded);
  }
  for (const auto& frame : whole.frames) {
    PC_ASSERT(pc::rpc::validate(frame).has_value(), "decoded an invalid frame");
    pc::rpc::append_frame(frame, &encoded);
  }
  PC_ASSERT(bytes.substr(0, encoded.size()) == encoded,
            "re-encoding the decoded frames does not reproduce the input");
  if (!whole.error) {
    PC_ASSERT(encoded.size() + whole.buffered == bytes.size(), "bytes lost: {} + {} != {}",
              encoded.size(), whole.buffered, bytes.size());
  }
  return 0;
}
