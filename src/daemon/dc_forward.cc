#include "daemon/dc_forward.h"

#include "daemon/client_rpc.h"
#include "daemon/dns_call.h"

namespace pc::daemon {
namespace {

// A remote resolver answers at once; the DNS server gives up on a remote answer after 40 s.
constexpr std::chrono::seconds kDnsCallTimeout{10};
// Each remote server tried gets this long: a resolver answers within a round trip, so one that
// has not after a few seconds is skipped for the next.
constexpr std::chrono::seconds kDnsAttemptTimeout{4};

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
    // A read tries another server of the datacenter when one does not answer within its
    // share; a write is sent once. Either ends in the caller's clean error (no path, timed
    // out, lost), relayed as a 500 with its text by forwarded_response.
    const federation::DcCallBounds bounds{forwarded_http_timeout(req),
                                          forwarded_http_attempt_timeout(req)};
    caller.call_bounded(*dc, kRpcClientHttp, encode_http_request(req), bounds, is_idempotent(req),
                        std::move(done));
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
      caller.call_bounded(dc, kRpcClientDns, std::move(payload),
                          federation::DcCallBounds{kDnsCallTimeout, kDnsAttemptTimeout},
                          /*idempotent=*/true, std::move(reply));
    };
    call_dns(std::move(ask), std::move(query), tcp, token, std::move(options),
             "DNS in datacenter " + dc, std::move(done));
  };
  return out;
}

}  // namespace pc::daemon
