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
#include <string>

#include "core/rand.h"
#include "dns/wire/message.h"
#include "state/store.h"

namespace pc::dns {

struct ResolverConfig {
  std::string domain = "consul.";
  std::string datacenter = "dc1";
  std::string node_name;  // this agent's node
  std::uint32_t service_ttl = 0;
  std::uint32_t node_ttl = 0;
  std::uint32_t soa_min_ttl = 0;   // the SOA's minimum, and its TTL (negative caching)
  bool only_passing = false;       // leave out warning instances too
  std::size_t a_record_limit = 0;  // at most this many A/AAAA answers per service; 0: all
};

// Answers `query` from `snap`. Instances are shuffled with `rand`. The response echoes the
// id, the opcode, RD and the questions; AA is set on authoritative answers, RA never. When the
// query carried EDNS0, the response carries an OPT record with the query's UDP payload size
// and no options.
wire::Message resolve(const wire::Message& query, const state::Snapshot& snap,
                      const ResolverConfig& config, core::Rand& rand);

}  // namespace pc::dns
