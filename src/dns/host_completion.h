#pragma once
// Completing an answer that another process built (a client agent's server, a server of
// another datacenter) with the records of the host names in it, from this agent's recursors.
//
// Consul's agents build every DNS answer themselves: a CNAME or SRV target that is a host
// name outside the agent's domains is looked up through the agent's own recursors and its
// records join the answer (agent/dns.go, resolveCNAME). Here a client agent's question is
// resolved by a server, which knows the client's settings (dns_options.h) but cannot reach
// the client's recursors; so the server answers with the CNAME or SRV target alone and the
// agent that was asked completes the answer before it relays it (docs/decisions/0028).
//
// Pure: no sockets, no store. The DNS server (server.h) calls complete_hosts() once to learn
// which host names lack their records, asks its recursors for them, and calls it again with
// what they said.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dns/resolver.h"
#include "dns/wire/message.h"

namespace pc::dns {

// Records resolved for one host name that an answer to a query without EDNS0 keeps
// (Consul's maxRecurseRecords).
inline constexpr std::size_t kHostRecordsNoEdnsMax = 5;

// What the recursors said about a host name, as an answer carries it: only A, AAAA and CNAME
// records, each with `ttl` (the TTL of the record that names the host), at most
// kHostRecordsNoEdnsMax of them unless `edns`.
std::vector<wire::Record> host_records_of(const std::vector<wire::Record>& found, std::uint32_t ttl,
                                          bool edns);

// `answer` (the response to `query`, built elsewhere with `config`) completed with the host
// records `external` holds (null: none yet), and in Resolution::external_names the host names
// still without records that the recursors should be asked about (only with
// config.recursion_available).
//
// A host name is the target of a CNAME record (in the answer or the additional section) or
// of an SRV answer that lies outside config's domain and alt_domain and has no record of its
// own in that section (the additional section for SRV targets). A CNAME's host records go
// right after it, an SRV target's at the end of the additional section, each host's once:
// as host_records_of() gives them, or as found for a CNAME that names a node
// (NODE.node[.DC].DOMAIN), as the resolver answers node lookups. Only NOERROR answers are
// completed. With `udp`, udp_answer_limit trims the result again
// (trim_udp_answers), as it trims an answer built here.
Resolution complete_hosts(const wire::Message& query, wire::Message answer,
                          const ResolverConfig& config, const ExternalRecords* external, bool udp);

}  // namespace pc::dns
