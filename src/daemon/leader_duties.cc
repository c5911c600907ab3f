#include "daemon/leader_duties.h"

#include <chrono>

#include "daemon/client_rpc.h"
#include "daemon/dns_call.h"

namespace pc::daemon {
namespace {

constexpr auto kCheckInterval = std::chrono::seconds(1);
constexpr auto kForwardTimeout = std::chrono::seconds(30);
// Marks a request a follower sent to the leader: if leadership moved meanwhile, the receiver
// answers "No cluster leader" rather than passing it on again.
constexpr std::string_view kForwardedHeader = "x-proconsul-forwarded";

}  // namespace

LeaderDuties::LeaderDuties(const consensus::Log& log, std::string own_address,
                           endpoints::SessionTimers& sessions, endpoints::TombstoneGc& tombstones,
                           core::TimerThread& timers)
    : log_(log),
      own_address_(std::move(own_address)),
      sessions_(sessions),
      tombstones_(tombstones),
      timers_(timers) {}

void LeaderDuties::start() {
  check();
}

bool LeaderDuties::leading() const {
  const consensus::LeaderInfo l = log_.leader();
  return l.known_leader && l.leader_address == own_address_;
}

void LeaderDuties::check() {
  const bool lead = leading();
  sessions_.set_leader(lead);
  tombstones_.set_enabled(lead);
  if (lead) sessions_.reconcile();
  timers_.schedule(std::chrono::steady_clock::now() + kCheckInterval, [this] { check(); });
}

http::LeaderForwarder LeaderDuties::forwarder(rpc::RpcClient& client) {
  return [this, &client](const http::Request& req, http::Reply& reply) {
    const consensus::LeaderInfo l = log_.leader();
    if (l.known_leader && l.leader_address == own_address_) return false;
    if (!l.known_leader || req.header(kForwardedHeader) != nullptr) {
      reply(http::Response::text(500, "No cluster leader"));
      return true;
    }
    http::Request forwarded = req;
    forwarded.headers.emplace_back(std::string(kForwardedHeader), "1");
    auto done = [reply = std::move(reply)](core::Result<std::string> answer) {
      reply(forwarded_response(answer));
    };
    if (auto s = client.call(l.leader_address, kRpcClientHttp, encode_http_request(forwarded),
                             kForwardTimeout, done);
        !s) {
      // call() never ran `done`; nothing was moved out of it yet.
      done(s.error());
    }
    return true;
  };
}

DnsService::LeaderForwarding LeaderDuties::dns_forwarder(rpc::RpcClient& client) {
  return [this, &client](std::vector<std::uint8_t> query, bool tcp, const std::string& token,
                         std::shared_ptr<const dns::ResolverConfig> options,
                         dns::DnsServer::Options::RemoteDone done) {
    const consensus::LeaderInfo l = log_.leader();
    if (!l.known_leader || l.leader_address == own_address_) return false;
    auto ask = [&client, leader = l.leader_address](
                   std::string payload, std::function<void(core::Result<std::string>)> reply) {
      if (auto s = client.call(leader, kRpcClientDns, std::move(payload), kForwardTimeout, reply);
          !s) {
        reply(s.error());  // call() never ran `reply`
      }
    };
    call_dns(std::move(ask), std::move(query), tcp, token, std::move(options),
             "DNS through the leader", std::move(done));
    return true;
  };
}

}  // namespace pc::daemon
