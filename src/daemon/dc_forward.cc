#include "daemon/dc_forward.h"

#include "core/log.h"
#include "daemon/client_rpc.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "federation";
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
                      dns::DnsServer::Options::RemoteDone done) {
    caller.call_idempotent(dc, kRpcClientDns, encode_dns_query(query, tcp), kDnsCallTimeout,
                           [dc, done = std::move(done)](core::Result<std::string> reply) {
                             if (!reply) {
                               core::log::debug(kModule, "DNS in datacenter {}: {}", dc,
                                                reply.error().message);
                               done(std::nullopt);
                               return;
                             }
                             done(std::vector<std::uint8_t>(reply->begin(), reply->end()));
                           });
  };
  return out;
}

}  // namespace pc::daemon
