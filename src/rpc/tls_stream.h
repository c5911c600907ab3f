#pragma once
// TLS for server RPC (port 8300) through the transport's stream seam (rpc/stream.h).
//
// make_tls_wrapper() returns the StreamWrapper both RpcServer and RpcClient take:
// - dialing (client == true): TLS when the current internal_rpc context has verify_outgoing
//   (Consul dials TLS exactly then), checking the server's chain against the CAs and, with
//   verify_server_hostname, that its certificate names `server.<datacenter>.<domain>`;
//   otherwise plain TCP.
// - accepting: when the context has a certificate, the first byte decides (tls_sniff.h): a
//   TLS handshake record starts TLS, anything else is plaintext, which is refused (and the
//   reason logged) when verify_incoming is on. Without a certificate: plain TCP.
// The context is read from the holder per connection, so a reload (SIGHUP) changes what new
// connections use while open ones keep theirs.
//
// The TLS engine is OpenSSL over memory BIOs, driven by the inner Stream's reads and writes,
// so it works over any Stream (tests feed it from memory; tls_stream_fuzz feeds it bytes).
// A failed handshake is logged at WARN with the peer and the reason, e.g.
// "rpc: TLS handshake with 127.0.0.1:8300 failed: certificate verify failed: hostname
// mismatch (want server.dc1.consul, certificate names server.dc2.consul, localhost)".
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "rpc/stream.h"
#include "rpc/tls_context.h"

namespace pc::rpc {

StreamWrapper make_tls_wrapper(std::shared_ptr<TlsContextHolder> holder);

// The name a dialed server's certificate must carry under verify_server_hostname, by the
// address dialed ("" for the context's own, `server.<local dc>.<domain>`).
using ServerNameFn = std::function<std::string(const std::string& peer)>;
// make_tls_wrapper() for calls to servers of other datacenters, whose certificates name
// theirs (`server.dc2.consul`), as Consul checks the name of the datacenter it dials.
StreamWrapper make_tls_wrapper(std::shared_ptr<TlsContextHolder> holder, ServerNameFn server_name);

// The pieces make_tls_wrapper() composes, for tests and the fuzzer. `context` must have a
// certificate for the accepting side.
// `server_name`: what the server's certificate must name; "" for the context's.
std::unique_ptr<Stream> tls_client_stream(std::unique_ptr<Stream> inner,
                                          std::shared_ptr<const TlsContext> context,
                                          const std::string& peer,
                                          const std::string& server_name = "");
std::unique_ptr<Stream> tls_server_stream(std::unique_ptr<Stream> inner,
                                          std::shared_ptr<const TlsContext> context,
                                          const std::string& peer);

}  // namespace pc::rpc
