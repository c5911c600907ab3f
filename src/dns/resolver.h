#pragma once
// The DNS interface's logic without sockets (Consul's agent/dns.go): one decoded query and a
// store snapshot in, one response out. The UDP/TCP server encodes the response and trims it
// to the transport's size.
//
// Names answered, all under `domain` (matched ASCII-case-insensitively), with an optional
// datacenter label after the lookup kind:
//   NAME.service[.DC].DOMAIN, TAG.NAME.service[.DC].DOMAIN (the tag may contain dots),
//   _NAME._TAG.service[.DC].DOMAIN (RFC 2782; "_tcp" means no tag filter)
//   NODE.node[.DC].DOMAIN, HEX.addr[.DC].DOMAIN (8 hex digits: IPv4, 32: IPv6)
//   d.c.b.a.in-addr.arpa. and the 32-nibble ip6.arpa. names (PTR of a node's or a service
//   instance's address)
//   SOA and NS questions for any name in the domain (the servers: healthy "consul" instances)
//   NAME.query[.DC].DOMAIN (a prepared query by ID or name, run by the caller)
// DC is "dc1" or "dc1.dc". `alt_domain` is answered like `domain`, and the names in the
// answer use whichever the question asked in. A datacenter other than the local one is
// NXDOMAIN here, with Resolution::other_datacenter naming it: a server that can reach that
// datacenter asks it instead (daemon/dns_service.h). A name outside the domains is REFUSED, or
// handed back to the server for forwarding when recursors are configured; so is a reverse name the
// catalog does not know.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acl/authorizer.h"
#include "core/rand.h"
#include "dns/wire/message.h"
#include "endpoints/health.h"
#include "state/store.h"

namespace pc::dns {

struct ResolverConfig {
  std::string domain = "consul.";
  std::string alt_domain;  // "" for none
  std::string datacenter = "dc1";
  std::string node_name;          // this agent's node
  std::uint32_t service_ttl = 0;  // when no key of service_ttls matches
  // Consul's dns_config.service_ttl: an exact service name wins; else the longest key ending
  // in '*' whose prefix matches ("*" alone matches every name).
  std::map<std::string, std::uint32_t> service_ttls;
  std::uint32_t node_ttl = 0;
  std::uint32_t soa_min_ttl = 0;  // the SOA's minimum, and its TTL (negative caching)
  std::uint32_t soa_refresh = 3600;
  std::uint32_t soa_retry = 600;
  std::uint32_t soa_expire = 86400;
  bool only_passing = false;         // leave out warning instances too
  std::size_t a_record_limit = 0;    // at most this many A/AAAA answers per service; 0: all
  std::size_t udp_answer_limit = 3;  // see resolve(); 0: no limit
  bool enable_truncate = false;      // set TC when udp_answer_limit dropped answers
  bool node_meta_txt = true;         // enable_additional_node_meta_txt
  bool recursion_available = false;  // recursors are configured: RA set, outside names forwarded
  bool allow_stale = true;
  std::uint64_t max_stale_ms = 87600ull * 3600 * 1000;

  bool operator==(const ResolverConfig&) const = default;
};

// Records the server found for host names through the recursors, by lower-case FQDN.
using ExternalRecords = std::map<std::string, std::vector<wire::Record>>;

struct Resolution {
  wire::Message response;
  // The query is for a name the catalog does not answer and recursors are configured: the
  // server forwards the query itself and relays the recursor's answer instead of `response`.
  bool forward = false;
  // Host names (addresses that are not IPs, outside the domains) whose A/AAAA records belong
  // in the answer and were not in `external`: the server may look them up through the
  // recursors and resolve again with them.
  std::vector<std::string> external_names;
  // The answer may be served again to the same question until the store changes (the
  // server's AnswerCache); false for answers that depend on more than the store.
  bool cacheable = true;
  // Another process answers it (a client agent asks a server): the DNS server hands the
  // query's bytes to DnsServer::Options::remote and sends back what that returns.
  bool remote = false;
  // With `remote`: the settings the answer that comes back is completed with before it is
  // relayed (host_completion.h): host names in it without their records are looked up
  // through this server's recursors, as if the answer had been built here. Null: relayed as
  // it comes.
  std::shared_ptr<const ResolverConfig> complete_with;
  // NAME.query[.DC].DOMAIN asked without an answer in hand: the prepared query to run (its
  // ID or name). Whoever runs it resolves the question again with a PreparedQueryAnswer.
  std::string prepared_query;
  // The question names this datacenter, not the local one (lower case; "" otherwise). With
  // `remote`, DnsServer::Options::remote_dc answers it.
  std::string other_datacenter;
};

// What running a prepared query gave, for its DNS answer (Consul's preparedQueryLookup).
struct PreparedQueryAnswer {
  bool found = false;                              // false: no such query, NXDOMAIN
  std::vector<endpoints::CheckServiceNode> nodes;  // in the order to answer
  std::string service;
  std::string datacenter;            // where the instances are (SRV targets name it)
  std::optional<std::uint32_t> ttl;  // the query's DNS.TTL when it has one
};

// The TTL for answers about service `name` (see ResolverConfig::service_ttls).
std::uint32_t service_ttl_for(const ResolverConfig& config, const std::string& name);

// Answers `query` from `snap`. Instances are shuffled with `rand`. The response echoes the
// id, the opcode, RD and the questions; AA is set on authoritative answers, RA never. When the
// query carried EDNS0, the response carries an OPT record with the query's UDP payload size
// and no options.
// With `udp` (the query came over UDP) and no EDNS0 payload size above 512, at most
// udp_answer_limit answers are kept, with the additional records of the dropped ones left
// out, and TC is set only when enable_truncate is (Consul's trimUDPResponse).
wire::Message resolve(const wire::Message& query, const state::Snapshot& snap,
                      const ResolverConfig& config, core::Rand& rand, bool udp = false);

// resolve() with what the server needs to forward and to chase host names (see Resolution).
// With `authz` (ACLs enabled: the authorizer of the token DNS answers with), what the token
// may not read is left out, as Consul's catalog and health reads filter it for DNS: a
// service instance needs service:read on its service and node:read on its node, a node (by
// name or address) node:read. A lookup left with nothing is answered as if nothing existed
// (NXDOMAIN with the SOA); the name servers in SOA and NS answers are filtered the same way.
// Null: everything is readable.
// With `query_answer`, a NAME.query name is answered from it (the instances as A/AAAA or
// SRV records, with the query's TTL, else the service's); without, it comes back with
// Resolution::prepared_query set.
Resolution resolve_full(const wire::Message& query, const state::Snapshot& snap,
                        const ResolverConfig& config, core::Rand& rand, bool udp,
                        const ExternalRecords* external, const acl::Authorizer* authz = nullptr,
                        const PreparedQueryAnswer* query_answer = nullptr);

// Consul's trimUDPResponse, by count: when `query` came over UDP without an EDNS0 payload
// size above 512, `response` keeps udp_answer_limit answers and the additional records that
// still belong to one of them, and TC is set when enable_truncate is. resolve_full() applies
// it to UDP answers; so does an agent that completes an answer another process built.
void trim_udp_answers(const wire::Message& query, wire::Message& response,
                      const ResolverConfig& config);

// Consul's allow_stale / max_stale for an agent answering from its own state: the leader
// (known, last contact 0) always may; another server only with allow_stale and a leader heard
// from within max_stale. When this is false the answer is SERVFAIL: Consul would ask the
// leader instead, which needs the server RPC of the consensus work.
bool stale_answer_allowed(const ResolverConfig& config, bool known_leader,
                          std::uint64_t last_contact_ms);

}  // namespace pc::dns
