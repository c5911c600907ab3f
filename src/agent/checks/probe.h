#pragma once
// Health-check probes: each function runs one check once, blocking its thread, and returns
// Consul's status ("passing", "warning", "critical") and output text. The texts follow
// Consul's agent/checks (and the Go library errors Consul passes through), so a UI or script
// that reads check output sees the words it would see from Consul. Scheduling (intervals,
// TTLs, syncing into the catalog) belongs to the caller.
//
// Thread-safety: every function may be called from many threads at once. They share no
// mutable state but one bounded counter of DNS lookups still running in the background.
// Bounds: each call returns within about its timeout (a script is also reaped after being
// killed, which takes microseconds). None throws; bad input gives "critical" and a text that
// says what is wrong.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace pc::agent {

inline constexpr std::string_view kProbePassing = "passing";
inline constexpr std::string_view kProbeWarning = "warning";
inline constexpr std::string_view kProbeCritical = "critical";

// Consul's DefaultBufSize: bytes of output a check keeps unless it sets OutputMaxSize.
inline constexpr std::size_t probe_output_size_default = 4 * 1024;
// Most output a probe keeps whatever OutputMaxSize asks: the output is held in memory and
// copied into the catalog on every change.
inline constexpr std::size_t probe_output_size_max = 1024 * 1024;
static_assert(probe_output_size_default <= probe_output_size_max);
// Consul's timeouts for checks that set none (Timeout unset or zero).
inline constexpr std::chrono::seconds probe_http_timeout_default{10};
inline constexpr std::chrono::seconds probe_tcp_timeout_default{10};
inline constexpr std::chrono::seconds probe_grpc_timeout_default{10};
inline constexpr std::chrono::seconds probe_script_timeout_default{30};
// Longest timeout a probe honours; a longer one is cut to this (no check should block a
// worker for a day, and deadline arithmetic stays far from overflow).
inline constexpr std::chrono::hours probe_timeout_max{24};
// Go's http.Client follows at most 10 redirects; the 11th is an error.
inline constexpr int probe_http_redirects_max = 10;
// Response header bytes read before the probe gives up on a response (memory bound).
inline constexpr std::size_t probe_http_header_size_max = 1024 * 1024;
// getaddrinfo calls left running after their probe's deadline passed; beyond this a probe
// that needs a DNS lookup fails at once instead of adding threads.
inline constexpr std::size_t probe_lookups_in_flight_max = 32;

struct ProbeResult {
  std::string status;  // "passing" | "warning" | "critical"
  std::string output;
};

struct HttpProbeSpec {
  std::string url;                                         // http:// or https://
  std::string method = "GET";                              // Consul's Method; "" means GET
  std::map<std::string, std::vector<std::string>> header;  // Consul's Header
  std::string body;                                        // Consul's Body
  bool tls_skip_verify = false;
  std::string tls_server_name;     // SNI / verification name override, "" = host of url
  bool disable_redirects = false;  // Consul follows up to 10 redirects by default
  core::Duration timeout{};        // whole probe deadline; <= 0 means Consul's 10s
  // Consul's OutputMaxSize: response body bytes kept (the last ones); 0 means the default,
  // and more than probe_output_size_max is cut to that.
  std::size_t output_size_max = probe_output_size_default;
  // Trust and client identity for https (the agent's TLS files when Consul's
  // enable_agent_tls_for_checks is on). With ca_file or ca_path set, only those CAs are
  // trusted; otherwise the system's. cert_file and key_file are PEM, for servers that ask.
  std::string ca_file;
  std::string ca_path;
  std::string cert_file;
  std::string key_file;
};

// GET (or spec.method) spec.url within spec.timeout. 2xx is passing, 429 Too Many Requests
// is warning, any other status or failure is critical. Output on a response:
// "HTTP GET http://x/y: 200 OK Output: <body>", the body cut to its last output_size_max
// bytes; on failure Go's client error, e.g.
// `Get "http://x/y": dial tcp 10.0.0.1:80: connect: connection refused`.
ProbeResult probe_http(const HttpProbeSpec& spec);

// Connects to host_port ("10.0.0.1:80", "[::1]:80", "name:80") within timeout and closes.
// Passing output: "TCP connect <host_port>: Success"; critical output: Go's dial error.
ProbeResult probe_tcp(std::string_view host_port, core::Duration timeout);

// Runs args directly (execvp-style PATH search, no shell), as Consul's Args/ScriptArgs, in a
// process group of its own with stdin on /dev/null and stdout+stderr captured together.
// Exit 0 is passing, 1 warning, anything else (or a signal) critical. Output beyond
// output_size_max (0 = the default; at most probe_output_size_max) keeps its tail, as
// "Captured 4096 of 10000 bytes\n...\n<tail>". At the deadline the whole process group is
// killed and the result is critical "Timed out (30s) running check".
ProbeResult probe_script(const std::vector<std::string>& args, core::Duration timeout,
                         std::size_t output_size_max = probe_output_size_default);

struct GrpcProbeSpec {
  std::string target;    // Consul's GRPC: "host:port" or "host:port/service"
  bool use_tls = false;  // GRPCUseTLS: TLS with ALPN h2; otherwise cleartext HTTP/2 (h2c)
  bool tls_skip_verify = false;
  std::string tls_server_name;  // "" = the host of target
  core::Duration timeout{};     // whole probe deadline; <= 0 means Consul's 10s
  // As HttpProbeSpec: the agent's TLS files; without ca_file/ca_path the system's trust store.
  std::string ca_file;
  std::string ca_path;
  std::string cert_file;
  std::string key_file;
};

// Asks the standard gRPC health service (grpc.health.v1.Health/Check) of target about its
// service ("" = the whole server) over HTTP/2 with prior knowledge, or TLS with ALPN h2.
// SERVING is passing with "gRPC check <target>: success"; another serving status is critical
// with "gRPC <target> serving status: NOT_SERVING"; an error is critical with grpc-go's text,
// e.g. "rpc error: code = NotFound desc = unknown service" or, at the deadline,
// "rpc error: code = DeadlineExceeded desc = context deadline exceeded".
ProbeResult probe_grpc(const GrpcProbeSpec& spec);

// Kills the process groups of every script probe still running in this process, so an agent
// that shuts down leaves no check scripts behind; their probes end at once as critical.
void kill_running_scripts();

}  // namespace pc::agent
