#include "daemon/dns_options.h"

#include <utility>

#include "dns/wire/name.h"
#include "proto/client.pb.h"

namespace pc::daemon {
namespace {

core::Error invalid(std::string what) {
  return core::make_error(core::Code::kInvalidArgument, "DNS options: " + std::move(what));
}

// A domain the resolver can match names against: a valid name other than the root.
bool valid_domain(const std::string& text) {
  if (text.empty() || text == ".") return false;
  auto labels = dns::wire::parse_name(text);
  return labels.has_value() && !labels->empty();
}

}  // namespace

bool dns_options_fit(const dns::ResolverConfig& config) {
  if (config.service_ttls.size() > kDnsOptionsServiceTtlsMax) return false;
  for (const auto& entry : config.service_ttls) {
    if (entry.first.empty() || entry.first.size() > kDnsOptionsServiceNameMax) return false;
  }
  return true;
}

std::string encode_dns_options(const dns::ResolverConfig& c) {
  proto::client::DnsOptions m;
  m.set_domain(c.domain);
  m.set_alt_domain(c.alt_domain);
  m.set_default_service_ttl_s(c.service_ttl);
  for (const auto& [name, ttl] : c.service_ttls) {
    auto* entry = m.add_service_ttls();
    entry->set_name(name);
    entry->set_ttl_s(ttl);
  }
  m.set_node_ttl_s(c.node_ttl);
  m.set_soa_min_ttl_s(c.soa_min_ttl);
  m.set_soa_refresh_s(c.soa_refresh);
  m.set_soa_retry_s(c.soa_retry);
  m.set_soa_expire_s(c.soa_expire);
  m.set_only_passing(c.only_passing);
  m.set_a_record_limit(c.a_record_limit);
  m.set_udp_answer_limit(c.udp_answer_limit);
  m.set_enable_truncate(c.enable_truncate);
  m.set_node_meta_txt(c.node_meta_txt);
  m.set_recursion_available(c.recursion_available);
  m.set_allow_stale(c.allow_stale);
  m.set_max_stale_ms(c.max_stale_ms);
  return m.SerializeAsString();
}

core::Result<dns::ResolverConfig> decode_dns_options(std::string_view bytes) {
  if (bytes.size() > kDnsOptionsSizeMax) return invalid("too large");
  proto::client::DnsOptions m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("do not parse");
  }
  if (!valid_domain(m.domain())) return invalid("domain is not a DNS name");
  if (!m.alt_domain().empty() && !valid_domain(m.alt_domain())) {
    return invalid("alt_domain is not a DNS name");
  }
  if (static_cast<std::size_t>(m.service_ttls_size()) > kDnsOptionsServiceTtlsMax) {
    return invalid("too many service TTLs");
  }
  dns::ResolverConfig c;
  c.domain = m.domain();
  c.alt_domain = m.alt_domain();
  c.service_ttl = m.default_service_ttl_s();
  for (const auto& entry : m.service_ttls()) {
    if (entry.name().empty() || entry.name().size() > kDnsOptionsServiceNameMax) {
      return invalid("service TTL name length");
    }
    if (!c.service_ttls.emplace(entry.name(), entry.ttl_s()).second) {
      return invalid("service TTL named twice");
    }
  }
  c.node_ttl = m.node_ttl_s();
  c.soa_min_ttl = m.soa_min_ttl_s();
  c.soa_refresh = m.soa_refresh_s();
  c.soa_retry = m.soa_retry_s();
  c.soa_expire = m.soa_expire_s();
  c.only_passing = m.only_passing();
  c.a_record_limit = static_cast<std::size_t>(m.a_record_limit());
  c.udp_answer_limit = static_cast<std::size_t>(m.udp_answer_limit());
  c.enable_truncate = m.enable_truncate();
  c.node_meta_txt = m.node_meta_txt();
  c.recursion_available = m.recursion_available();
  c.allow_stale = m.allow_stale();
  c.max_stale_ms = m.max_stale_ms();
  return c;
}

}  // namespace pc::daemon
