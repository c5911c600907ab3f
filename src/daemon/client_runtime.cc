#include "daemon/client_runtime.h"

#include <algorithm>
#include <future>

#include "core/log.h"
#include "daemon/apply_outcome.h"
#include "daemon/client_rpc.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "client";
// A server holds a write up to 7 s for a leader (rpc_hold_timeout); reads answer at once.
constexpr std::chrono::milliseconds kCallTimeout{std::chrono::seconds(30)};
// A token lookup is answered from the server's tables at once; past this the resolver's
// down_policy decides rather than leave the request waiting.
constexpr std::chrono::milliseconds kAclCallTimeout{std::chrono::seconds(5)};
// How long a client keeps one server before picking again at random, plus up to half as much
// again (Consul's clientRPCMinReuseDuration, 2 min, with jitter).
constexpr std::int64_t kRebalanceMs = 120'000;
// How long after the last answer from a server the agent still reports a known leader.
constexpr std::int64_t kKnownLeaderMs = 60'000;
// A server that answers nothing, not even the transport's pings, for this long while calls
// wait on it is cut off (rpc::RpcClient::Options::silence_timeout): its calls fail
// kUnavailable and reads go on to the next server, instead of waiting out their own 35 s.
// Pings are answered by the server's transport even while handlers run, so only a frozen or
// partitioned server stays silent; a LAN round trip is well under a millisecond, and 5 s
// leaves a ping (sent after 1.7 s of quiet) room to queue behind large frames on a loaded
// 2-core host. Gossip would find such a server failed too, but only for later requests.
constexpr std::chrono::milliseconds kSilenceTimeout{std::chrono::seconds(5)};

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ClientRuntime::ClientRuntime(ServerSource servers)
    : servers_(std::move(servers)), rand_(std::random_device{}()) {}

ClientRuntime::~ClientRuntime() {
  stop();
}

core::Status ClientRuntime::start() {
  rpc::RpcClient::Options options;
  options.threads = 1;
  options.wrap_stream = wrap_stream_;
  options.silence_timeout = kSilenceTimeout;
  rpc_ = std::make_unique<rpc::RpcClient>(options);
  rpc_->start();
  return core::ok();
}

void ClientRuntime::stop() {
  if (rpc_) rpc_->stop();
}

void ClientRuntime::heard_from_server() {
  last_answer_ms_.store(steady_ms(), std::memory_order_relaxed);
}

void ClientRuntime::call(rpc::Method method, std::string payload, std::chrono::milliseconds timeout,
                         bool retry, Callback done) {
  call_from(0, method, std::make_shared<const std::string>(std::move(payload)), timeout, retry,
            std::move(done));
}

std::string ClientRuntime::pick(const std::vector<std::string>& servers) {
  if (servers.empty()) return {};
  std::lock_guard lock(mu_);
  const std::int64_t now = steady_ms();
  if (now >= rebalance_at_ms_ ||
      std::find(servers.begin(), servers.end(), current_) == servers.end()) {
    current_ = servers[rand_() % servers.size()];
    rebalance_at_ms_ = now + kRebalanceMs + static_cast<std::int64_t>(rand_() % (kRebalanceMs / 2));
  }
  return current_;
}

void ClientRuntime::move_past(const std::string& failed, const std::vector<std::string>& servers) {
  std::lock_guard lock(mu_);
  if (current_ != failed) return;  // another request moved on already
  auto it = std::find(servers.begin(), servers.end(), failed);
  current_ =
      (it == servers.end() || std::next(it) == servers.end()) ? servers.front() : *std::next(it);
}

void ClientRuntime::call_from(std::size_t attempt, rpc::Method method,
                              std::shared_ptr<const std::string> payload,
                              std::chrono::milliseconds timeout, bool retry, Callback done) {
  std::vector<std::string> servers = servers_ ? servers_() : std::vector<std::string>{};
  std::sort(servers.begin(), servers.end());
  const std::string server = pick(servers);
  if (server.empty()) {
    // Consul's structs.ErrNoServers: no server of this datacenter in the LAN pool yet.
    done(core::make_error(core::Code::kUnavailable, "No known Consul servers"));
    return;
  }
  auto on_answer = [this, attempt, server, servers, method, payload, timeout, retry,
                    done](core::Result<std::string> result) mutable {
    if (result || result.error().code != core::Code::kUnavailable) {
      if (result) heard_from_server();
      done(std::move(result));
      return;
    }
    // Unreachable: the next request goes to the next server; a read tries it now, and so
    // does a write that surely never reached a handler (rpc::never_handled: the connect was
    // refused, the server was stopping), the rule cross-datacenter calls follow too.
    move_past(server, servers);
    core::log::debug(kModule, "server {} unreachable: {}", server, result.error().message);
    if ((retry || rpc::never_handled(result.error())) && attempt + 1 < servers.size()) {
      call_from(attempt + 1, method, std::move(payload), timeout, retry, std::move(done));
      return;
    }
    done(std::move(result));
  };
  if (auto s = rpc_->call(server, method, *payload, timeout, on_answer); !s) done(s.error());
}

void ClientRuntime::propose(std::string command, consensus::ProposeDone done) {
  propose_as(std::move(command), write_token_ ? write_token_() : std::string(), std::move(done));
}

void ClientRuntime::propose_as(std::string command, std::string token,
                               consensus::ProposeDone done) {
  call(kRpcClientApply, encode_client_apply(std::move(command), std::move(token)), kCallTimeout,
       /*retry=*/false, [done = std::move(done)](core::Result<std::string> reply) {
         if (!reply) {
           done(reply.error());
           return;
         }
         done(decode_apply_outcome(*reply));
       });
}

agent::NodeReader ClientRuntime::node_reader(std::string node) {
  return [this, node = std::move(node)]() -> core::Result<agent::NodeRows> {
    auto promise = std::make_shared<std::promise<core::Result<std::string>>>();
    auto future = promise->get_future();
    call(kRpcClientNodeRows, encode_node_rows_request(node), kCallTimeout, /*retry=*/true,
         [promise](core::Result<std::string> reply) { promise->set_value(std::move(reply)); });
    auto reply = future.get();  // anti-entropy runs on its own thread and may wait
    if (!reply) return reply.error();
    return decode_node_rows(*reply);
  };
}

http::Handler ClientRuntime::http_forwarder() {
  return [this](const http::Request& req, http::Reply reply) {
    call(kRpcClientHttp, encode_http_request(req), client_forward_timeout(req), is_idempotent(req),
         [reply = std::move(reply)](core::Result<std::string> answer) {
           reply(forwarded_response(answer));
         });
  };
}

AskServer ClientRuntime::dns_forwarder(const endpoints::AgentTokens* tokens) {
  return [this, tokens](std::vector<std::uint8_t> query, bool tcp,
                        std::shared_ptr<const dns::ResolverConfig> options,
                        dns::DnsServer::Options::RemoteDone done) {
    std::string token = tokens != nullptr ? tokens->dns_token() : "";
    auto ask = [this](std::string payload, std::function<void(core::Result<std::string>)> reply) {
      call(kRpcClientDns, std::move(payload), kCallTimeout, /*retry=*/true, std::move(reply));
    };
    call_dns(std::move(ask), std::move(query), tcp, std::move(token), std::move(options),
             "DNS through a server", std::move(done));
  };
}

endpoints::TokenFetch ClientRuntime::acl_fetcher() {
  return [this](const std::string& secret, endpoints::TokenFetchDone done) {
    call(kRpcClientAclResolve, encode_acl_resolve_request(secret), kAclCallTimeout,
         /*retry=*/true, [done = std::move(done)](core::Result<std::string> reply) {
           if (!reply) {
             done(reply.error());
             return;
           }
           auto answer = decode_acl_resolve_reply(*reply);
           if (!answer) {
             done(answer.error());
             return;
           }
           done(std::move(*answer));
         });
  };
}

consensus::LeaderInfo ClientRuntime::leader() const {
  consensus::LeaderInfo info;
  const std::int64_t last = last_answer_ms_.load(std::memory_order_relaxed);
  if (last == 0) return info;
  const std::int64_t since = steady_ms() - last;
  info.known_leader = since < kKnownLeaderMs;
  info.last_contact_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(since, 0));
  return info;
}

void ClientRuntime::read_barrier(consensus::OperatorDone done) {
  done(core::make_error(core::Code::kInternal, "a client agent has no log to read"));
}

void ClientRuntime::remove_server(std::string, consensus::OperatorDone done) {
  done(core::make_error(core::Code::kInternal, "a client agent has no log"));
}

void ClientRuntime::transfer_leadership(std::string, consensus::OperatorDone done) {
  done(core::make_error(core::Code::kInternal, "a client agent has no log"));
}

}  // namespace pc::daemon
