#include "dns/resolver.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "dns/wire/name.h"
#include "endpoints/catalog.h"
#include "state/types.h"

namespace pc::dns {
namespace {

using wire::Labels;
using wire::Message;
using wire::Record;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool label_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string join(const Labels& labels, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) out += '.';
    out += labels[i];
  }
  return out;
}

// An IP address in its binary form; nullopt when the text is not an address (a host name).
struct Ip {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
};

std::optional<Ip> parse_ip(const std::string& text) {
  Ip ip;
  if (inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

bool wants_a(std::uint16_t qtype) {
  return qtype == wire::type::kA || qtype == wire::type::kAny;
}
bool wants_aaaa(std::uint16_t qtype) {
  return qtype == wire::type::kAaaa || qtype == wire::type::kAny;
}

// An A or AAAA record for `ip` if `qtype` asks for that family.
std::optional<Record> ip_record(const std::string& name, const Ip& ip, std::uint16_t qtype,
                                std::uint32_t ttl) {
  Record r;
  r.name = name;
  r.ttl = ttl;
  if (!ip.v6 && wants_a(qtype)) {
    r.type = wire::type::kA;
    wire::ARdata a;
    std::copy_n(ip.bytes.begin(), 4, a.address.begin());
    r.rdata = a;
    return r;
  }
  if (ip.v6 && wants_aaaa(qtype)) {
    r.type = wire::type::kAaaa;
    r.rdata = wire::AaaaRdata{ip.bytes};
    return r;
  }
  return std::nullopt;
}

std::string hex_of(const Ip& ip) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < (ip.v6 ? 16u : 4u); ++i) {
    out += kDigits[ip.bytes[i] >> 4];
    out += kDigits[ip.bytes[i] & 0xf];
  }
  return out;
}

std::optional<Ip> ip_from_hex(std::string_view hex) {
  if (hex.size() != 8 && hex.size() != 32) return std::nullopt;
  Ip ip;
  ip.v6 = hex.size() == 32;
  auto nibble = [](char c) -> int {
    c = lower(c);
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    ip.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return ip;
}

template <typename T>
void shuffle(std::vector<T>& v, core::Rand& rand) {
  for (std::size_t i = v.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rand.next_u64() % i);
    std::swap(v[i - 1], v[j]);
  }
}

class Resolver {
 public:
  Resolver(const Message& query, const state::Snapshot& snap, const ResolverConfig& config,
           core::Rand& rand)
      : query_(query), snap_(snap), config_(config), rand_(rand) {}

  Message run() {
    Message resp;
    resp.header.id = query_.header.id;
    resp.header.qr = true;
    resp.header.opcode = query_.header.opcode;
    resp.header.rd = query_.header.rd;
    resp.questions = query_.questions;
    if (query_.edns) {
      wire::Edns edns;
      edns.udp_payload_size = query_.edns->udp_payload_size;
      resp.edns = edns;
    }
    if (query_.header.opcode != 0) {
      resp.header.rcode = wire::rcode::kNotImp;
      return resp;
    }
    if (query_.questions.size() != 1) {
      resp.header.rcode = wire::rcode::kFormErr;
      return resp;
    }
    const wire::Question& q = query_.questions.front();
    auto labels = wire::parse_name(q.name);
    auto domain = wire::parse_name(config_.domain);
    if (!labels || !domain) {
      resp.header.rcode = wire::rcode::kFormErr;
      return resp;
    }
    if (q.qclass != wire::kClassIn && q.qclass != wire::type::kAny) {
      resp.header.rcode = wire::rcode::kNotImp;
      return resp;
    }
    qname_ = q.name;
    if (!qname_.empty() && qname_.back() != '.') qname_ += '.';
    qtype_ = q.qtype;
    domain_ = wire::format_name(domain.value());
    resp_ = &resp;
    resp.header.aa = true;
    answer(labels.value(), domain.value());
    return resp;
  }

 private:
  void answer(const Labels& labels, const Labels& domain) {
    if (is_reverse(labels)) return ptr_lookup(labels);
    if (labels.size() < domain.size()) return refuse();
    std::size_t n = labels.size() - domain.size();
    for (std::size_t i = 0; i < domain.size(); ++i) {
      if (!label_equal(labels[n + i], domain[i])) return refuse();
    }
    if (n == 0) return apex();
    // The lookup kind is the last label before the domain, or the one before a datacenter.
    std::size_t kind_at = n - 1;
    std::optional<std::string> dc;
    if (!is_kind(labels[kind_at])) {
      if (n < 2 || !is_kind(labels[n - 2])) return not_found();
      dc = labels[n - 1];
      kind_at = n - 2;
    }
    if (dc && !label_equal(*dc, config_.datacenter)) return not_found();
    const std::string& kind = labels[kind_at];
    Labels parts(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(kind_at));
    if (parts.empty()) return not_found();
    if (label_equal(kind, "service")) return service_lookup(parts);
    if (label_equal(kind, "node")) return node_lookup(join(parts, 0, parts.size()));
    return addr_lookup(parts);
  }

  static bool is_kind(std::string_view label) {
    return label_equal(label, "service") || label_equal(label, "node") ||
           label_equal(label, "addr");
  }

  static bool is_reverse(const Labels& labels) {
    return labels.size() >= 2 && label_equal(labels[labels.size() - 1], "arpa") &&
           label_equal(labels[labels.size() - 2], "in-addr");
  }

  void refuse() {
    resp_->header.aa = false;
    resp_->header.rcode = wire::rcode::kRefused;
  }

  Record soa() const {
    Record r;
    r.name = domain_;
    r.type = wire::type::kSoa;
    r.ttl = config_.soa_min_ttl;
    wire::SoaRdata s;
    s.mname = "ns." + domain_;
    s.rname = "hostmaster." + domain_;
    s.serial = static_cast<std::uint32_t>(snap_.applied_index());
    s.refresh = config_.soa_refresh;
    s.retry = config_.soa_retry;
    s.expire = config_.soa_expire;
    s.minimum = config_.soa_min_ttl;
    r.rdata = s;
    return r;
  }

  void not_found() {
    resp_->header.rcode = wire::rcode::kNxDomain;
    resp_->authority.push_back(soa());
  }

  // NOERROR: the SOA goes in authority when nothing answered.
  void finish() {
    if (resp_->answers.empty()) resp_->authority.push_back(soa());
  }

  void apex() {
    if (qtype_ == wire::type::kSoa || qtype_ == wire::type::kAny) {
      Record r = soa();
      r.name = qname_;
      resp_->answers.push_back(r);
    }
    finish();
  }

  std::string node_target(const std::string& node) const {
    return node + ".node." + config_.datacenter + "." + domain_;
  }

  // Consul's CheckServiceNodes.Filter: any critical check (maintenance included) leaves the
  // instance out; with only_passing, so does any check that is not passing.
  bool healthy(const std::vector<state::HealthCheck>& checks, bool& warning) const {
    warning = false;
    for (const auto& c : checks) {
      if (c.status == state::kHealthPassing) continue;
      if (c.status == state::kHealthWarning) {
        if (config_.only_passing) return false;
        warning = true;
        continue;
      }
      return false;  // critical, maintenance, or anything unknown
    }
    return true;
  }

  void service_lookup(const Labels& parts) {
    std::string name;
    std::string tag;
    if (parts.size() == 2 && parts[0].starts_with('_') && parts[1].starts_with('_')) {
      name = parts[0].substr(1);
      tag = parts[1].substr(1);
      if (label_equal(tag, "tcp")) tag.clear();
    } else {
      name = parts.back();
      tag = join(parts, 0, parts.size() - 1);
    }
    struct Entry {
      state::Service service;
      std::string node_address;
      bool warning = false;
    };
    std::vector<Entry> entries;
    std::vector<std::string> tags;
    if (!tag.empty()) tags.push_back(tag);
    for (auto& s : snap_.service_instances(name)) {
      if (!tags.empty() && !endpoints::has_all_tags(s, tags)) continue;
      bool warning = false;
      if (!healthy(snap_.checks_for_instance(s.node, s.id), warning)) continue;
      auto node = snap_.node_get(s.node);
      if (!node) continue;
      entries.push_back(Entry{std::move(s), node->address, warning});
    }
    if (entries.empty()) return not_found();  // Consul: no healthy instance is NXDOMAIN
    shuffle(entries, rand_);
    const std::uint32_t ttl = service_ttl_for(config_, name);
    if (qtype_ == wire::type::kSrv) {
      std::set<std::tuple<std::string, std::string, int>> seen;
      std::set<std::string> extra_seen;
      for (const auto& e : entries) {
        const std::string& addr = e.service.address.empty() ? e.node_address : e.service.address;
        if (!seen.emplace(e.service.node, addr, e.service.port).second) continue;
        // The target is the node, or the service's own address when it has a different one.
        auto ip = parse_ip(addr);
        std::string target = node_target(e.service.node);
        if (ip && !e.service.address.empty() && e.service.address != e.node_address) {
          target = hex_of(*ip) + ".addr." + config_.datacenter + "." + domain_;
        }
        Record r;
        r.name = qname_;
        r.type = wire::type::kSrv;
        r.ttl = ttl;
        int weight = e.warning ? e.service.weights.warning : e.service.weights.passing;
        r.rdata = wire::SrvRdata{1, static_cast<std::uint16_t>(std::clamp(weight, 0, 65535)),
                                 static_cast<std::uint16_t>(e.service.port), target};
        resp_->answers.push_back(std::move(r));
        if (ip && extra_seen.insert(target).second) {
          if (auto extra = ip_record(target, *ip, wire::type::kAny, ttl)) {
            resp_->additional.push_back(std::move(*extra));
          }
        }
      }
      return finish();
    }
    std::set<std::string> seen;
    for (const auto& e : entries) {
      if (config_.a_record_limit > 0 && resp_->answers.size() >= config_.a_record_limit) break;
      const std::string& addr = e.service.address.empty() ? e.node_address : e.service.address;
      auto ip = parse_ip(addr);
      if (!ip || !seen.insert(addr).second) continue;
      if (auto r = ip_record(qname_, *ip, qtype_, ttl)) {
        resp_->answers.push_back(std::move(*r));
      }
    }
    finish();
  }

  void node_lookup(const std::string& name) {
    auto node = snap_.node_get(name);
    if (!node) return not_found();
    if (auto ip = parse_ip(node->address)) {
      if (auto r = ip_record(qname_, *ip, qtype_, config_.node_ttl)) {
        resp_->answers.push_back(std::move(*r));
      }
    }
    finish();
  }

  void addr_lookup(const Labels& parts) {
    if (parts.size() != 1) return not_found();
    auto ip = ip_from_hex(parts[0]);
    if (!ip) return not_found();
    if (auto r = ip_record(qname_, *ip, qtype_, config_.node_ttl)) {
      resp_->answers.push_back(std::move(*r));
    }
    finish();
  }

  void ptr_lookup(const Labels& labels) {
    if (labels.size() != 6) return not_found();
    std::string ip = labels[3] + "." + labels[2] + "." + labels[1] + "." + labels[0];
    auto parsed = parse_ip(ip);
    if (!parsed || parsed->v6) return not_found();
    std::vector<std::string> targets;
    for (const auto& node : snap_.node_list()) {
      if (node.address == ip) targets.push_back(node_target(node.node));
    }
    if (targets.empty()) {
      // Consul falls back to service instances with that address.
      std::set<std::string> names;
      for (const auto& [name, tags] : snap_.service_names()) {
        for (const auto& s : snap_.service_instances(name)) {
          if (s.address == ip) names.insert(s.service);
        }
      }
      for (const auto& n : names) targets.push_back(n + ".service." + domain_);
    }
    if (targets.empty()) return not_found();
    if (qtype_ == wire::type::kPtr || qtype_ == wire::type::kAny) {
      for (auto& t : targets) {
        Record r;
        r.name = qname_;
        r.type = wire::type::kPtr;
        r.ttl = config_.node_ttl;
        r.rdata = wire::PtrRdata{std::move(t)};
        resp_->answers.push_back(std::move(r));
      }
    }
    finish();
  }

  const Message& query_;
  const state::Snapshot& snap_;
  const ResolverConfig& config_;
  core::Rand& rand_;
  Message* resp_ = nullptr;
  std::string qname_;
  std::string domain_;
  std::uint16_t qtype_ = 0;
};

// Consul's trimUDPResponse, by count: a plain 512-byte UDP response keeps `limit` answers
// and the additional records that still belong to one of them.
void trim_udp(const Message& query, Message& resp, const ResolverConfig& config) {
  if (config.udp_answer_limit == 0 || resp.answers.size() <= config.udp_answer_limit) return;
  if (query.edns && query.edns->udp_payload_size > wire::kMaxUdpSize) return;
  resp.answers.resize(config.udp_answer_limit);
  std::set<std::string> targets;
  for (const auto& r : resp.answers) {
    if (const auto* srv = std::get_if<wire::SrvRdata>(&r.rdata)) targets.insert(srv->target);
  }
  std::erase_if(resp.additional, [&](const Record& r) {
    return r.type != wire::type::kOpt && targets.count(r.name) == 0;
  });
  if (config.enable_truncate) resp.header.tc = true;
}

}  // namespace

std::uint32_t service_ttl_for(const ResolverConfig& config, const std::string& name) {
  if (auto it = config.service_ttls.find(name); it != config.service_ttls.end()) {
    return it->second;
  }
  std::size_t best = 0;
  std::optional<std::uint32_t> ttl;
  for (const auto& [key, value] : config.service_ttls) {
    if (key.empty() || key.back() != '*') continue;
    std::string_view prefix(key.data(), key.size() - 1);
    if (!std::string_view(name).starts_with(prefix)) continue;
    if (!ttl || prefix.size() >= best) {
      best = prefix.size();
      ttl = value;
    }
  }
  return ttl.value_or(config.service_ttl);
}

wire::Message resolve(const wire::Message& query, const state::Snapshot& snap,
                      const ResolverConfig& config, core::Rand& rand, bool udp) {
  wire::Message resp = Resolver(query, snap, config, rand).run();
  if (udp) trim_udp(query, resp, config);
  return resp;
}

}  // namespace pc::dns
