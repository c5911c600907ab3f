#pragma once
// What a client agent and a server of its datacenter say over server RPC (port 8300), as
// Consul's client agents call their servers: the method numbers and the codecs of their
// payloads (proto/client.proto). The decoders take bytes from the network: anything
// malformed is an InvalidArgument error, never a crash (client_rpc_fuzz).
//
//   kRpcClientApply     a log command (proto::Command bytes) -> its ApplyResult (forward.proto)
//   kRpcClientNodeRows  NodeRowsRequest -> NodeRows: the catalog's rows for the agent's node
//   kRpcClientHttp      HttpRequest -> HttpResponse: an HTTP API request the agent forwards
//   kRpcClientDns       transport byte (1: TCP) + a DNS query -> the encoded response
//
// Method numbers share one space with consensus's (1-4, consensus/runtime/rpc_transport.h);
// docs/formats/rpc.md lists them all.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/catalog_sync.h"
#include "core/result.h"
#include "http/handler.h"
#include "rpc/frame.h"

namespace pc::daemon {

enum ClientRpcMethod : rpc::Method {
  kRpcClientApply = 16,
  kRpcClientNodeRows = 17,
  kRpcClientHttp = 18,
  kRpcClientDns = 19,
};

std::string encode_http_request(const http::Request& request);
core::Result<http::Request> decode_http_request(std::string_view bytes);
std::string encode_http_response(const http::Response& response);
core::Result<http::Response> decode_http_response(std::string_view bytes);

// How long a forwarded HTTP request may take (a client agent's to its server, a server's to
// another datacenter): a blocking query (?index) may park for Consul's longest wait (10 min)
// plus its jitter (1/16), so it gets 11 min; anything else 30 s (a server holds a write up to
// 7 s for a leader, rpc_hold_timeout; reads answer at once).
std::chrono::milliseconds forwarded_http_timeout(const http::Request& request);
// GET and HEAD run again harmlessly: after a connection dropped they may go to another server.
bool is_idempotent(const http::Request& request);

// What a forwarded HTTP request's caller answers: the server's response, or a 500 with the
// error's text when the call failed or its answer does not decode (Consul answers a failed
// RPC to the servers that way).
http::Response forwarded_response(const core::Result<std::string>& reply);

std::string encode_node_rows_request(const std::string& node);
core::Result<std::string> decode_node_rows_request(std::string_view bytes);
std::string encode_node_rows(const agent::NodeRows& rows);
core::Result<agent::NodeRows> decode_node_rows(std::string_view bytes);

struct DnsQuery {
  bool tcp = false;
  std::vector<std::uint8_t> bytes;
};
std::string encode_dns_query(const std::vector<std::uint8_t>& query, bool tcp);
core::Result<DnsQuery> decode_dns_query(std::string_view bytes);

// A command a client agent sent for the log: it must parse and name exactly one operation,
// since a committed entry the state machine cannot decode stops every server. Returns the
// command re-serialized with `proposed_unix_ns` (the server's clock, not the agent's: apply
// takes time from it).
core::Result<std::string> check_client_command(std::string_view bytes,
                                               std::int64_t proposed_unix_ns);

}  // namespace pc::daemon
