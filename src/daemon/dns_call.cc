#include "daemon/dns_call.h"

#include <utility>

#include "core/log.h"
#include "daemon/client_rpc.h"
#include "daemon/dns_options.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "dns";

void reply_to(const core::Result<std::string>& reply, const std::string& what,
              const dns::DnsServer::Options::RemoteDone& done) {
  if (!reply) {
    core::log::debug(kModule, "{}: {}", what, reply.error().message);
    done(std::nullopt);
    return;
  }
  done(std::vector<std::uint8_t>(reply->begin(), reply->end()));
}

}  // namespace

void call_dns(DnsCall call, std::vector<std::uint8_t> query, bool tcp, std::string token,
              std::shared_ptr<const dns::ResolverConfig> options, std::string_view what,
              dns::DnsServer::Options::RemoteDone done) {
  if (token.size() > kDnsQueryTokenMax) {
    // No server would take it; answering with another token instead would be wrong.
    core::log::warn(kModule, "the agent's DNS token is over {} bytes", kDnsQueryTokenMax);
    done(std::nullopt);
    return;
  }
  if (options && !dns_options_fit(*options)) {
    core::log::warn(kModule, "dns_config.service_ttl has over {} entries or a name over {} bytes",
                    kDnsOptionsServiceTtlsMax, kDnsOptionsServiceNameMax);
    done(std::nullopt);
    return;
  }
  std::string payload = encode_dns_query(query, tcp, token, options.get());
  auto first = [call, query = std::move(query), tcp, token = std::move(token),
                with_options = options != nullptr, what = std::string(what),
                done = std::move(done)](core::Result<std::string> reply) mutable {
    if (!reply && with_options && dns_options_refused(reply.error())) {
      core::log::debug(kModule, "{}: the server predates DNS options; asking without", what);
      call(encode_dns_query(query, tcp, token),
           [what, done = std::move(done)](core::Result<std::string> again) {
             reply_to(again, what, done);
           });
      return;
    }
    reply_to(reply, what, done);
  };
  call(std::move(payload), std::move(first));
}

}  // namespace pc::daemon
