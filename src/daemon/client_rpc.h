#pragma once
// What a client agent and a server of its datacenter say over server RPC (port 8300), as
// Consul's client agents call their servers: the method numbers and the codecs of their
// payloads (proto/client.proto). The decoders take bytes from the network: anything
// malformed is an InvalidArgument error, never a crash (client_rpc_fuzz).
//
//   kRpcClientApply     ClientApply (a log command + the token it acts for) -> its ApplyResult
//                       (forward.proto); a bare Command (older agents) acts for anonymous
//   kRpcClientNodeRows  NodeRowsRequest -> NodeRows: the catalog's rows for the agent's node
//   kRpcClientHttp      HttpRequest -> HttpResponse: an HTTP API request the agent forwards
//   kRpcClientDns       flags byte (bit 0: TCP; bit 1: a token follows; bit 2: resolver options
//                       follow) [+ 2-byte big-endian length + the agent's ACL token] [+ 4-byte
//                       big-endian length + DnsOptions (dns_options.h)] + a DNS query -> the
//                       encoded response
//   kRpcClientAclResolve AclResolveRequest (a secret) -> AclResolveReply: what it grants
//
// Method numbers share one space with consensus's (1-4, consensus/runtime/rpc_transport.h);
// docs/formats/rpc.md lists them all.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acl/token_grants.h"
#include "agent/catalog_sync.h"
#include "core/result.h"
#include "dns/resolver.h"
#include "http/handler.h"
#include "rpc/frame.h"

namespace pc::proto {
class Command;
}

namespace pc::daemon {

enum ClientRpcMethod : rpc::Method {
  kRpcClientApply = 16,
  kRpcClientNodeRows = 17,
  kRpcClientHttp = 18,
  kRpcClientDns = 19,
  kRpcClientAclResolve = 20,
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
// Within that, how long a server forwarding to another datacenter gives each server it tries:
// 10 s for a request that is not a blocking query (above the remote server's 7 s hold for a
// leader), so a stuck server leaves time to try another; 0 (the whole bound) for a blocking
// query, which parks on one server for its wait.
std::chrono::milliseconds forwarded_http_attempt_timeout(const http::Request& request);
// How long a client agent waits for its server's answer to a forwarded request: a little
// longer than the server's own bound, so that what comes back when a remote datacenter does
// not answer is the server's clean error, not the client's timeout firing at the same moment.
std::chrono::milliseconds client_forward_timeout(const http::Request& request);
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

// A forwarded DNS question carries the token the client agent answers DNS with (Consul's
// client agents send theirs with every RPC) and the agent's resolver settings (its dns_config,
// domain and alt_domain: Consul's agents each answer with their own). Each is written only
// when there is one, so a query without either is the older format byte for byte; a missing
// token means anonymous, missing options the server's own settings.
struct DnsQuery {
  bool tcp = false;
  std::string token;  // "" for none: the anonymous token
  // The asker's settings as decode_dns_options gives them (datacenter and node name left at
  // their defaults); nullopt from an agent that sends none.
  std::optional<dns::ResolverConfig> options;
  std::vector<std::uint8_t> bytes;
};
// Longer tokens are refused by the decoder (and not sent by the encoder's callers).
inline constexpr std::size_t kDnsQueryTokenMax = 1024;
// `options`, when given, must fit (dns_options_fit); callers check before sending.
std::string encode_dns_query(const std::vector<std::uint8_t>& query, bool tcp,
                             std::string_view token = {},
                             const dns::ResolverConfig* options = nullptr);
core::Result<DnsQuery> decode_dns_query(std::string_view bytes);
// What a server that predates the options answers a query carrying them; the caller asks it
// again without them (that server answers with its own settings, as it always did).
bool dns_options_refused(const core::Error& error);

// kRpcClientAclResolve. A reply decodes to the grants, or nullopt for "no such token".
std::string encode_acl_resolve_request(const std::string& secret);
core::Result<std::string> decode_acl_resolve_request(std::string_view bytes);
std::string encode_acl_resolve_reply(const std::optional<acl::TokenGrantsText>& grants);
core::Result<std::optional<acl::TokenGrantsText>> decode_acl_resolve_reply(std::string_view bytes);

// kRpcClientApply's payload: the command's bytes and the token secret it acts for ("" for
// anonymous, which is also what a bare Command from an older agent decodes to).
struct ClientWrite {
  std::string token;
  std::string command;
};
std::string encode_client_apply(std::string command, std::string token);
core::Result<ClientWrite> decode_client_apply(std::string_view bytes);

// A command a client agent sent for the log: it must parse and name exactly one operation,
// since a committed entry the state machine cannot decode stops every server. Returns the
// command re-serialized with `proposed_unix_ns` (the server's clock, not the agent's: apply
// takes time from it).
core::Result<std::string> check_client_command(std::string_view bytes,
                                               std::int64_t proposed_unix_ns);
// The same check, leaving the parsed command in `out` for the ACL check.
core::Status parse_client_command(std::string_view bytes, proto::Command& out);

}  // namespace pc::daemon
