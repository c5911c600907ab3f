// The pure part of the gRPC probe: message encoding and decoding, grpc-go's names, and a
// whole call fed with a server's HTTP/2 bytes built here (frames with HPACK literals).
#include <gtest/gtest.h>

#include <string>

#include "agent/checks/detail/grpc_health.h"

namespace pc::agent::detail {
namespace {

TEST(GrpcHealth, EncodesTheRequestWithTheGrpcPrefix) {
  EXPECT_EQ(encode_health_request(""), std::string("\0\0\0\0\0", 5));
  EXPECT_EQ(encode_health_request("db"), std::string("\0\0\0\0\4\x0a\x02"
                                                     "db",
                                                     9));
  std::string long_name(200, 'x');
  std::string framed = encode_health_request(long_name);
  ASSERT_EQ(framed.size(), 5u + 3u + 200u);  // tag, two-byte varint length, name
  EXPECT_EQ(static_cast<unsigned char>(framed[4]), 203u);
  EXPECT_EQ(static_cast<unsigned char>(framed[6]), 0xc8u);
  EXPECT_EQ(static_cast<unsigned char>(framed[7]), 0x01u);
}

TEST(GrpcHealth, DecodesTheStatusAndSkipsUnknownFields) {
  EXPECT_EQ(*decode_health_response(std::string("\x08\x01", 2)), 1u);
  EXPECT_EQ(*decode_health_response(""), 0u);  // proto3: absent is UNKNOWN
  // field 2 (bytes "ab"), field 3 fixed32, then status 2.
  EXPECT_EQ(*decode_health_response(std::string("\x12\x02"
                                                "ab\x1d\0\0\0\0\x08\x02",
                                                11)),
            2u);
  EXPECT_FALSE(decode_health_response(std::string("\x08", 1)));  // cut varint
  EXPECT_FALSE(
      decode_health_response(std::string("\x12\x05"
                                         "ab",
                                         4)));                    // cut bytes
  EXPECT_FALSE(decode_health_response(std::string("\x0b", 1)));   // group wire type
  EXPECT_FALSE(decode_health_response(std::string(11, '\xff')));  // varint overflow
}

TEST(GrpcHealth, NamesAsGrpcGo) {
  EXPECT_EQ(grpc_code_name(5), "NotFound");
  EXPECT_EQ(grpc_code_name(4), "DeadlineExceeded");
  EXPECT_EQ(grpc_code_name(16), "Unauthenticated");
  EXPECT_EQ(grpc_code_name(17), "Code(17)");
  EXPECT_EQ(serving_status_name(1), "SERVING");
  EXPECT_EQ(serving_status_name(2), "NOT_SERVING");
  EXPECT_EQ(serving_status_name(3), "SERVICE_UNKNOWN");
  EXPECT_EQ(serving_status_name(9), "9");
  EXPECT_EQ(percent_decode("unknown%20service%"), "unknown service%");
  EXPECT_EQ(percent_decode("100%zz"), "100%zz");
}

// --- A server's side, byte by byte (RFC 7540 frames, RFC 7541 literals without indexing).

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  const std::string& payload) {
  std::string f;
  auto n = static_cast<std::uint32_t>(payload.size());
  f.push_back(static_cast<char>(n >> 16));
  f.push_back(static_cast<char>(n >> 8));
  f.push_back(static_cast<char>(n));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int i = 3; i >= 0; --i) f.push_back(static_cast<char>(stream >> (8 * i)));
  return f + payload;
}

std::string literal(const std::string& name, const std::string& value) {
  std::string out(1, '\0');
  out.push_back(static_cast<char>(name.size()));
  out += name;
  out.push_back(static_cast<char>(value.size()));
  return out + value;
}

constexpr std::uint8_t kData = 0, kHeaders = 1, kRst = 3, kSettings = 4;
constexpr std::uint8_t kEndStream = 1, kEndHeaders = 4;

std::string server_settings() {
  return frame(kSettings, 0, 0, "");
}

std::string response(const std::string& message, const std::string& grpc_status,
                     const std::string& grpc_message = "") {
  std::string out = server_settings();
  out += frame(kHeaders, kEndHeaders, 1,
               literal(":status", "200") + literal("content-type", "application/grpc"));
  if (!message.empty()) {
    std::string prefixed(5, '\0');
    prefixed[4] = static_cast<char>(message.size());
    out += frame(kData, 0, 1, prefixed + message);
  }
  std::string trailers = literal("grpc-status", grpc_status);
  if (!grpc_message.empty()) trailers += literal("grpc-message", grpc_message);
  return out + frame(kHeaders, kEndHeaders | kEndStream, 1, trailers);
}

GrpcHealthCall::Outcome run(const std::string& server_bytes, bool close_after = false) {
  GrpcHealthCall call("127.0.0.1:1", "http", "svc");
  std::string out = call.take_output();
  EXPECT_EQ(out.substr(0, 24), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  EXPECT_NE(out.find(encode_health_request("svc")), std::string::npos);
  call.feed(server_bytes);
  (void)call.take_output();
  if (close_after) call.connection_closed("EOF");
  EXPECT_TRUE(call.done());
  return call.done() ? call.outcome() : GrpcHealthCall::Outcome{};
}

TEST(GrpcHealthCall, ServingAndNotServing) {
  auto serving = run(response(std::string("\x08\x01", 2), "0"));
  ASSERT_TRUE(serving.serving_status);
  EXPECT_EQ(*serving.serving_status, 1u);
  auto not_serving = run(response(std::string("\x08\x02", 2), "0"));
  ASSERT_TRUE(not_serving.serving_status);
  EXPECT_EQ(*not_serving.serving_status, 2u);
}

TEST(GrpcHealthCall, GrpcErrorStatusReadsAsGrpcGo) {
  auto out = run(response("", "5", "unknown%20service"));
  EXPECT_FALSE(out.serving_status);
  EXPECT_EQ(out.error, "rpc error: code = NotFound desc = unknown service");
}

TEST(GrpcHealthCall, HttpErrorsResetsAndClosedConnections) {
  std::string not_found =
      server_settings() + frame(kHeaders, kEndHeaders | kEndStream, 1, literal(":status", "404"));
  EXPECT_EQ(run(not_found).error,
            "rpc error: code = Unimplemented desc = unexpected HTTP status code received from "
            "server: 404");
  std::string reset = server_settings() + frame(kRst, 0, 1, std::string("\0\0\0\x02", 4));
  EXPECT_EQ(run(reset).error,
            "rpc error: code = Internal desc = stream terminated by RST_STREAM with error code: "
            "INTERNAL_ERROR");
  EXPECT_EQ(run(server_settings(), true).error,
            "rpc error: code = Unavailable desc = error reading from server: EOF");
  auto no_trailers =
      server_settings() + frame(kHeaders, kEndHeaders | kEndStream, 1, literal(":status", "200"));
  EXPECT_EQ(run(no_trailers).error,
            "rpc error: code = Internal desc = server closed the stream without sending trailers");
  auto garbage = run("this is not HTTP/2 at all, it is far too long to be a preface");
  EXPECT_FALSE(garbage.serving_status);
  EXPECT_NE(garbage.error.find("code = Unavailable"), std::string::npos);
  auto bad_message = run(response(std::string("\x08", 1), "0"));
  EXPECT_NE(bad_message.error.find("failed to unmarshal"), std::string::npos);
}

}  // namespace
}  // namespace pc::agent::detail
