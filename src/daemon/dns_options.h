#pragma once
// The resolver settings a client agent sends with each DNS question it asks a server
// (kRpcClientDns, client_rpc.h), as proto/client.proto's DnsOptions: Consul's agents each
// answer DNS with their own dns_config, domain and alt_domain, so a server answering for a
// client agent shapes the answer with the agent's settings, not its own.
//
// Carried: domain, alt_domain, the service and node TTLs, the SOA values, only_passing, the
// answer limits (a_record_limit, udp_answer_limit, enable_truncate), the node meta TXT switch,
// whether the agent has recursors (the RA bit) and allow_stale / max_stale. Not carried: the
// datacenter and node name, which a decoded value leaves at their defaults for the server to
// fill in (the asker is in the server's datacenter).
//
// The decoder reads bytes from the network: anything malformed or over the limits below is
// an InvalidArgument error, never a crash (client_rpc_fuzz).
#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"
#include "dns/resolver.h"

namespace pc::daemon {

// More service_ttl entries, or longer names, than any real configuration holds; they bound
// what one question may make a server allocate.
inline constexpr std::size_t kDnsOptionsServiceTtlsMax = 1024;
inline constexpr std::size_t kDnsOptionsServiceNameMax = 256;
// The encoded options' size: room for the most entries of the longest names, and the domains.
inline constexpr std::size_t kDnsOptionsSizeMax = 512 * 1024;
static_assert(kDnsOptionsServiceTtlsMax * (kDnsOptionsServiceNameMax + 16) + 2048 <
                  kDnsOptionsSizeMax,
              "the largest valid options must fit the size limit");

// Whether `config` can be sent: within the limits above (the config loader allows more).
bool dns_options_fit(const dns::ResolverConfig& config);
std::string encode_dns_options(const dns::ResolverConfig& config);
core::Result<dns::ResolverConfig> decode_dns_options(std::string_view bytes);

}  // namespace pc::daemon
