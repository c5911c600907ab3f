#pragma once
// The one table from core::Code to Consul's HTTP status codes and error texts (shared/STYLE.md
// §3: only the edges map codes). Consul writes an error as its plain text with no trailing
// newline (fmt.Fprint in agent/http.go), and Go sniffs that as "text/plain; charset=utf-8";
// we do the same, so clients that match on the body text (python-consul, the Go api package
// checking for "Permission denied") behave as they do against Consul.
//
// Stateless; every function is safe to call from any thread.
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/handler.h"

namespace pc::http {

// The status code Consul answers for an error of this code:
//   InvalidArgument 400, PermissionDenied 403, NotFound 404, Conflict 409, TooLarge 413,
//   everything else (NotLeader, Unavailable, Timeout, Corruption, IoError, Internal) 500,
//   as Consul's handleErr falls through to 500 for RPC errors such as "No cluster leader".
// kOk maps to 200.
int status_for(core::Code code);

// A plain-text response for `error`: status from status_for, body = the message verbatim.
// PermissionDenied bodies always contain "Permission denied" (Consul's acl error text), and an
// empty message gets the code's default text ("No cluster leader" for NotLeader, ...).
// kOk is not an error; passing it is a broken invariant.
Response error_response(const core::Error& error);

// Shorthands for the texts the edge itself produces.
// An error returned by the server side of a write (a Consul RPC): Consul's edge answers those
// with 500 whatever their kind, except a permission denial (403) and an oversized request (413).
Response rpc_error_response(const core::Error& error);

Response bad_request(std::string message);  // 400, body verbatim
// Consul's MethodNotAllowedError: 405, body "method DELETE not allowed", Allow header as given
// ("OPTIONS,GET,PUT": Consul lists OPTIONS first, joined by commas without spaces).
Response method_not_allowed(std::string_view method, std::string_view allow);
// Consul's Index handler for a path no route matches: 404 with one of its two texts, chosen
// by whether the path contains "/v1/"; both end in a newline (fmt.Fprintln).
Response path_not_found(std::string_view path);

}  // namespace pc::http
