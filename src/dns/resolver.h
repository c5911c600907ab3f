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
//   d.c.b.a.in-addr.arpa. (PTR of a node's or a service instance's address)
//   DOMAIN itself (SOA)
// A datacenter other than the local one is NXDOMAIN (no federation yet); a name outside the
// domain is REFUSED (no recursors yet).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "core/rand.h"
#include "dns/wire/message.h"
#include "state/store.h"

namespace pc::dns {

struct ResolverConfig {
  std::string domain = "consul.";
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

}  // namespace pc::dns
