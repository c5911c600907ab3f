#pragma once
// What every command that talks to an agent shares: Consul's HTTP flags and one call helper.
//
//   -http-addr    address of the agent; default $PROCONSUL_HTTP_ADDR, else
//                 $CONSUL_HTTP_ADDR, else 127.0.0.1:8500
//   -token        ACL token sent as X-Consul-Token; default $PROCONSUL_HTTP_TOKEN, else
//                 $CONSUL_HTTP_TOKEN
//   -ca-file -ca-path -client-cert -client-key -tls-server-name
//                 HTTPS settings; default $CONSUL_CACERT, $CONSUL_CAPATH,
//                 $CONSUL_CLIENT_CERT, $CONSUL_CLIENT_KEY, $CONSUL_TLS_SERVER_NAME;
//                 $CONSUL_HTTP_SSL=true means https, $CONSUL_HTTP_SSL_VERIFY=false skips the
//                 certificate check
//   -datacenter   ?dc= on every request         (server flags: commands that query data)
//   -stale        ?stale on reads
//
// Not thread-safe; one per command run.
#include <string>
#include <string_view>

#include "cli/cli.h"
#include "cli/http_client.h"
#include "core/result.h"

namespace pc::core {
class FlagSet;
}

namespace pc::cli {

class HttpFlags {
 public:
  // Adds -http-addr and -token under "HTTP API Options".
  void add_client_flags(core::FlagSet& flags);
  // Adds -datacenter and -stale under "HTTP API Options".
  void add_server_flags(core::FlagSet& flags);

  // The agent to talk to: the flag, else the environment, else 127.0.0.1:8500.
  core::Result<HttpTarget> target(const Context& ctx) const;
  // The token: the flag, else the environment; may be empty.
  std::string token(const Context& ctx) const;
  const std::string& datacenter() const { return datacenter_; }
  bool stale() const { return stale_; }

 private:
  std::string addr_;
  std::string token_;
  std::string ca_file_, ca_path_, client_cert_, client_key_, tls_server_name_;
  std::string datacenter_;
  bool stale_ = false;
};

enum class CallKind { kRead, kWrite };

// Sends method + path (unencoded query params added here, with dc= and, for reads, stale=)
// to the agent named by `flags`. An error's message is ready to print (bad -http-addr, or
// "Error querying agent at ...: connection refused"); any HTTP status is a response.
core::Result<HttpResponse> call_agent(Context& ctx, const HttpFlags& flags, CallKind kind,
                                      std::string_view method, std::string_view path,
                                      QueryParams params, std::string_view body = {},
                                      Headers headers = {});

// Consul's api error for a non-2xx status: "Unexpected response code: 500 (body)".
std::string unexpected_status(const HttpResponse& response);

}  // namespace pc::cli
