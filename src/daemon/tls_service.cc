#include "daemon/tls_service.h"

#include "core/log.h"
#include "rpc/tls_stream.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "agent.tls";

struct Loaded {
  std::shared_ptr<const rpc::TlsContext> internal_rpc, https;
};

// Both or neither: a reload that fails halfway changes nothing.
core::Result<Loaded> load(const core::AgentConfig& config) {
  Loaded out;
  auto rpc = rpc::TlsContext::load(config.tls.internal_rpc, server_certificate_name(config));
  if (!rpc) return core::make_error(rpc.error().code, "tls.internal_rpc: " + rpc.error().message);
  out.internal_rpc = *rpc;
  auto https = rpc::TlsContext::load(config.tls.https, "");
  if (!https) return core::make_error(https.error().code, "tls.https: " + https.error().message);
  out.https = *https;
  return out;
}

}  // namespace

std::string server_certificate_name(const std::string& datacenter, std::string domain) {
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  return "server." + datacenter + "." + domain;
}

std::string server_certificate_name(const core::AgentConfig& config) {
  return server_certificate_name(config.datacenter, config.domain);
}

core::Status TlsService::start(const core::AgentConfig& config) {
  auto loaded = load(config);
  if (!loaded) return loaded.error();
  internal_rpc_->set(loaded->internal_rpc);
  https_->set(loaded->https);
  const auto& r = config.tls.internal_rpc;
  if (r.has_cert() || r.verify_outgoing) {
    core::log::info(kModule,
                    "server RPC TLS: certificate serial {}, verify_incoming={}, "
                    "verify_outgoing={}, verify_server_hostname={}",
                    loaded->internal_rpc->cert_serial(), r.verify_incoming, r.verify_outgoing,
                    r.verify_server_hostname);
  }
  return core::ok();
}

void TlsService::reload(const core::AgentConfig& config) {
  auto loaded = load(config);
  if (!loaded) {
    core::log::error(kModule, "TLS reload failed, keeping the current certificates: {}",
                     loaded.error().message);
    return;
  }
  internal_rpc_->set(loaded->internal_rpc);
  https_->set(loaded->https);
  core::log::info(kModule, "reloaded TLS certificates (internal_rpc serial {}, https serial {})",
                  loaded->internal_rpc->cert_serial(), loaded->https->cert_serial());
}

rpc::StreamWrapper TlsService::rpc_wrapper() const {
  return rpc::make_tls_wrapper(internal_rpc_);
}

rpc::StreamWrapper TlsService::rpc_wrapper_across(
    const core::AgentConfig& config,
    std::function<std::string(const std::string&)> datacenter_of) const {
  return rpc::make_tls_wrapper(
      internal_rpc_,
      [domain = config.domain, datacenter_of = std::move(datacenter_of)](const std::string& peer) {
        const std::string dc = datacenter_of(peer);
        if (dc.empty()) return std::string();  // unknown: the context's own name
        return server_certificate_name(dc, domain);
      });
}

bool TlsService::https_enabled(const core::AgentConfig& config) const {
  return config.ports.https >= 0 && config.tls.https.has_cert();
}

}  // namespace pc::daemon
