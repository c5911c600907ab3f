#include "http/errors.h"

#include "core/assert.h"

namespace pc::http {

int status_for(core::Code code) {
  switch (code) {
    case core::Code::kInvalidArgument: return 400;
    case core::Code::kPermissionDenied: return 403;
    case core::Code::kNotFound: return 404;
    case core::Code::kConflict: return 409;
    case core::Code::kTooLarge: return 413;
    case core::Code::kNotLeader:
    case core::Code::kUnavailable:
    case core::Code::kTimeout:
    case core::Code::kCorruption:
    case core::Code::kIoError:
    case core::Code::kInternal: return 500;
    case core::Code::kOk: return 200;
  }
  PC_UNREACHABLE("status_for: code {} is not in core::Code", static_cast<int>(code));
}

namespace {

constexpr std::string_view kPermissionDenied = "Permission denied";

std::string_view default_text(core::Code code) {
  switch (code) {
    case core::Code::kInvalidArgument: return "Bad request";
    case core::Code::kPermissionDenied: return kPermissionDenied;
    case core::Code::kNotFound: return "Not found";
    case core::Code::kConflict: return "Conflict";
    case core::Code::kTooLarge: return "Request entity too large";
    // structs.ErrNoLeader's text, which Consul clients retry on.
    case core::Code::kNotLeader: return "No cluster leader";
    case core::Code::kUnavailable: return "Service unavailable";
    case core::Code::kTimeout: return "Timeout";
    case core::Code::kCorruption: return "Data corruption";
    case core::Code::kIoError: return "I/O error";
    case core::Code::kInternal:
    case core::Code::kOk: break;
  }
  return "An unexpected error occurred";
}

}  // namespace

Response error_response(const core::Error& error) {
  PC_ASSERT(error.code != core::Code::kOk, "error_response on kOk: {}", error.message);
  const int status = status_for(error.code);
  if (error.message.empty()) return Response::text(status, std::string(default_text(error.code)));
  if (error.code == core::Code::kPermissionDenied &&
      error.message.compare(0, kPermissionDenied.size(), kPermissionDenied) != 0) {
    // Consul's clients recognise a denial by this text (acl.IsErrPermissionDenied).
    return Response::text(status, std::string(kPermissionDenied) + ": " + error.message);
  }
  return Response::text(status, error.message);
}

Response rpc_error_response(const core::Error& error) {
  if (error.code == core::Code::kPermissionDenied || error.code == core::Code::kTooLarge) {
    return error_response(error);
  }
  return Response::text(
      500, error.message.empty() ? std::string(default_text(error.code)) : error.message);
}

Response bad_request(std::string message) {
  return Response::text(400, std::move(message));
}

Response method_not_allowed(std::string_view method, std::string_view allow) {
  std::string body = "method ";
  body.append(method);
  body.append(" not allowed");
  Response r = Response::text(405, std::move(body));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

Response path_not_found(std::string_view path) {
  if (path.find("/v1/") != std::string_view::npos) {
    return Response::text(404, "Invalid URL path: not a recognized HTTP API endpoint\n");
  }
  return Response::text(
      404,
      "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n");
}

}  // namespace pc::http
