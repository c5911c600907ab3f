#pragma once
// The agent's TLS material (the `tls` stanza): one reloadable context for server RPC
// (internal_rpc) and one for the HTTPS listener (https).
//
// start() loads both, failing like a configuration error (the agent does not start with a
// missing file or a key that does not match its certificate). reload() on SIGHUP loads them
// again from the new configuration and swaps them in: new connections use the new
// certificates, connections already open keep theirs, so no established work is dropped. A
// reload that fails keeps the old material and logs why (as Consul does).
//
// Thread-safety: start() and reload() from the agent's main thread; what rpc_wrapper() and
// https() return is used from I/O threads.
#include <functional>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/result.h"
#include "rpc/stream.h"
#include "rpc/tls_context.h"

namespace pc::daemon {

class TlsService {
 public:
  core::Status start(const core::AgentConfig& config);
  void reload(const core::AgentConfig& config);

  // For RpcServer and RpcClient: TLS per internal_rpc (rpc/tls_stream.h).
  rpc::StreamWrapper rpc_wrapper() const;
  // rpc_wrapper() for calls to other datacenters' servers: a dialed server's certificate must
  // name `server.<its dc>.<domain>`, its datacenter found by `datacenter_of` its address.
  rpc::StreamWrapper rpc_wrapper_across(
      const core::AgentConfig& config,
      std::function<std::string(const std::string&)> datacenter_of) const;
  // The HTTPS listener's material; it opens only when https_enabled().
  std::shared_ptr<rpc::TlsContextHolder> https() const { return https_; }
  bool https_enabled(const core::AgentConfig& config) const;

 private:
  std::shared_ptr<rpc::TlsContextHolder> internal_rpc_ = std::make_shared<rpc::TlsContextHolder>();
  std::shared_ptr<rpc::TlsContextHolder> https_ = std::make_shared<rpc::TlsContextHolder>();
};

// What a server certificate must name under verify_server_hostname: "server.dc1.consul".
std::string server_certificate_name(const core::AgentConfig& config);
// The same for a server of `datacenter`.
std::string server_certificate_name(const std::string& datacenter, std::string domain);

}  // namespace pc::daemon
