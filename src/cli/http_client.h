#pragma once
// A small synchronous HTTP/1.1 client for the command line: one request per connection,
// a deadline on the whole exchange, HTTPS when the target says so. Beast, Asio and OpenSSL
// stay inside http_client.cc.
//
// Thread-safety: http_request() is reentrant; it runs its own io_context on the calling
// thread and shares nothing.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pc::cli {

using Headers = std::vector<std::pair<std::string, std::string>>;
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Where the agent's HTTP API is. Parsed from -http-addr / PROCONSUL_HTTP_ADDR /
// CONSUL_HTTP_ADDR by parse_http_addr().
struct HttpTarget {
  std::string host;  // a name or an IP literal (IPv6 without brackets)
  std::uint16_t port = 8500;
  // Deadline for resolve, connect, write and read together. None of the commands here issue
  // blocking queries, so a healthy agent answers well within it.
  core::Duration timeout = std::chrono::seconds(30);
  // HTTPS ("https://" or CONSUL_HTTP_SSL=true). The server's certificate is checked against
  // ca_file / ca_path (else the system's CAs) and must name tls_server_name (else `host`),
  // unless tls_skip_verify (CONSUL_HTTP_SSL_VERIFY=false). client_cert and client_key are
  // presented when the agent asks (tls.https.verify_incoming).
  bool tls = false;
  std::string ca_file, ca_path, client_cert, client_key, tls_server_name;
  bool tls_skip_verify = false;

  // "http://127.0.0.1:8500", "https://[::1]:8501": how messages name the agent.
  std::string url() const;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  Headers headers;  // names lower-cased

  const std::string* header(std::string_view lower_name) const;
};

// Accepts Consul's address forms: "host:port", "http://host:port", "[::1]:8500", "host"
// (port 80, as Go's net/http would use), "https://host:port" (tls set; port 443 when
// omitted). "unix://" is refused for now.
core::Result<HttpTarget> parse_http_addr(std::string_view addr);

// Sends one request and reads the response. `path_and_query` must already be encoded
// (see kv_path(), encode_query()). Any status is a response; only transport failures are
// errors, with a message fit to print as is:
//   "Error querying agent at http://127.0.0.1:8500: connection refused"  (Unavailable)
//   "Error querying agent at http://127.0.0.1:8500: timed out after 30s"  (Timeout)
core::Result<HttpResponse> http_request(const HttpTarget& target, std::string_view method,
                                        std::string_view path_and_query, std::string_view body,
                                        const Headers& headers);

// The seam commands call through, so tests can answer without a socket.
using HttpFunction = std::function<core::Result<HttpResponse>(
    const HttpTarget&, std::string_view method, std::string_view path_and_query,
    std::string_view body, const Headers&)>;

// Percent-encodes everything but RFC 3986 unreserved characters and '/', so a key holding
// spaces, '?', '#', '%' or '+' reaches the server unchanged.
std::string encode_path(std::string_view path);
// Percent-encodes a query key or value (also '/', '&', '=').
std::string encode_query_component(std::string_view text);
// "?a=1&b=" with keys sorted as Go's url.Values.Encode does; "" when empty.
std::string encode_query(QueryParams params);
// "/v1/kv/" + the encoded key.
std::string kv_path(std::string_view key);

}  // namespace pc::cli
