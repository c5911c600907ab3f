#pragma once
// Sending a DNS question to a server as kRpcClientDns (client_rpc.h): a client agent asks one
// of its servers, a server asks one of another datacenter's. The question travels with the
// asking agent's resolver settings so the answer follows them (dns_options.h); a server that
// predates them refuses the request as a whole, and is asked once more without them (it
// answers with its own settings, as before), so agents and servers may be upgraded in any
// order.
//
// Thread-safety: `call` and `done` run on whatever thread the caller's transport uses.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "dns/resolver.h"
#include "dns/server.h"

namespace pc::daemon {

// How a client agent's DNS service has a question answered by a server: the question's bytes,
// its transport, and the agent's settings as they are when it is asked (a SIGHUP reload
// applies to the next question).
using AskServer = std::function<void(std::vector<std::uint8_t> query, bool tcp,
                                     std::shared_ptr<const dns::ResolverConfig> options,
                                     dns::DnsServer::Options::RemoteDone done)>;

// One kRpcClientDns call with `payload`; `reply` once with the server's answer or the error.
using DnsCall =
    std::function<void(std::string payload, std::function<void(core::Result<std::string>)> reply)>;

// Asks `query` (with `token`, "" for anonymous, and `options`, null for none) through `call`
// and hands `done` the encoded answer, or nullopt when the call failed (logged at debug with
// `what`, e.g. "DNS through a server"). Options over the limits (dns_options_fit) are not
// sent: the answer is then nullopt (SERVFAIL) with a warning, rather than one shaped by
// another agent's settings.
void call_dns(DnsCall call, std::vector<std::uint8_t> query, bool tcp, std::string token,
              std::shared_ptr<const dns::ResolverConfig> options, std::string_view what,
              dns::DnsServer::Options::RemoteDone done);

}  // namespace pc::daemon
