#include "agent/checks/detail/grpc_health.h"

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstring>

namespace pc::agent::detail {
namespace {

constexpr std::string_view kHealthCheckPath = "/grpc.health.v1.Health/Check";

core::Error malformed(std::string what) {
  return core::make_error(core::Code::kCorruption, std::move(what));
}

// Reads one protobuf varint at `pos`, advancing it.
core::Result<std::uint64_t> read_varint(std::string_view in, std::size_t& pos) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) return malformed("unexpected EOF");
    auto byte = static_cast<std::uint8_t>(in[pos++]);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return malformed("integer overflow");
}

std::string rpc_error(std::uint32_t code, std::string_view desc) {
  return "rpc error: code = " + grpc_code_name(code) + " desc = " + std::string(desc);
}

// grpc-go's mapping of a non-200 HTTP status to a gRPC code (internal/transport/http_util.go).
std::uint32_t code_for_http_status(std::string_view status) {
  if (status == "400") return 13;  // Internal
  if (status == "401") return 16;  // Unauthenticated
  if (status == "403") return 7;   // PermissionDenied
  if (status == "404") return 12;  // Unimplemented
  if (status == "429" || status == "502" || status == "503" || status == "504") return 14;
  return 2;  // Unknown
}

std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace

std::string grpc_code_name(std::uint32_t code) {
  static constexpr std::array<std::string_view, 17> kNames = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  if (code < kNames.size()) return std::string(kNames[code]);
  return "Code(" + std::to_string(code) + ")";
}

std::string serving_status_name(std::uint64_t status) {
  static constexpr std::array<std::string_view, 4> kNames = {"UNKNOWN", "SERVING", "NOT_SERVING",
                                                             "SERVICE_UNKNOWN"};
  if (status < kNames.size()) return std::string(kNames[status]);
  return std::to_string(status);
}

std::string encode_health_request(std::string_view service) {
  // HealthCheckRequest: field 1 (service), wire type 2; proto3 leaves an empty string out.
  std::string message;
  if (!service.empty()) {
    message.push_back(0x0a);
    for (std::uint64_t n = service.size();; n >>= 7) {
      if (n < 0x80) {
        message.push_back(static_cast<char>(n));
        break;
      }
      message.push_back(static_cast<char>((n & 0x7f) | 0x80));
    }
    message.append(service);
  }
  // gRPC message prefix: compressed flag 0, then the length as 4 bytes big-endian.
  std::string framed(5, '\0');
  auto size = static_cast<std::uint32_t>(message.size());
  for (int i = 0; i < 4; ++i) framed[1 + i] = static_cast<char>(size >> (24 - 8 * i));
  return framed + message;
}

core::Result<std::uint64_t> decode_health_response(std::string_view message) {
  std::uint64_t status = 0;
  std::size_t pos = 0;
  while (pos < message.size()) {
    auto key = read_varint(message, pos);
    if (!key) return key.error();
    std::uint64_t field = *key >> 3;
    std::uint64_t wire_type = *key & 7;
    if (field == 0) return malformed("invalid field number");
    switch (wire_type) {
      case 0: {
        auto v = read_varint(message, pos);
        if (!v) return v.error();
        if (field == 1) status = *v;
        break;
      }
      case 1:
      case 5: {
        std::size_t n = wire_type == 1 ? 8 : 4;
        if (message.size() - pos < n) return malformed("unexpected EOF");
        pos += n;
        break;
      }
      case 2: {
        auto n = read_varint(message, pos);
        if (!n) return n.error();
        if (*n > message.size() - pos) return malformed("unexpected EOF");
        pos += static_cast<std::size_t>(*n);
        break;
      }
      default: return malformed("cannot parse reserved wire type");
    }
  }
  return status;
}

std::string percent_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex(text[i + 1]);
      int lo = hex(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// nghttp2's callbacks, as static members of a friend so they reach the call's state.
struct GrpcHealthCallbacks {
  static GrpcHealthCall& call(void* user_data) { return *static_cast<GrpcHealthCall*>(user_data); }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t name_size, const std::uint8_t* value, std::size_t value_size,
                       std::uint8_t, void* user_data) {
    GrpcHealthCall& c = call(user_data);
    if (frame->hd.stream_id != c.stream_id_) return 0;
    std::string_view n = as_view(name, name_size);
    std::string v(as_view(value, value_size));
    if (n == ":status")
      c.http_status_ = std::move(v);
    else if (n == "grpc-status")
      c.grpc_status_ = std::move(v);
    else if (n == "grpc-message")
      c.grpc_message_ = std::move(v);
    else if (n == "content-type")
      c.content_type_ = std::move(v);
    return 0;
  }

  static int on_data(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                     const std::uint8_t* data, std::size_t size, void* user_data) {
    GrpcHealthCall& c = call(user_data);
    if (stream_id != c.stream_id_) return 0;
    // Room for the 5-byte prefix and a message of the largest accepted size.
    if (c.data_.size() + size > grpc_health_response_size_max + 5) {
      c.data_too_large_ = true;
      return 0;
    }
    c.data_.append(as_view(data, size));
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                             void* user_data) {
    GrpcHealthCall& c = call(user_data);
    if (stream_id == c.stream_id_) c.on_stream_close(error_code);
    return 0;
  }

  static ssize_t read_request(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                              std::uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    GrpcHealthCall& c = call(user_data);
    std::size_t n = std::min(length, c.request_.size() - c.request_sent_);
    std::memcpy(buf, c.request_.data() + c.request_sent_, n);
    c.request_sent_ += n;
    if (c.request_sent_ == c.request_.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

GrpcHealthCall::GrpcHealthCall(std::string authority, std::string scheme, std::string service)
    : request_(encode_health_request(service)) {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    finish_error(rpc_error(13, "cannot create an HTTP/2 session"));
    return;
  }
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &GrpcHealthCallbacks::on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks,
                                                            &GrpcHealthCallbacks::on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         &GrpcHealthCallbacks::on_stream_close);
  int rv = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    session_ = nullptr;
    finish_error(rpc_error(13, "cannot create an HTTP/2 session"));
    return;
  }
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  auto nv = [](std::string_view name, std::string_view value) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                      value.size(), NGHTTP2_NV_FLAG_NONE};
  };
  // nghttp2 copies the header bytes when the request is submitted.
  std::array<nghttp2_nv, 7> headers = {nv(":method", "POST"),
                                       nv(":scheme", scheme),
                                       nv(":path", kHealthCheckPath),
                                       nv(":authority", authority),
                                       nv("content-type", "application/grpc"),
                                       nv("te", "trailers"),
                                       nv("user-agent", "proconsul-health-check")};
  nghttp2_data_provider body{};
  body.read_callback = &GrpcHealthCallbacks::read_request;
  stream_id_ =
      nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(), &body, nullptr);
  if (stream_id_ < 0) {
    finish_error(
        rpc_error(13, std::string("cannot submit the request: ") + nghttp2_strerror(stream_id_)));
  }
}

GrpcHealthCall::~GrpcHealthCall() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

std::string GrpcHealthCall::take_output() {
  std::string out;
  if (session_ == nullptr) return out;
  while (true) {
    const std::uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      finish_error(rpc_error(13, std::string("http2: ") + nghttp2_strerror(static_cast<int>(n))));
      break;
    }
    if (n == 0) break;
    out.append(as_view(data, static_cast<std::size_t>(n)));
  }
  check_session_over();
  return out;
}

void GrpcHealthCall::feed(std::string_view bytes) {
  if (done() || session_ == nullptr) return;
  ssize_t n = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (n < 0 && !done()) {
    // grpc-go reports a broken connection to a pending call as Unavailable.
    finish_error(rpc_error(14, std::string("connection error: desc = \"transport: http2: ") +
                                   nghttp2_strerror(static_cast<int>(n)) + "\""));
    return;
  }
  check_session_over();
}

void GrpcHealthCall::check_session_over() {
  // A connection-level protocol error makes nghttp2 queue a GOAWAY and stop reading rather
  // than fail mem_recv; the call is over then too.
  if (!done() && nghttp2_session_want_read(session_) == 0 &&
      nghttp2_session_want_write(session_) == 0) {
    finish_error(rpc_error(14,
                           "connection error: desc = \"transport: http2: the server's "
                           "frames broke the HTTP/2 protocol\""));
  }
}

void GrpcHealthCall::connection_closed(std::string_view why) {
  if (done()) return;
  finish_error(rpc_error(14, "error reading from server: " + std::string(why)));
}

void GrpcHealthCall::finish_error(std::string error) {
  if (done()) return;
  outcome_ = Outcome{std::nullopt, std::move(error)};
}

void GrpcHealthCall::on_stream_close(std::uint32_t error_code) {
  if (done()) return;
  if (http_status_ != "200" && !http_status_.empty() && grpc_status_.empty()) {
    finish_error(rpc_error(code_for_http_status(http_status_),
                           "unexpected HTTP status code received from server: " + http_status_));
    return;
  }
  if (error_code != NGHTTP2_NO_ERROR && grpc_status_.empty()) {
    // grpc-go: REFUSED_STREAM is Unavailable, CANCEL Canceled, the rest Internal.
    std::uint32_t code = error_code == NGHTTP2_REFUSED_STREAM ? 14
                         : error_code == NGHTTP2_CANCEL       ? 1
                                                              : 13;
    finish_error(rpc_error(code, std::string("stream terminated by RST_STREAM with error code: ") +
                                     nghttp2_http2_strerror(error_code)));
    return;
  }
  if (grpc_status_.empty()) {
    finish_error(rpc_error(13, "server closed the stream without sending trailers"));
    return;
  }
  std::uint32_t code = 0;
  for (char ch : grpc_status_) {
    if (ch < '0' || ch > '9' || code > 1000000) {
      finish_error(rpc_error(13, "transport: malformed grpc-status: " + grpc_status_));
      return;
    }
    code = code * 10 + static_cast<std::uint32_t>(ch - '0');
  }
  if (code != 0) {
    finish_error(rpc_error(code, percent_decode(grpc_message_)));
    return;
  }
  if (data_too_large_) {
    finish_error(rpc_error(8, "grpc: received message larger than max"));
    return;
  }
  if (data_.size() < 5) {
    finish_error(rpc_error(13, "grpc: the server sent no response message"));
    return;
  }
  std::uint32_t size = 0;
  for (int i = 1; i <= 4; ++i) size = (size << 8) | static_cast<std::uint8_t>(data_[i]);
  if (data_[0] != 0) {
    finish_error(rpc_error(13, "grpc: compressed message received without negotiated encoding"));
    return;
  }
  if (size > grpc_health_response_size_max) {
    finish_error(rpc_error(8, "grpc: received message larger than max (" + std::to_string(size) +
                                  " vs. " + std::to_string(grpc_health_response_size_max) + ")"));
    return;
  }
  if (data_.size() - 5 < size) {
    finish_error(rpc_error(13, "grpc: the response message was cut short"));
    return;
  }
  auto status = decode_health_response(std::string_view(data_).substr(5, size));
  if (!status) {
    finish_error(
        rpc_error(13, "grpc: failed to unmarshal the received message: " + status.error().message));
    return;
  }
  outcome_ = Outcome{*status, ""};
}

}  // namespace pc::agent::detail
