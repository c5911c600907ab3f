#pragma once
// Private to agent/checks: one call of the standard gRPC health service
// (grpc.health.v1.Health/Check) as a pure exchange of bytes over HTTP/2, with no socket,
// clock or thread: the probe writes out() to the connection and feeds what it reads to
// feed(), until done(). HTTP/2 framing is nghttp2's (a client session driven by
// nghttp2_session_mem_send/mem_recv); the gRPC message framing and the two tiny protobuf
// messages are encoded here by hand.
//
// Outcomes use grpc-go's wording, which Consul passes on as check output:
// "rpc error: code = NotFound desc = unknown service" for a gRPC status, and the probe adds
// "gRPC <target> serving status: NOT_SERVING" for a health answer that is not SERVING.
//
// Not thread-safe: one probe call owns one. Bounds: the response message is refused past
// grpc_health_response_size_max; header bytes are nghttp2's own limits.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

struct nghttp2_session;

namespace pc::agent::detail {

// Bytes of a response message kept: HealthCheckResponse is two or three bytes; anything this
// large is not a health answer.
inline constexpr std::size_t grpc_health_response_size_max = 64 * 1024;

// gRPC status codes, named as grpc-go's codes.Code.String() names them ("NotFound"); codes
// past the known ones read "Code(17)".
std::string grpc_code_name(std::uint32_t code);
// HealthCheckResponse.ServingStatus names as the Go protobuf enum prints them; unknown
// values print as their number.
std::string serving_status_name(std::uint64_t status);
// The gRPC length-prefixed message holding HealthCheckRequest{service}.
std::string encode_health_request(std::string_view service);
// HealthCheckResponse.status (field 1, varint) from a protobuf message; unknown fields are
// skipped, a malformed message is an error. A missing field is 0 (UNKNOWN), as proto3 reads.
core::Result<std::uint64_t> decode_health_response(std::string_view message);
// grpc-message is percent-encoded (gRPC over HTTP/2 spec); bad escapes are kept as they are.
std::string percent_decode(std::string_view text);

class GrpcHealthCall {
 public:
  // The answer: a serving status (grpc-status 0 and one message) or an error text
  // ("rpc error: code = ... desc = ...").
  struct Outcome {
    std::optional<std::uint64_t> serving_status;
    std::string error;
  };

  // authority: the :authority header ("host:port"); scheme "http" or "https".
  GrpcHealthCall(std::string authority, std::string scheme, std::string service);
  ~GrpcHealthCall();
  GrpcHealthCall(const GrpcHealthCall&) = delete;
  GrpcHealthCall& operator=(const GrpcHealthCall&) = delete;

  // Bytes to send now (the connection preface, settings, the request, acks).
  std::string take_output();
  // Bytes read from the connection. A protocol error ends the call with an error outcome.
  void feed(std::string_view bytes);
  // The peer closed the connection (EOF or a read error with this text).
  void connection_closed(std::string_view why);
  bool done() const { return outcome_.has_value(); }
  // Valid once done().
  const Outcome& outcome() const { return *outcome_; }

 private:
  friend struct GrpcHealthCallbacks;
  void finish_error(std::string error);
  void on_stream_close(std::uint32_t error_code);
  void check_session_over();

  std::string request_;
  std::size_t request_sent_ = 0;
  std::int32_t stream_id_ = -1;
  nghttp2_session* session_ = nullptr;

  std::string http_status_;
  std::string grpc_status_;
  std::string grpc_message_;
  std::string content_type_;
  std::string data_;  // response DATA bytes: gRPC length-prefixed messages
  bool data_too_large_ = false;
  std::optional<Outcome> outcome_;
};

}  // namespace pc::agent::detail
