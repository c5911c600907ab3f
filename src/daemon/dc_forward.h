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
// to datacenter" (DNS: NXDOMAIN when the pool lists none, SERVFAIL when the call fails). A
// read gives each server it tries a share of its bound (forwarded_http_attempt_timeout) and a
// server gone silent is dropped within seconds (WanDcCallerOptions::silence_timeout), so right
// after a WAN partition starts, before gossip finds the other side failed, a read still ends
// in "No path to datacenter" in seconds, not at its 30 s bound. A call that gets no answer in
// time is a 500 "rpc error: call to datacenter DC timed out"; a write whose connection is lost
// after sending, a 500 "rpc error: connection to datacenter DC lost before its answer"
// (docs/decisions/0020).
//
// Thread-safety: the returned functions run on any thread; `caller` must outlive them.
#include "daemon/dns_service.h"
#include "federation/wan_dc_caller.h"
#include "http/handler.h"

namespace pc::daemon {

http::Handler dc_http_forwarder(federation::WanDcCaller& caller);
DnsService::DatacenterForwarding dc_dns_forwarding(federation::WanDcCaller& caller);

}  // namespace pc::daemon
