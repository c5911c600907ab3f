#include "daemon/query_wiring.h"

#include <chrono>

#include "core/duration.h"
#include "core/log.h"

namespace pc::daemon {

DnsService::QueryRunner dns_query_runner(endpoints::Context& ctx,
                                         std::function<std::string()> secret) {
  return [&ctx, secret](std::string name, std::function<void(dns::PreparedQueryAnswer)> done) {
    endpoints::QueryExecuteOptions options;
    options.secret = secret ? secret() : "";
    endpoints::query_execute(
        ctx, name, std::move(options),
        [done = std::move(done)](core::Result<endpoints::QueryResult> r) {
          dns::PreparedQueryAnswer answer;
          if (!r) {  // no such query (or an error): NXDOMAIN
            core::log::debug("dns", "prepared query: {}", r.error().message);
            return done(std::move(answer));
          }
          answer.found = true;
          answer.service = r->service;
          answer.datacenter = r->datacenter;
          answer.nodes = std::move(r->nodes);
          if (!r->dns_ttl.empty()) {
            if (auto ttl = core::parse_go_duration(r->dns_ttl)) {
              answer.ttl = static_cast<std::uint32_t>(
                  std::chrono::duration_cast<std::chrono::seconds>(*ttl).count());
            }
          }
          done(std::move(answer));
        });
  };
}

}  // namespace pc::daemon
