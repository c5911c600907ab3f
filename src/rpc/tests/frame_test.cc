// The RPC wire format: round trips, incremental decoding, and hostile input.
#include "rpc/frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pc::rpc {
namespace {

std::string preamble() {
  std::string out;
  append_preamble(&out);
  return out;
}

Frame make(FrameKind kind, Method method, std::uint64_t stream_id, std::string payload = "") {
  Frame f;
  f.kind = kind;
  f.method = method;
  f.stream_id = stream_id;
  f.payload = std::move(payload);
  return f;
}

std::vector<Frame> sample_frames() {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  return {
      make(FrameKind::kRequest, 7, 1, "append entries"),
      make(FrameKind::kResponse, 7, 1, "ok"),
      make(FrameKind::kError, 7, 2, encode_error_payload({core::Code::kNotLeader, "no leader"})),
      make(FrameKind::kMessage, 3, 0, binary),
      make(FrameKind::kMessage, 3, 0, ""),
      make(FrameKind::kPing, 0, 42),
      make(FrameKind::kPong, 0, 42),
      make(FrameKind::kRequest, 65535, ~std::uint64_t{0}, std::string(100000, 'x')),
  };
}

std::string encode_all(const std::vector<Frame>& frames) {
  std::string out = preamble();
  for (const auto& f : frames) append_frame(f, &out);
  return out;
}

// Everything the decoder yields until it needs more bytes; fails the test on an error.
std::vector<Frame> drain(FrameDecoder& decoder) {
  std::vector<Frame> out;
  for (;;) {
    auto next = decoder.next();
    EXPECT_TRUE(next.has_value()) << next.error().message;
    if (!next || !*next) return out;
    out.push_back(std::move(**next));
  }
}

// The error decoding `bytes` (a preamble is expected) ends with; empty when it does not.
std::string error_of(const std::string& bytes, std::uint32_t limit = kFramePayloadSizeMax) {
  FrameDecoder decoder(limit);
  decoder.feed(bytes);
  for (;;) {
    auto next = decoder.next();
    if (!next) return next.error().message;
    if (!*next) return "";
  }
}

std::string header(std::uint32_t length, std::uint8_t kind, std::uint8_t flags,
                   std::uint16_t method, std::uint64_t stream) {
  std::string out;
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(length >> s));
  out.push_back(static_cast<char>(kind));
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(method >> 8));
  out.push_back(static_cast<char>(method));
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>(stream >> s));
  return out;
}

TEST(RpcFrame, EncodesTheDocumentedLayout) {
  // docs/formats/rpc.md: big-endian length, kind, flags, method, stream id, payload.
  const std::string bytes = encode_frame(make(FrameKind::kRequest, 0x0102, 0x0304, "hi"));
  const std::string want("\x00\x00\x00\x02\x01\x00\x01\x02\x00\x00\x00\x00\x00\x00\x03\x04hi", 18);
  EXPECT_EQ(bytes, want);
  EXPECT_EQ(preamble(), std::string("PCRP\x01\x00\x00\x00", 8));
}

TEST(RpcFrame, RoundTripsEveryKind) {
  const auto frames = sample_frames();
  FrameDecoder decoder;
  decoder.feed(encode_all(frames));
  EXPECT_EQ(drain(decoder), frames);
  EXPECT_TRUE(decoder.preamble_done());
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(RpcFrame, DecodesOneByteAtATime) {
  const auto frames = sample_frames();
  const std::string bytes = encode_all(frames);
  FrameDecoder decoder;
  std::vector<Frame> got;
  for (char b : bytes) {
    decoder.feed(std::string_view(&b, 1));
    for (auto& f : drain(decoder)) got.push_back(std::move(f));
  }
  EXPECT_EQ(got, frames);
}

TEST(RpcFrame, EveryTruncationWaitsForMoreBytes) {
  // A cut anywhere is "need more bytes", never an error, and the complete frames before the
  // cut are all delivered.
  const auto frames = sample_frames();
  std::vector<std::size_t> ends;  // byte offset at which each frame is complete
  std::string bytes = preamble();
  for (const auto& f : frames) {
    append_frame(f, &bytes);
    ends.push_back(bytes.size());
  }
  for (std::size_t cut = 0; cut < bytes.size(); cut += (cut < 2000 ? 1 : 997)) {
    FrameDecoder decoder;
    decoder.feed(std::string_view(bytes).substr(0, cut));
    const auto got = drain(decoder);
    const auto complete =
        static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin());
    ASSERT_EQ(got.size(), complete) << "cut at " << cut;
    EXPECT_FALSE(decoder.failed()) << "cut at " << cut;
  }
}

TEST(RpcFrame, RefusesAnHttpClient) {
  const auto error = error_of("GET / HTTP/1.1\r\nHost: 10.0.0.2:8300\r\n\r\n");
  EXPECT_NE(error.find("not a proconsul rpc peer"), std::string::npos) << error;
  EXPECT_NE(error.find("HTTP"), std::string::npos) << error;
  // Judged from the first bytes, without waiting for a full preamble.
  EXPECT_NE(error_of("GET ").find("HTTP"), std::string::npos);
  EXPECT_NE(error_of("G").find("not a proconsul rpc peer"), std::string::npos);
}

TEST(RpcFrame, RefusesATlsClientHello) {
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  const auto error = error_of(hello);
  EXPECT_NE(error.find("TLS"), std::string::npos) << error;
}

TEST(RpcFrame, RefusesAnotherVersionAndReservedBits) {
  EXPECT_NE(error_of(std::string("PCRP\x02\x00\x00\x00", 8)).find("version 2"), std::string::npos);
  EXPECT_NE(error_of(std::string("PCRP\x01\x00\x00\x01", 8)).find("reserved"), std::string::npos);
  // A partial magic that matches so far is "need more".
  EXPECT_EQ(error_of("PCR"), "");
}

TEST(RpcFrame, RefusesAnOversizedLengthFromTheHeaderAlone) {
  const std::string big = preamble() + header(0xffffffffu, 1, 0, 1, 1);
  EXPECT_NE(error_of(big).find("exceeds the limit"), std::string::npos);
  const std::string over = preamble() + header(kFramePayloadSizeMax + 1, 2, 0, 1, 1);
  EXPECT_NE(error_of(over).find("exceeds the limit"), std::string::npos);
  const std::string at_limit = preamble() + header(kFramePayloadSizeMax, 2, 0, 1, 1);
  EXPECT_EQ(error_of(at_limit), "");  // valid, waiting for its payload
  EXPECT_NE(error_of(preamble() + header(101, 4, 0, 1, 0), 100).find("exceeds"), std::string::npos);
}

TEST(RpcFrame, RefusesBadHeaders) {
  const std::string p = preamble();
  EXPECT_NE(error_of(p + header(0, 0, 0, 1, 1)).find("unknown frame kind 0"), std::string::npos);
  EXPECT_NE(error_of(p + header(0, 7, 0, 1, 1)).find("unknown frame kind 7"), std::string::npos);
  EXPECT_NE(error_of(p + header(0, 255, 0, 1, 1)).find("unknown frame kind"), std::string::npos);
  EXPECT_NE(error_of(p + header(0, 1, 1, 1, 1)).find("flags"), std::string::npos);
  EXPECT_NE(error_of(p + header(1, 1, 0, 1, 0)).find("stream id 0"), std::string::npos);
  EXPECT_NE(error_of(p + header(1, 2, 0, 1, 0)).find("stream id 0"), std::string::npos);
  EXPECT_NE(error_of(p + header(1, 1, 0, 0, 5)).find("method 0"), std::string::npos);
  EXPECT_NE(error_of(p + header(1, 4, 0, 1, 5)).find("stream id 5"), std::string::npos);
  EXPECT_NE(error_of(p + header(1, 5, 0, 0, 5)).find("payload"), std::string::npos);
  EXPECT_NE(error_of(p + header(0, 6, 0, 3, 5)).find("method"), std::string::npos);
}

TEST(RpcFrame, AnErrorIsFinal) {
  FrameDecoder decoder;
  decoder.feed(preamble() + header(0, 9, 0, 1, 1));
  auto first = decoder.next();
  ASSERT_FALSE(first.has_value());
  decoder.feed(encode_frame(make(FrameKind::kMessage, 1, 0, "x")));
  auto second = decoder.next();
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().message, first.error().message);
  EXPECT_TRUE(decoder.failed());
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(RpcFrame, WithoutPreamble) {
  FrameDecoder decoder(kFramePayloadSizeMax, /*expect_preamble=*/false);
  decoder.feed(encode_frame(make(FrameKind::kMessage, 1, 0, "x")));
  auto frames = drain(decoder);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "x");
}

TEST(RpcFrame, ErrorPayloads) {
  const core::Error error{core::Code::kNotLeader, "rpc: not the leader; leader is 10.0.0.3"};
  const auto back = decode_error_payload(encode_error_payload(error));
  EXPECT_EQ(back.code, core::Code::kNotLeader);
  EXPECT_EQ(back.message, error.message);
  EXPECT_EQ(decode_error_payload("").code, core::Code::kInternal);
  const auto unknown = decode_error_payload(std::string("\xc8oops", 5));
  EXPECT_EQ(unknown.code, core::Code::kInternal);
  EXPECT_NE(unknown.message.find("unknown error code 200"), std::string::npos);
  EXPECT_EQ(decode_error_payload(std::string("\x00x", 2)).code, core::Code::kInternal);
}

TEST(RpcFrame, ValidateMatchesTheDecoder) {
  EXPECT_TRUE(validate(make(FrameKind::kRequest, 1, 1)).has_value());
  EXPECT_FALSE(validate(make(FrameKind::kRequest, 1, 0)).has_value());
  EXPECT_FALSE(validate(make(FrameKind::kMessage, 1, 1)).has_value());
  EXPECT_FALSE(validate(make(FrameKind::kPing, 0, 1, "x")).has_value());
  EXPECT_FALSE(validate(make(static_cast<FrameKind>(0), 1, 1)).has_value());
  EXPECT_EQ(validate(make(FrameKind::kMessage, 1, 0, "abc"), 2).error().code,
            core::Code::kTooLarge);
}

TEST(RpcFrame, LongStreamsCompactTheirBuffer) {
  // Many frames through one decoder: the buffer does not keep what was already consumed.
  FrameDecoder decoder;
  decoder.feed(preamble());
  const std::string one = encode_frame(make(FrameKind::kMessage, 1, 0, std::string(1000, 'm')));
  std::size_t frames = 0;
  for (int i = 0; i < 2000; ++i) {
    decoder.feed(one.substr(0, 500));
    decoder.feed(one.substr(500));
    frames += drain(decoder).size();
    ASSERT_LE(decoder.buffered(), one.size());
  }
  EXPECT_EQ(frames, 2000u);
}

// The fuzz corpus doubles as regression inputs: `ok_*` decode without an error, `bad_*` end
// in one. The first byte is the fuzzer's control byte (frame_fuzz.cc).
TEST(RpcFrame, CorpusOutcomes) {
  std::size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(PC_RPC_CORPUS_DIR)) {
    const std::string name = entry.path().filename().string();
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    const std::string bytes = content.str();
    ASSERT_FALSE(bytes.empty()) << name;
    const bool expect_preamble = (static_cast<std::uint8_t>(bytes[0]) & 0x80) == 0;
    FrameDecoder decoder(kFramePayloadSizeMax, expect_preamble);
    decoder.feed(std::string_view(bytes).substr(1));
    bool failed = false;
    for (;;) {
      auto next = decoder.next();
      if (!next) {
        failed = true;
        break;
      }
      if (!*next) break;
    }
    if (name.starts_with("ok_")) {
      EXPECT_FALSE(failed) << name;
      ++seen;
    } else if (name.starts_with("bad_")) {
      EXPECT_TRUE(failed) << name;
      ++seen;
    }
  }
  EXPECT_GE(seen, 10u);
}

}  // namespace
}  // namespace pc::rpc
