#pragma once
// ?dc= on a server: HTTP requests and DNS questions that name another datacenter are run by a
// server of that datacenter, reached with the cross-datacenter call (federation/
// wan_dc_caller.h), and its answer is relayed unchanged, as Consul's servers forward an RPC
// whose Datacenter is not theirs.
//
// The methods are the client agents' (daemon/client_rpc.h): a remote server answers
// kRpcClientHttp by running the request through its own route table (the request's ?dc= is
// its own datacenter there, so it runs locally, blocking queries included: the remote server
// parks and the call's timeout covers the longest wait), and kRpcClientDns with its resolver.
// So no new method is needed, and a client agent's ?dc= request travels agent -> its server ->
// a server of the named datacenter.
//
// Failures: a datacenter without a usable server, or none reachable, is Consul's 500 "No path
// to datacenter" (DNS: NXDOMAIN when the pool lists none, SERVFAIL when the call fails); a
// call that times out is a 500 with the timeout's text.
//
// Thread-safety: the returned functions run on any thread; `caller` must outlive them.
#include "daemon/dns_service.h"
#include "federation/wan_dc_caller.h"
#include "http/handler.h"

namespace pc::daemon {

http::Handler dc_http_forwarder(federation::WanDcCaller& caller);
DnsService::DatacenterForwarding dc_dns_forwarding(federation::WanDcCaller& caller);

}  // namespace pc::daemon
