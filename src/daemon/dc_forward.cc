#include "daemon/dc_forward.h"

#include "daemon/client_rpc.h"
#include "daemon/dns_call.h"

namespace pc::daemon {
namespace {

// A remote resolver answers at once; the DNS server gives up on a remote answer after 40 s.
constexpr std::chrono::seconds kDnsCallTimeout{10};

}  // namespace

http::Handler dc_http_forwarder(federation::WanDcCaller& caller) {
  return [&caller](const http::Request& req, http::Reply reply) {
    const std::string* dc = req.query_param("dc");
    if (dc == nullptr) {  // routes.cc forwards only requests that name one
      reply(http::Response::text(500, federation::kNoPathToDatacenter));
      return;
    }
    auto done = [reply = std::move(reply)](core::Result<std::string> answer) {
      reply(forwarded_response(answer));
    };
    if (is_idempotent(req)) {
      caller.call_idempotent(*dc, kRpcClientHttp, encode_http_request(req),
                             forwarded_http_timeout(req), std::move(done));
    } else {
      caller.call(*dc, kRpcClientHttp, encode_http_request(req), forwarded_http_timeout(req),
                  std::move(done));
    }
  };
}

DnsService::DatacenterForwarding dc_dns_forwarding(federation::WanDcCaller& caller) {
  DnsService::DatacenterForwarding out;
  out.has_servers = [&caller](const std::string& dc) { return caller.has_servers(dc); };
  out.ask = [&caller](const std::string& dc, std::vector<std::uint8_t> query, bool tcp,
                      const std::string& token, std::shared_ptr<const dns::ResolverConfig> options,
                      dns::DnsServer::Options::RemoteDone done) {
    auto ask = [&caller, dc](std::string payload,
                             std::function<void(core::Result<std::string>)> reply) {
      caller.call_idempotent(dc, kRpcClientDns, std::move(payload), kDnsCallTimeout,
                             std::move(reply));
    };
    call_dns(std::move(ask), std::move(query), tcp, token, std::move(options),
             "DNS in datacenter " + dc, std::move(done));
  };
  return out;
}

}  // namespace pc::daemon
